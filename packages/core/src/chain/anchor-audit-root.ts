import type { Hex } from 'viem'
import {
  type AnyClient,
  eventOf,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type AnchorAuditRootParameters = WriteParameters & {
  /** Entries the root covers; must exceed the sender unit's previous anchored size. */
  size: number | bigint
  /** RFC 9162 Merkle root of the unit's audit log at `size` entries. */
  root: Hex
}

export type AnchorAuditRootReturnType = WriteReturnType & { size: number; root: Hex }

/**
 * Anchors the sender unit's audit-log root (one new storage slot and an `AuditRootAnchored` event). Only
 * an Approved unit may send, for its own log, with a size larger than its last one.
 */
export async function anchorAuditRoot(
  client: AnyClient,
  params: AnchorAuditRootParameters,
): Promise<AnchorAuditRootReturnType> {
  const result = await executeWrite(client, {
    ...params,
    functionName: 'anchorAuditRoot',
    args: [BigInt(params.size), params.root],
  })
  const event = eventOf(result, 'AuditRootAnchored')
  return { ...result, size: Number(event.args.size), root: event.args.root }
}
