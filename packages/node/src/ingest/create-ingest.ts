import { randomUUID } from 'node:crypto'
import {
  BaseError,
  type DicomStudyGroup,
  dicomDateToIso,
  encryptRecordFile,
  extractInstanceMetadata,
  generateDek,
  groupIntoStudies,
  type HeldStudy,
  type InstanceMetadata,
  kindOf,
  type ManifestFile,
  openBytes,
  parseDicomFile,
  type RecordRecipient,
  recordIdFromCid,
  type StoreCiphertext,
  sealBytes,
  sealRecord,
  toStudyManifest,
  zeroPreamble,
} from '@pcmims/core'
import { CID } from 'multiformats/cid'
import { type Address, getAddress, type Hex, hexToBytes } from 'viem'
import type { NodeContext } from '../context.js'
import { transaction } from '../db/open-database.js'
import { StoreStatus } from '../dimse/constants.js'
import { deriveAtRestKeys } from './at-rest-keys.js'
import { IngestError } from './errors.js'
import { standingGrantees } from './standing-grantees.js'

/** Where instances come from: a DICOM peer (by AE title) or a signed-in uploader over STOW-RS. */
export type IngestSource =
  | { kind: 'dimse'; callingAeTitle: string; uploader: Address }
  | { kind: 'stow'; uploader: Address; patient?: Address | undefined }

export type AddInstanceParameters = {
  source: IngestSource
  /** A DICOM Part 10 file. */
  bytes: Uint8Array
  /** The SOP Instance UID the sender announced (DIMSE command): the data set must carry the same. */
  expectedSopInstanceUid?: string | undefined
  /** The study the sender stores into (STOW-RS `/studies/{study}`): other studies' instances are refused. */
  expectedStudyInstanceUid?: string | undefined
  /** Groups the instance with others whose fate is one answer (a STOW-RS request); see {@link IngestSession}. */
  session?: IngestSession | undefined
  /** Names the input in errors (never a patient name: an AE title, a part number). */
  label?: string | undefined
  signal?: AbortSignal | undefined
}

export type AddInstanceReturnType = {
  batchId: string
  sopClassUid: string
  sopInstanceUid: string
  studyInstanceUid: string
  seriesInstanceUid: string
  /** The batch already held this SOP instance: kept the first copy. */
  duplicate: boolean
}

/** A study the unit must name the patient of, as its staff sees it (PHI: served to the unit only). */
export type { HeldStudy }

/**
 * Instances added under one answer, e.g. a STOW-RS request: their studies are not sealed while it is open,
 * and `abort` takes back what it added (a request cut half way stores nothing), `commit` lets them seal.
 */
export type IngestSession = {
  commit(): void
  abort(): Promise<void>
}

export type IngestBatchState = 'open' | 'sealing' | 'held' | 'sealed' | 'discarded'

export type Ingest = {
  /** Takes one instance; resolves once it is encrypted and durably held (only then may it be acknowledged). */
  addInstance(params: AddInstanceParameters): Promise<AddInstanceReturnType>
  openSession(): IngestSession
  /** Seals every open study of this source now instead of after the quiet period. */
  flushSource(source: IngestSource): Promise<void>
  /** Resolves once no study is being sealed and none is waiting for its quiet period. */
  idle(): Promise<void>
  batch(id: string): { state: IngestBatchState; recordId: Hex | null; reason: string | null } | undefined
  listHeld(): Promise<HeldStudy[]>
  /** Names the patient of a held study and seals it; `remember` adds its Patient ID to the MRN map. */
  resolveHeld(id: string, patient: Address, options: { remember: boolean; by: Address }): Promise<void>
  discardHeld(id: string): Promise<void>
  /** Maps a Patient ID (MRN) of this unit to a patient account; held studies of that MRN are sealed. */
  mapPatient(patientId: string, patient: Address, by: Address): Promise<{ released: number }>
  unmapPatient(patientId: string): boolean
  lookupPatient(patientId: string): Address | undefined
  stop(): Promise<void>
}

