import type { Address, Hex } from 'viem'
import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type AnchorDeidentifiedCopyParameters = WriteParameters & {
  /** The copy's record id: the sha-256 digest of its envelope's CID. */
  id: Hex
  /** The current record the copy was made from. */
  sourceId: Hex
  /** The one reader of the copy besides the patient and the custodian: an Approved participant with a live grant. */
  audience: Address
}

export type AnchorDeidentifiedCopyReturnType = WriteReturnType & { id: Hex }

/**
 * Anchors a de-identified copy of `sourceId` for `audience` (same patient, kind and custodian; flagged
 * de-identified). By the source's patient, or relayed by its custodian unit.
 */
export async function anchorDeidentifiedCopy(
  client: AnyClient,
  params: AnchorDeidentifiedCopyParameters,
): Promise<AnchorDeidentifiedCopyReturnType> {
  const result = await executeWrite(client, {
    ...params,
    functionName: 'anchorDeidentifiedCopy',
    args: [params.id, params.sourceId, params.audience],
  })
  return { ...result, id: params.id }
}
