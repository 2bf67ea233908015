import type { Address } from 'viem'
import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type RejectParticipantParameters = WriteParameters & { account: Address }

export type RejectParticipantReturnType = WriteReturnType

/** The unit rejects a Pending registration (the account may register again). The sender is the unit; `account` is the participant. */
export async function rejectParticipant(
  client: AnyClient,
  params: RejectParticipantParameters,
): Promise<RejectParticipantReturnType> {
  const { account, ...rest } = params
  return executeWrite(client, { ...rest, functionName: 'reject', args: [account] })
}
