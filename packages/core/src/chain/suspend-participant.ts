import type { Address } from 'viem'
import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type SuspendParticipantParameters = WriteParameters & { account: Address }

export type SuspendParticipantReturnType = WriteReturnType

/** The unit suspends one of its Approved participants. The sender is the unit; `account` is the participant. */
export async function suspendParticipant(
  client: AnyClient,
  params: SuspendParticipantParameters,
): Promise<SuspendParticipantReturnType> {
  const { account, ...rest } = params
  return executeWrite(client, { ...rest, functionName: 'suspend', args: [account] })
}
