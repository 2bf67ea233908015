import type { Address, Hex } from 'viem'
import { type AnyClient, executeRead, type ReadParameters } from './internal/execute.js'

export type CanAccessParameters = ReadParameters & { grantee: Address; recordId: Hex }

export type CanAccessReturnType = boolean

/** The contract's answer to "may `grantee` read `recordId` now?" — every reader checks it before serving. */
export async function canAccess(
  client: AnyClient,
  params: CanAccessParameters,
): Promise<CanAccessReturnType> {
  return executeRead<boolean>(client, {
    ...params,
    functionName: 'canAccess',
    args: [params.grantee, params.recordId],
  })
}
