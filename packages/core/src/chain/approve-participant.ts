import type { Address } from 'viem'
import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type ApproveParticipantParameters = WriteParameters & { account: Address }

export type ApproveParticipantReturnType = WriteReturnType

/** The unit approves one of its Pending or Suspended participants. The sender is the unit; `account` is the participant. */
export async function approveParticipant(
  client: AnyClient,
  params: ApproveParticipantParameters,
): Promise<ApproveParticipantReturnType> {
  const { account, ...rest } = params
  return executeWrite(client, { ...rest, functionName: 'approve', args: [account] })
}
