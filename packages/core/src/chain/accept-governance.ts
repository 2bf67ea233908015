import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type AcceptGovernanceParameters = WriteParameters

export type AcceptGovernanceReturnType = WriteReturnType

/** Second step of the handover, sent by the pending governance. */
export async function acceptGovernance(
  client: AnyClient,
  params: AcceptGovernanceParameters,
): Promise<AcceptGovernanceReturnType> {
  return executeWrite(client, { ...params, functionName: 'acceptGovernance', args: [] })
}