export type CreateIngestParameters = {
  /** A study is sealed into a record once no instance arrived for it this long. */
  quietPeriodMs: number
  maxInstanceBytes: number
}

type BatchRow = {
  id: string
  source: string
  study_key: string
  patient_key: string
  uploader: string
  patient: string | null
  sealed_dek: Uint8Array
  sealed_meta: Uint8Array
  state: IngestBatchState
  hold_reason: string | null
  record_id: string | null
  instances: number
  bytes: number
  created_at: number
  updated_at: number
}

type InstanceRow = {
  seq: number
  cid: string
  size: number
  ciphertext_size: number
  sha256: Uint8Array
  sealed_meta: Uint8Array
}

/** What a batch remembers of its study, sealed: shown for held studies, checked against each instance. */
type BatchMeta = {
  studyInstanceUid: string
  patientId?: string | undefined
  patientName?: string | undefined
  patientBirthDate?: string | undefined
  patientSex?: string | undefined
  studyDate?: string | undefined
  studyDescription?: string | undefined
  accessionNumber?: string | undefined
  modalities: string[]
}

/**
 * Node-side DICOM ingest, for senders that cannot encrypt (modalities and PACS over C-STORE, DICOMweb
 * clients over STOW-RS). The node is the edge here: each instance is encrypted under its study's fresh data
 * key as it arrives and stored before it is acknowledged; instances of one study from one source gather in
 * a batch until none arrived for the quiet period (a PACS may send a study over several associations), then
 * the batch is sealed into one record — manifest, envelope with the key wrapped for the patient, this unit
 * and standing grantees — and queued for anchoring through the outbox, relayed by the unit and naming the
 * source's uploader. The patient is found through the unit's MRN map; a study of an unknown Patient ID is
 * held, never guessed, until the unit's staff names its patient. A restart resumes open batches.
 */
