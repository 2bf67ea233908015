import { type Address, getAddress, type Hex } from 'viem'
import type { RecordKind } from '../records/schema-helpers.js'
import { AccessDeniedError } from './errors.js'
import { closeRecord, type OpenedRecord, openRecord } from './open-record.js'
import type { PcmimsClient } from './pcmims-client.js'

export type RecordSummary = {
  id: Hex
  patient: Address
  uploader: Address
  kind: RecordKind
  unitIndex: number
  /** Anchor time (unix seconds). */
  createdAt: number
  txHash: Hex
  /** Set for a de-identified copy: the record it was made from. */
  deidentifiedFrom?: Hex | undefined
  /** Set for a de-identified copy: the one requestor it was made for. */
  audience?: Address | undefined
  /** Present when the manifest was opened (details requested, or filtering by appointment/date). */
  details?: {
    appointment?: string | undefined
    description?: string | undefined
    date: string
    files: number
    bytes: number
  }
}

export type ListRecordsParameters = {
  patient?: Address | undefined
  kind?: RecordKind | undefined
  /** Filters on the encrypted manifest: needs the key, so it is applied here, never on the node. */
  appointment?: string | undefined
  from?: string | undefined
  to?: string | undefined
  /** Open each manifest to show appointment, description, date and file count. */
  withDetails?: boolean | undefined
  signal?: AbortSignal | undefined
}

/**
 * A patient's records as the caller may see them: the node lists what the chain index holds and the
 * chain allows; appointment and date filters run here after decrypting each manifest, because those
 * never leave the encrypted manifest.
 */
export async function listRecords(
  client: PcmimsClient,
  params: ListRecordsParameters = {},
): Promise<RecordSummary[]> {
  const patient = getAddress(params.patient ?? client.account.address)
  const { records } = await client.node.json<{ records: RecordSummary[] }>('GET', '/api/v1/records', {
    query: { patient, kind: params.kind },
    signal: params.signal,
  })
  const needDetails = params.withDetails || params.appointment !== undefined || params.from || params.to
  if (!needDetails) return records
  const out: RecordSummary[] = []
  for (const record of records) {
    let opened: OpenedRecord
    try {
      opened = await openRecord(client, { recordId: record.id, signal: params.signal })
    } catch (error) {
      // A de-identified-only grantee sees that a record exists, never what the original says.
      if (error instanceof AccessDeniedError && error.code === 'DEIDENTIFIED_ONLY') {
        if (params.appointment === undefined && !params.from && !params.to) out.push(record)
        continue
      }
      throw error
    }
    const { manifest } = opened
    closeRecord(opened)
    if (params.appointment !== undefined && manifest.appointment !== params.appointment) continue
    if (params.from && manifest.date < params.from) continue
    if (params.to && manifest.date > params.to) continue
    out.push({
      ...record,
      details: {
        appointment: manifest.appointment,
        description: manifest.description,
        date: manifest.date,
        files: manifest.files.length,
        bytes: manifest.files.reduce((n, f) => n + f.size, 0),
      },
    })
  }
  return out
}
