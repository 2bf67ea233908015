import { dagCborCidFromDigest, decodeEnvelope } from '@pcmims/core'
import { type Address, getAddress, type Hex } from 'viem'
import type { NodeContext } from '../context.js'
import { type CustodialRecord, openCustodialRecord } from '../custody/open-custodial-record.js'
import { decryptedAccessAllowed } from '../http/routes/custody.js'
import type { IndexedStudy, ReadableStudy } from './study-source.js'

export type { IndexedStudy, ReadableStudy }

type Cache = Map<Hex, Promise<IndexedStudy | null>>

/*
 * The QIDO-RS index: the study part of each custodial record's manifest, decrypted with the unit's key
 * and kept in this process's memory only. It holds PHI (names, dates, accession numbers), so it is never
 * written to disk or to the database: a restart rebuilds it by opening the manifests again. A record's
 * manifest never changes (a new key is a new record), so an entry is kept for the process's life; a record
 * that is not custodial here, or not a DICOM study, is remembered as null.
 */
const caches = new WeakMap<object, Cache>()

function cacheOf(ctx: NodeContext): Cache {
  let cache = caches.get(ctx)
  if (!cache) {
    cache = new Map()
    caches.set(ctx, cache)
  }
  return cache
}

export type ListCustodialStudiesParameters = {
  signal?: AbortSignal | undefined
  /** Opens a record (the DICOMweb service passes its cached opener). */
  open?: ((recordId: Hex, signal: AbortSignal | undefined) => Promise<CustodialRecord>) | undefined
}

/** Every current (not superseded) DICOM study record this node is custodian of. */
export async function listCustodialStudies(
  ctx: NodeContext,
  { signal, open }: ListCustodialStudiesParameters = {},
): Promise<IndexedStudy[]> {
  const rows = ctx.db
    .prepare(
      'SELECT id, patient, created_at FROM records WHERE superseded_by IS NULL ORDER BY block_number, id',
    )
    .all() as Array<{ id: string; patient: string; created_at: number }>
  const cache = cacheOf(ctx)
  const out: IndexedStudy[] = []
  for (const row of rows) {
    const id = row.id.toLowerCase() as Hex
    let entry = cache.get(id)
    if (!entry) {
      entry = indexRecord(ctx, id, getAddress(row.patient), row.created_at, signal, open)
      cache.set(id, entry)
      // A transient failure (store, abort) must not be remembered as "not a study".
      entry.catch(() => cache.delete(id))
    }
    const study = await entry
    if (study) out.push(study)
  }
  return out
}

async function indexRecord(
  ctx: NodeContext,
  recordId: Hex,
  patient: Address,
  createdAt: number,
  signal: AbortSignal | undefined,
  open: ListCustodialStudiesParameters['open'],
): Promise<IndexedStudy | null> {
  if (!(await isCustodial(ctx, recordId))) return null
  const { manifest } = open
    ? await open(recordId, signal)
    : await openCustodialRecord(ctx, recordId, { signal })
  if (!manifest.study) return null
  return { recordId, patient, createdAt, study: manifest.study }
}

/** Whether the envelope is held here and names this unit, without unwrapping anything. */
async function isCustodial(ctx: NodeContext, recordId: Hex): Promise<boolean> {
  const cid = dagCborCidFromDigest(recordId)
  if (!(await ctx.store.has(cid))) return false
  return decodeEnvelope(await ctx.store.getBlock(cid)).unit === ctx.unit.address
}

/**
 * The studies `caller` may have decrypted by this node (patient, download grantee, medic in an
 * emergency), asked of the chain in one batch and then record by record for the basis.
 */
export async function readableStudies(
  ctx: NodeContext,
  caller: Address,
  studies: IndexedStudy[],
): Promise<ReadableStudy[]> {
  if (studies.length === 0) return []
  // One study (every WADO-RS request) needs one chain call, not a batch call and then the basis.
  const allowed =
    studies.length === 1
      ? [true]
      : await ctx.chain.reader.canAccessBatch(
          caller,
          studies.map((s) => s.recordId),
        )
  const out: ReadableStudy[] = []
  for (const [i, study] of studies.entries()) {
    if (!allowed[i]) continue
    const access = await ctx.chain.reader.access(caller, study.recordId)
    if (decryptedAccessAllowed(access)) {
      out.push({ ...study, emergency: access.basis === 'Emergency', access: 'download' })
    }
  }
  return out
}
