import type { Address, Hex } from 'viem'
import { type AnyClient, executeRead, type ReadParameters } from './internal/execute.js'

export type GetAuditRootParameters = ReadParameters & { unit: Address; size: number | bigint }

/** The root `unit` anchored for its audit log at `size` entries, or `null` if it never anchored that size. */
export type GetAuditRootReturnType = Hex | null

export async function getAuditRoot(
  client: AnyClient,
  params: GetAuditRootParameters,
): Promise<GetAuditRootReturnType> {
  const root = await executeRead<Hex>(client, {
    ...params,
    functionName: 'auditRoot',
    args: [params.unit, BigInt(params.size)],
  })
  return /^0x0{64}$/.test(root) ? null : root
}
