import type { Address } from 'viem'
import { BaseError } from '../errors/base-error.js'
import { type AnyClient, executeRead, type ReadParameters } from './internal/execute.js'

export type GetLatestAuditSizeParameters = ReadParameters & { unit: Address }

/** Entries covered by `unit`'s latest audit-log anchor (0: never anchored). */
export type GetLatestAuditSizeReturnType = number

export async function getLatestAuditSize(
  client: AnyClient,
  params: GetLatestAuditSizeParameters,
): Promise<GetLatestAuditSizeReturnType> {
  const size = await executeRead<bigint>(client, {
    ...params,
    functionName: 'latestAuditSize',
    args: [params.unit],
  })
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new BaseError('The anchored audit log size is out of range', {
      code: 'AUDIT_SIZE_OUT_OF_RANGE',
      details: `${params.unit} anchored size ${size}`,
    })
  }
  return Number(size)
}
