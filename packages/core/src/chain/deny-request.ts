import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type DenyRequestParameters = WriteParameters & { id: bigint }

export type DenyRequestReturnType = WriteReturnType

/** The patient denies a pending request. */
export async function denyRequest(
  client: AnyClient,
  params: DenyRequestParameters,
): Promise<DenyRequestReturnType> {
  return executeWrite(client, { ...params, functionName: 'denyRequest', args: [params.id] })
}