export function createIngest(ctx: Omit<NodeContext, 'ingest'>, params: CreateIngestParameters): Ingest {
  const keys = deriveAtRestKeys(ctx.unit)
  const timers = new Map<string, NodeJS.Timeout>()
  const sealing = new Map<string, Promise<void>>()
  /** Batch creation per (source, study), so two instances racing do not open two batches. */
  const opening = new Map<string, Promise<BatchRow>>()
  /** Open sessions touching each batch: a batch is not sealed while one is open. */
  const inflight = new Map<string, number>()
  let stopped = false

  type SessionState = {
    touched: Set<string>
    added: Array<{ batchId: string; sopKey: string; cid: string }>
  }
  const sessions = new WeakMap<IngestSession, SessionState>()

  function closeSession(state: SessionState): void {
    for (const id of state.touched) {
      const left = (inflight.get(id) ?? 1) - 1
      if (left > 0) inflight.set(id, left)
      else inflight.delete(id)
      schedule(id)
    }
    state.touched.clear()
  }

  function openSession(): IngestSession {
    const state: SessionState = { touched: new Set(), added: [] }
    let closed = false
    const session: IngestSession = {
      commit() {
        if (closed) return
        closed = true
        closeSession(state)
      },
      async abort() {
        if (closed) return
        closed = true
        const unpin: string[] = []
        transaction(ctx.db, () => {
          for (const { batchId, sopKey, cid } of state.added) {
            const row = ctx.db
              .prepare('SELECT size FROM ingest_instances WHERE batch_id = ? AND sop_key = ?')
              .get(batchId, sopKey) as { size: number } | undefined
            if (!row) continue
            ctx.db
              .prepare('DELETE FROM ingest_instances WHERE batch_id = ? AND sop_key = ?')
              .run(batchId, sopKey)
            ctx.db
              .prepare('UPDATE ingest_batches SET instances = instances - 1, bytes = bytes - ? WHERE id = ?')
              .run(row.size, batchId)
            const dropped = ctx.db
              .prepare(
                `DELETE FROM blobs WHERE cid = ? AND cid NOT IN (SELECT cid FROM record_blobs)
                 AND cid NOT IN (SELECT cid FROM ingest_instances)`,
              )
              .run(cid).changes
            if (dropped > 0) unpin.push(cid)
          }
          // A batch this session alone filled is gone with it.
          for (const id of state.touched) {
            ctx.db
              .prepare(
                `UPDATE ingest_batches SET state = 'discarded' WHERE id = ? AND instances = 0 AND state IN ('open', 'held')`,
              )
              .run(id)
          }
        })
        for (const cid of unpin) await ctx.store.unpin(CID.parse(cid)).catch(() => {})
        closeSession(state)
      },
    }
    sessions.set(session, state)
    return session
  }

  const seal = (value: unknown) =>
    sealBytes(new TextEncoder().encode(JSON.stringify(value)), { dek: keys.dataKey })
  const sealWith = (dek: Uint8Array, value: unknown) =>
    sealBytes(new TextEncoder().encode(JSON.stringify(value)), { dek })
  const open = async <T>(sealed: Uint8Array, dek: Uint8Array = keys.dataKey): Promise<T> =>
    JSON.parse(new TextDecoder().decode(await openBytes(sealed, { dek }))) as T

  const store: StoreCiphertext = async (ciphertext, { signal }) => {
    const { cid, size } = await ctx.store.add(ciphertext, { signal })
    return { cid: cid.toString(), size }
  }

  const getBatch = (id: string) =>
    ctx.db.prepare('SELECT * FROM ingest_batches WHERE id = ?').get(id) as BatchRow | undefined

  function sourceKey(source: IngestSource): string {
    return source.kind === 'dimse'
      ? `dimse:${source.callingAeTitle}:${source.uploader.toLowerCase()}`
      : `stow:${source.uploader.toLowerCase()}:${source.patient?.toLowerCase() ?? ''}`
  }

  function schedule(id: string, delay = params.quietPeriodMs): void {
    if (stopped) return
    clearTimeout(timers.get(id))
    const timer = setTimeout(() => {
      timers.delete(id)
      void sealBatch(id)
    }, delay)
    timer.unref()
    timers.set(id, timer)
  }

  async function openBatch(source: IngestSource, studyKey: string, meta: BatchMeta): Promise<BatchRow> {
    const key = `${sourceKey(source)}\0${studyKey}`
    const pending = opening.get(key)
    if (pending) return pending
    const promise = (async () => {
      const existing = ctx.db
        .prepare(
          `SELECT * FROM ingest_batches WHERE state IN ('open', 'held') AND source = ? AND study_key = ?
           ORDER BY created_at DESC`,
        )
        .get(sourceKey(source), studyKey) as BatchRow | undefined
      if (existing) return existing
      const patientKey = keys.lookup('mrn', (meta.patientId ?? '').trim())
      const patient =
        source.kind === 'stow' && source.patient
          ? source.patient
          : meta.patientId?.trim()
            ? lookupPatient(meta.patientId)
            : undefined
      const dek = generateDek()
      const row: BatchRow = {
        id: randomUUID(),
        source: sourceKey(source),
        study_key: studyKey,
        patient_key: patientKey,
        uploader: getAddress(source.uploader),
        patient: patient ?? null,
        sealed_dek: await sealBytes(dek, { dek: keys.dataKey }),
        sealed_meta: await seal(meta),
        state: 'open',
        hold_reason: null,
        record_id: null,
        instances: 0,
        bytes: 0,
        created_at: Date.now(),
        updated_at: Date.now(),
      }
      dek.fill(0)
      ctx.db
        .prepare(
          `INSERT INTO ingest_batches (id, source, study_key, patient_key, uploader, patient, sealed_dek, sealed_meta,
           state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)`,
        )
        .run(
          row.id,
          row.source,
          row.study_key,
          row.patient_key,
          row.uploader,
          row.patient,
          row.sealed_dek,
          row.sealed_meta,
          row.created_at,
          row.updated_at,
        )
      return row
    })().finally(() => opening.delete(key))
    opening.set(key, promise)
    return promise
  }

  async function addInstance(p: AddInstanceParameters): Promise<AddInstanceReturnType> {
    if (stopped) {
      throw new IngestError('INGEST_STOPPED', 'The node is shutting down', {
        dimseStatus: StoreStatus.OutOfResources,
      })
    }
    const label = p.label ?? 'instance'
    if (p.bytes.length > params.maxInstanceBytes) {
      throw new IngestError('INGEST_TOO_LARGE', `${label} is larger than ${params.maxInstanceBytes} bytes`, {
        dimseStatus: StoreStatus.OutOfResources,
      })
    }
    let metadata: InstanceMetadata
    let fromDataset: InstanceMetadata
    try {
      const parsed = parseDicomFile(p.bytes, { maxBytes: params.maxInstanceBytes, fileName: label })
      metadata = extractInstanceMetadata(parsed)
      fromDataset = extractInstanceMetadata(parsed.dataset)
    } catch (cause) {
      throw new IngestError('INGEST_UNREADABLE', `${label} is not readable DICOM`, {
        details: cause instanceof BaseError ? cause.shortMessage : undefined,
        cause,
        dimseStatus: StoreStatus.CannotUnderstand,
      })
    }
    const { studyInstanceUid, seriesInstanceUid, sopInstanceUid, sopClassUid } = metadata
    if (
      !studyInstanceUid ||
      !seriesInstanceUid ||
      !sopInstanceUid ||
      !sopClassUid ||
      !fromDataset.sopInstanceUid
    ) {
      throw new IngestError('INGEST_MISSING_UID', `${label} lacks a Study, Series or SOP Instance UID`, {
        dimseStatus: StoreStatus.CannotUnderstand,
      })
    }
    if (p.expectedSopInstanceUid !== undefined && fromDataset.sopInstanceUid !== p.expectedSopInstanceUid) {
      throw new IngestError(
        'INGEST_SOP_MISMATCH',
        `${label}: the data set's SOP Instance UID is not the announced one`,
        {
          dimseStatus: StoreStatus.DataSetDoesNotMatchSopClass,
        },
      )
    }
    if (p.expectedStudyInstanceUid !== undefined && studyInstanceUid !== p.expectedStudyInstanceUid) {
      throw new IngestError(
        'INGEST_STUDY_MISMATCH',
        `${label} belongs to another study than the one stored into`,
        {
          dimseStatus: StoreStatus.DataSetDoesNotMatchSopClass,
          sopClassUid,
          sopInstanceUid,
        },
      )
    }
    const meta: BatchMeta = {
      studyInstanceUid,
      patientId: metadata.patientId,
      patientName: metadata.patientName,
      patientBirthDate: metadata.patientBirthDate,
      patientSex: metadata.patientSex,
      studyDate: metadata.studyDate,
      studyDescription: metadata.studyDescription,
      accessionNumber: metadata.accessionNumber,
      modalities: metadata.modality ? [metadata.modality] : [],
    }
    const batch = await openBatch(p.source, keys.lookup('study', studyInstanceUid), meta)
    const secrets = await secretsOf(batch)
    const first = secrets.meta
    if (!samePatient(first, meta)) {
      // No names or IDs in the message: it reaches logs and the sender.
      throw new IngestError(
        'INGEST_PATIENT_MISMATCH',
        `${label}: its patient differs from the rest of its study`,
        {
          dimseStatus: StoreStatus.CannotUnderstand,
        },
      )
    }
    const session = p.session ? sessions.get(p.session) : undefined
    if (session && !session.touched.has(batch.id)) {
      session.touched.add(batch.id)
      inflight.set(batch.id, (inflight.get(batch.id) ?? 0) + 1)
    }
    const sopKey = keys.lookup('sop', sopInstanceUid)
    const result = { batchId: batch.id, sopClassUid, sopInstanceUid, studyInstanceUid, seriesInstanceUid }
    const seen = () =>
      ctx.db
        .prepare('SELECT 1 FROM ingest_instances WHERE batch_id = ? AND sop_key = ?')
        .get(batch.id, sopKey)
    if (seen()) {
      schedule(batch.id)
      return { ...result, duplicate: true }
    }

    // A copy of its own: the cached key is wiped when the batch is sealed, maybe while this one works.
    const dek = secrets.dek.slice()
    try {
      const bytes = zeroPreamble(p.bytes)
      const file = await encryptRecordFile({
        dek,
        path: 'instance.dcm',
        mediaType: 'application/dicom',
        plaintext: chunksOf(bytes),
        store,
        signal: p.signal,
      })
      const sealedMeta = await sealWith(dek, metadata)
      const added = transaction(ctx.db, () => {
        if (seen()) return false
        const current = getBatch(batch.id)
        // Being sealed (or sealed) meanwhile: the instance goes to a new batch of the study.
        if (current?.state !== 'open' && current?.state !== 'held') return null
        const seq = current.instances
        ctx.db
          .prepare(
            `INSERT INTO ingest_instances (batch_id, sop_key, seq, cid, size, ciphertext_size, sha256, sealed_meta)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            batch.id,
            sopKey,
            seq,
            file.cid.toString(),
            file.size,
            file.ciphertextSize,
            file.sha256,
            sealedMeta,
          )
        ctx.db
          .prepare(
            `INSERT INTO blobs (cid, uploader, size, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (cid) DO NOTHING`,
          )
          .run(file.cid.toString(), batch.uploader, file.ciphertextSize, Date.now())
        ctx.db
          .prepare(
            'UPDATE ingest_batches SET instances = instances + 1, bytes = bytes + ?, updated_at = ? WHERE id = ?',
          )
          .run(file.size, Date.now(), batch.id)
        return true
      })
      if (added === null) return addInstance(p)
      if (added && session) session.added.push({ batchId: batch.id, sopKey, cid: file.cid.toString() })
      schedule(batch.id)
      return { ...result, duplicate: !added }
    } finally {
      dek.fill(0)
    }
  }

  /**
   * The data key and study facts of a batch still receiving, opened once instead of for every instance (each
   * open is a key derivation and a decryption); wiped when the batch is sealed, held, discarded or at stop.
   */
  const secretCache = new Map<string, Promise<{ dek: Uint8Array; meta: BatchMeta }>>()
  function secretsOf(batch: BatchRow): Promise<{ dek: Uint8Array; meta: BatchMeta }> {
    let cached = secretCache.get(batch.id)
    if (!cached) {
      cached = (async () => ({
        dek: await openBytes(batch.sealed_dek, { dek: keys.dataKey }),
        meta: await open<BatchMeta>(batch.sealed_meta),
      }))()
      secretCache.set(batch.id, cached)
      cached.catch(() => secretCache.delete(batch.id))
    }
    return cached
  }
  function forgetSecrets(id: string): void {
    const cached = secretCache.get(id)
    secretCache.delete(id)
    cached?.then(
      ({ dek }) => dek.fill(0),
      () => {},
    )
  }

  /** Seals a batch into a record (or holds it); never throws: failures are logged and retried. */
  function sealBatch(id: string): Promise<void> {
    const running = sealing.get(id)
    if (running) return running
    const promise = sealOnce(id)
      .catch((error) => {
        ctx.logger.warn({ batch: id, err: error }, 'sealing a received study failed; retrying later')
        schedule(id, Math.max(params.quietPeriodMs, 5_000))
      })
      .finally(() => {
        sealing.delete(id)
        forgetSecrets(id)
      })
    sealing.set(id, promise)
    return promise
  }

  async function sealOnce(id: string): Promise<void> {
    const batch = getBatch(id)
    if (!batch || (batch.state !== 'open' && batch.state !== 'held')) return
    if ((inflight.get(id) ?? 0) > 0) return
    if (batch.state === 'held' && !batch.patient) return
    // Claimed: instances arriving from now on open a new batch instead of missing this record.
    ctx.db.prepare(`UPDATE ingest_batches SET state = 'sealing' WHERE id = ?`).run(id)
    try {
      await sealClaimed(batch)
    } catch (error) {
      ctx.db
        .prepare(`UPDATE ingest_batches SET state = ? WHERE id = ? AND state = 'sealing'`)
        .run(batch.state, id)
      throw error
    }
  }

  async function sealClaimed(batch: BatchRow): Promise<void> {
    const id = batch.id
    if (!batch.patient) {
      const { meta } = await secretsOf(batch)
      return hold(
        batch,
        meta.patientId?.trim()
          ? 'unknown patient: no account is mapped to its Patient ID'
          : 'no Patient ID in the study: name its patient by hand',
      )
    }
    const patient = getAddress(batch.patient)
    const patientInfo = await ctx.chain.reader.participant(patient)
    if (patientInfo.role !== 'Patient' || patientInfo.status !== 'Approved') {
      return hold(
        batch,
        `the mapped account is not an approved patient (${patientInfo.role}, ${patientInfo.status})`,
      )
    }
    const uploader = getAddress(batch.uploader)
    const uploaderInfo = await ctx.chain.reader.participant(uploader)
    if (
      uploaderInfo.role !== 'Uploader' ||
      uploaderInfo.status !== 'Approved' ||
      uploaderInfo.unit !== ctx.unit.address
    ) {
      return hold(batch, "the sender's uploader account is not an approved uploader of this unit")
    }
    const rows = ctx.db
      .prepare(
        'SELECT seq, cid, size, ciphertext_size, sha256, sealed_meta FROM ingest_instances WHERE batch_id = ? ORDER BY seq',
      )
      .all(id) as InstanceRow[]
    if (rows.length === 0) return
    const dek = await openBytes(batch.sealed_dek, { dek: keys.dataKey })
    try {
      const instances: Array<{ metadata: InstanceMetadata; row: InstanceRow }> = []
      for (const row of rows)
        instances.push({ metadata: await open<InstanceMetadata>(row.sealed_meta, dek), row })
      let study: DicomStudyGroup<(typeof instances)[number]>
      try {
        study = (groupIntoStudies(instances) as [DicomStudyGroup<(typeof instances)[number]>])[0]
      } catch (error) {
        return hold(batch, `its instances do not form one study (${(error as BaseError).code ?? 'invalid'})`)
      }
      const files: ManifestFile[] = []
      const pathOf = new Map<(typeof instances)[number], string>()
      for (const [seriesIndex, series] of study.series.entries()) {
        for (const [i, instance] of series.instances.entries()) {
          const path = `series-${String(seriesIndex + 1).padStart(3, '0')}/${String(i + 1).padStart(5, '0')}.dcm`
          pathOf.set(instance, path)
          files.push({
            path,
            mediaType: 'application/dicom',
            size: instance.row.size,
            sha256: new Uint8Array(instance.row.sha256),
            cid: CID.parse(instance.row.cid),
            ciphertextSize: instance.row.ciphertext_size,
          })
        }
      }
      const studyManifest = toStudyManifest(study, { path: (instance) => pathOf.get(instance) })
      const kind = kindOf(studyManifest.modalities)
      const recipients: RecordRecipient[] = [
        { address: patient, role: 'patient', publicKey: keyOf(patientInfo.encryptionKey, 'patient') },
        { address: ctx.unit.address, role: 'custodian', publicKey: ctx.unit.encryptionKeyPair.publicKey },
        ...(await standingGrantees(ctx, patient, kind)),
      ]
      const sealed = await sealRecord({
        dek,
        chainId: ctx.chain.chainId,
        contract: ctx.chain.contract,
        unit: ctx.unit.address,
        uploader,
        patient,
        kind,
        files,
        recipients,
        appointment: study.accessionNumber,
        description: study.studyDescription,
        date: dicomDateToIso(study.studyDate),
        patientName: study.patient.name,
        patientMrn: study.patient.id,
        study: studyManifest,
        store,
      })
      await ctx.store.putBlockWithCid(sealed.envelopeCid, sealed.envelopeBytes)
      const recordId = recordIdFromCid(sealed.envelopeCid).toLowerCase() as Hex
      transaction(ctx.db, () => {
        const insert = ctx.db.prepare('INSERT OR IGNORE INTO record_blobs (record_id, cid) VALUES (?, ?)')
        for (const cid of sealed.blobs) insert.run(recordId, cid)
        insert.run(recordId, sealed.envelopeCid.toString())
        ctx.outbox.enqueueInTransaction({
          recordId,
          envelopeCid: sealed.envelopeCid.toString(),
          patient,
          uploader,
          kind,
          previous: null,
        })
        ctx.db
          .prepare(
            `UPDATE ingest_batches SET state = 'sealed', record_id = ?, hold_reason = NULL, updated_at = ? WHERE id = ?`,
          )
          .run(recordId, Date.now(), id)
        // The record's manifest lists the instances now; the per-instance rows (sealed metadata) go.
        ctx.db.prepare('DELETE FROM ingest_instances WHERE batch_id = ?').run(id)
      })
      ctx.outbox.kick()
      ctx.logger.info(
        { batch: id, recordId, instances: rows.length, kind },
        'received study sealed into a record',
      )
    } finally {
      dek.fill(0)
    }
  }

  function hold(batch: BatchRow, reason: string): void {
    ctx.db
      .prepare(`UPDATE ingest_batches SET state = 'held', hold_reason = ?, updated_at = ? WHERE id = ?`)
      .run(reason, Date.now(), batch.id)
    ctx.logger.warn({ batch: batch.id, reason }, 'received study held for the unit to resolve')
  }

  function lookupPatient(patientId: string): Address | undefined {
    const row = ctx.db
      .prepare('SELECT address FROM patient_identities WHERE key = ?')
      .get(keys.lookup('mrn', patientId.trim())) as { address: string } | undefined
    return row ? getAddress(row.address) : undefined
  }

  async function releaseHeldOf(patientKey: string, patient: Address): Promise<number> {
    const held = ctx.db
      .prepare(`SELECT id FROM ingest_batches WHERE patient_key = ? AND state = 'held' AND patient IS NULL`)
      .all(patientKey) as Array<{ id: string }>
    for (const { id } of held) {
      ctx.db
        .prepare('UPDATE ingest_batches SET patient = ?, updated_at = ? WHERE id = ?')
        .run(patient, Date.now(), id)
      await sealBatch(id)
    }
    return held.length
  }

  // Resume after a restart: a seal cut short starts over; open batches wait for their quiet period again.
  ctx.db.prepare(`UPDATE ingest_batches SET state = 'open' WHERE state = 'sealing'`).run()
  for (const { id } of ctx.db.prepare(`SELECT id FROM ingest_batches WHERE state = 'open'`).all() as Array<{
    id: string
  }>) {
    schedule(id)
  }

  return {
    addInstance,
    openSession,
    async flushSource(source) {
      const ids = ctx.db
        .prepare(`SELECT id FROM ingest_batches WHERE state = 'open' AND source = ?`)
        .all(sourceKey(source)) as Array<{ id: string }>
      for (const { id } of ids) {
        clearTimeout(timers.get(id))
        timers.delete(id)
        await sealBatch(id)
      }
    },
    async idle() {
      while (sealing.size > 0 || timers.size > 0 || opening.size > 0) {
        await Promise.all([...sealing.values(), ...opening.values()])
        if (timers.size > 0 && sealing.size === 0) await new Promise((r) => setTimeout(r, 50))
      }
    },
    batch(id) {
      const row = getBatch(id)
      return row
        ? { state: row.state, recordId: (row.record_id as Hex | null) ?? null, reason: row.hold_reason }
        : undefined
    },
    async listHeld() {
      const rows = ctx.db
        .prepare(`SELECT * FROM ingest_batches WHERE state = 'held' ORDER BY created_at`)
        .all() as BatchRow[]
      const out: HeldStudy[] = []
      for (const row of rows) {
        const meta = await open<BatchMeta>(row.sealed_meta)
        out.push({
          id: row.id,
          source: row.source.split(':').slice(0, 2).join(':'),
          reason: row.hold_reason ?? '',
          receivedAt: row.created_at,
          instances: row.instances,
          bytes: row.bytes,
          patientName: meta.patientName,
          patientId: meta.patientId,
          patientBirthDate: meta.patientBirthDate,
          studyDate: meta.studyDate,
          studyDescription: meta.studyDescription,
          accessionNumber: meta.accessionNumber,
          modalities: meta.modalities,
        })
      }
      return out
    },
    async resolveHeld(id, patient, { remember, by }) {
      const row = getBatch(id)
      if (row?.state !== 'held') throw new IngestNotFoundError()
      ctx.db
        .prepare('UPDATE ingest_batches SET patient = ?, updated_at = ? WHERE id = ?')
        .run(getAddress(patient), Date.now(), id)
      if (remember) {
        const meta = await open<BatchMeta>(row.sealed_meta)
        if (meta.patientId?.trim()) await this.mapPatient(meta.patientId, patient, by)
      }
      await sealBatch(id)
    },
    async discardHeld(id) {
      const row = getBatch(id)
      if (row?.state !== 'held') throw new IngestNotFoundError()
      forgetSecrets(id)
      const cids = ctx.db.prepare('SELECT cid FROM ingest_instances WHERE batch_id = ?').all(id) as Array<{
        cid: string
      }>
      transaction(ctx.db, () => {
        ctx.db.prepare('DELETE FROM ingest_instances WHERE batch_id = ?').run(id)
        ctx.db
          .prepare(`UPDATE ingest_batches SET state = 'discarded', updated_at = ? WHERE id = ?`)
          .run(Date.now(), id)
        const drop = ctx.db.prepare(
          'DELETE FROM blobs WHERE cid = ? AND cid NOT IN (SELECT cid FROM record_blobs) AND cid NOT IN (SELECT cid FROM ingest_instances)',
        )
        for (const { cid } of cids) drop.run(cid)
      })
      for (const { cid } of cids) {
        if (!ctx.db.prepare('SELECT 1 FROM blobs WHERE cid = ?').get(cid))
          await ctx.store.unpin(CID.parse(cid))
      }
    },
    async mapPatient(patientId, patient, by) {
      const key = keys.lookup('mrn', patientId.trim())
      ctx.db
        .prepare(
          `INSERT INTO patient_identities (key, address, created_by, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET address = excluded.address, created_by = excluded.created_by,
           created_at = excluded.created_at`,
        )
        .run(key, getAddress(patient), getAddress(by), Date.now())
      return { released: await releaseHeldOf(key, getAddress(patient)) }
    },
    unmapPatient(patientId) {
      return (
        ctx.db
          .prepare('DELETE FROM patient_identities WHERE key = ?')
          .run(keys.lookup('mrn', patientId.trim())).changes > 0
      )
    },
    lookupPatient,
    async stop() {
      stopped = true
      for (const timer of timers.values()) clearTimeout(timer)
      timers.clear()
      await Promise.all([...sealing.values(), ...opening.values()])
      for (const id of [...secretCache.keys()]) forgetSecrets(id)
    },
  }
}

export class IngestNotFoundError extends BaseError {
  override name = 'IngestNotFoundError'
  constructor() {
    super('No such held study', { code: 'NOT_FOUND' })
  }
}

function keyOf(hex: Hex, who: string): Uint8Array {
  if (/^0x0{64}$/.test(hex))
    throw new BaseError(`The ${who} has no encryption key registered`, { code: 'NO_KEY' })
  return hexToBytes(hex)
}

/** The checks groupIntoStudies makes when the batch is sealed, made before an instance is acknowledged. */
function samePatient(a: BatchMeta, b: BatchMeta): boolean {
  const name = (s: string | undefined) =>
    (s ?? '')
      .trim()
      .replace(/[\s^]+$/g, '')
      .toUpperCase()
  const both = (x: string | undefined, y: string | undefined) =>
    !x || !y || x.toUpperCase() === y.toUpperCase()
  return (
    (a.patientId ?? '').trim() === (b.patientId ?? '').trim() &&
    name(a.patientName) === name(b.patientName) &&
    both(a.patientBirthDate, b.patientBirthDate) &&
    both(a.patientSex, b.patientSex)
  )
}

async function* chunksOf(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += 1024 * 1024)
    yield bytes.subarray(offset, offset + 1024 * 1024)
}
