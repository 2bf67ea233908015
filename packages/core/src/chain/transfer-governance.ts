import { type Address, zeroAddress } from 'viem'
import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type TransferGovernanceParameters = WriteParameters & {
  /** The next governance, which must call `acceptGovernance`; the zero address cancels a pending handover. */
  next: Address
}

export type TransferGovernanceReturnType = WriteReturnType

/** First step of the two-step governance handover. */
export async function transferGovernance(
  client: AnyClient,
  params: TransferGovernanceParameters,
): Promise<TransferGovernanceReturnType> {
  return executeWrite(client, {
    ...params,
    functionName: 'transferGovernance',
    args: [params.next ?? zeroAddress],
  })
}
