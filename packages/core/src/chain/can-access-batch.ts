import type { Address, Hex } from 'viem'
import { type AnyClient, executeRead, type ReadParameters } from './internal/execute.js'

export type CanAccessBatchParameters = ReadParameters & { grantee: Address; recordIds: readonly Hex[] }

export type CanAccessBatchReturnType = boolean[]

/** `canAccess` for many records in one call, in the same order. */
export async function canAccessBatch(
  client: AnyClient,
  params: CanAccessBatchParameters,
): Promise<CanAccessBatchReturnType> {
  if (params.recordIds.length === 0) return []
  const result = await executeRead<readonly boolean[]>(client, {
    ...params,
    functionName: 'canAccessBatch',
    args: [params.grantee, params.recordIds],
  })
  return [...result]
}
