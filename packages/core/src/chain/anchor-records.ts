import { Kind } from '@pcmims/contracts'
import type { Address, Hex } from 'viem'
import { BaseError } from '../errors/base-error.js'
import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type AnchorRecordsItem = { id: Hex; patient: Address; uploader: Address; kind: Kind }

export type AnchorRecordsParameters = WriteParameters & {
  /** At least one; all succeed or the whole transaction reverts (e.g. `RecordExists` for any of them). */
  records: readonly AnchorRecordsItem[]
}

export type AnchorRecordsReturnType = WriteReturnType & { ids: Hex[] }

/** Anchors several records in one transaction (a unit's outbox batching its staff's uploads). */
export async function anchorRecords(
  client: AnyClient,
  params: AnchorRecordsParameters,
): Promise<AnchorRecordsReturnType> {
  const { records, ...rest } = params
  if (records.length === 0) throw new BaseError('Nothing to anchor', { code: 'EMPTY_BATCH' })
  const result = await executeWrite(client, {
    ...rest,
    functionName: 'anchorRecords',
    args: [records.map((r) => ({ id: r.id, patient: r.patient, uploader: r.uploader, kind: Kind[r.kind] }))],
  })
  return { ...result, ids: records.map((r) => r.id) }
}
