import { decode as decodeDagCbor } from '@ipld/dag-cbor'
import {
  concatBytes,
  dagCborCidFromDigest,
  decodeEnvelope,
  decodeManifest,
  encodeDagCborBlock,
  equalBytes,
  InvalidFormatError,
  openBytes,
  openRecordKey,
  RECORD_KINDS,
  type RecordEnvelope,
  type RecordManifest,
  recordIdFromCid,
} from '@pcmims/core'
import type { Hono } from 'hono'
import { CID } from 'multiformats/cid'
import { type Address, getAddress, type Hex } from 'viem'
import { z } from 'zod'
import type { NodeContext } from '../../context.js'
import { transaction } from '../../db/open-database.js'
import type { OutboxEntry } from '../../outbox/outbox.js'
import { audited, patientOfRecord } from '../audit.js'
import {
  authenticate,
  authenticateWithBody,
  requireParticipant,
  requireRecordAccess,
} from '../authenticate.js'
import { parseJson, zodIssues } from '../body.js'
import { AccessDeniedError, BadRequestError, HttpError, NotFoundError } from '../errors.js'
import { parseAddress, parseRecordIdParam } from '../params.js'
import { syncIndex } from '../sync-index.js'

const submitSchema = z.object({
  envelope: z.string().max(2 * 1024 * 1024),
  /** Every blob of the record: the encrypted manifest and each encrypted file. */
  blobs: z.array(z.string().max(128)).min(1).max(100_000),
})

const copySchema = submitSchema.extend({
  /** The one reader of the copy besides the patient and the custodian (the requestor). */
  audience: z.string().max(64),
})

/** How a submission is anchored: a new record, a rotation replacing one, or a de-identified copy of one. */
type Submission =
  | { type: 'upload' }
  | { type: 'rotation'; previous: Hex }
  | { type: 'copy'; source: Hex; audience: Address }

/** Study attributes a de-identified copy's manifest must not carry (the Basic Profile removes or dummies them). */
const COPY_FORBIDDEN_STUDY_FIELDS = [
  'studyDate',
  'studyTime',
  'accessionNumber',
  'studyDescription',
  'referringPhysicianName',
] as const

/** Largest manifest the custodian decrypts to check a submission. */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024

export function recordRoutes(app: Hono, ctx: NodeContext): void {
  // Submit a record: the envelope block plus the blobs it points to, all already uploaded by the caller.
  app.post('/api/v1/records', async (c) => {
    const { caller, body } = await authenticateWithBody(c, ctx, ctx.config.limits.maxJsonBytes)
    const { status, entry } = await acceptSubmission(ctx, caller, body, c.req.query('wait'), {
      type: 'upload',
    })
    return c.json(uploadStatus(entry), status)
  })

  // Key rotation by the patient: a re-encrypted copy that replaces the record on chain.
  app.post('/api/v1/records/:id/rotate', async (c) => {
    const previous = parseRecordIdParam(c.req.param('id'))
    const { caller, body } = await authenticateWithBody(c, ctx, ctx.config.limits.maxJsonBytes)
    const { status, entry } = await acceptSubmission(ctx, caller, body, c.req.query('wait'), {
      type: 'rotation',
      previous,
    })
    return c.json(uploadStatus(entry), status)
  })

  // A de-identified copy of a DICOM study, made by the patient for one requestor: a new record that the chain
  // lets only the patient, this unit and that requestor (while the patient grants it anything) read.
  app.post('/api/v1/records/:id/deidentified-copies', async (c) => {
    const source = parseRecordIdParam(c.req.param('id'))
    const { caller, body } = await authenticateWithBody(c, ctx, ctx.config.limits.maxJsonBytes)
    const parsed = copySchema.safeParse(parseJson(body))
    if (!parsed.success) throw new BadRequestError('Invalid copy submission', zodIssues(parsed.error))
    const audience = parseAddress(parsed.data.audience, 'audience')
    const { status, entry } = await acceptSubmission(ctx, caller, body, c.req.query('wait'), {
      type: 'copy',
      source,
      audience,
    })
    return c.json(uploadStatus(entry), status)
  })

  // Anchoring status of a submitted record, for the uploader who may not read the record itself.
  app.get('/api/v1/records/:id/anchoring', async (c) => {
    const caller = await authenticate(c, ctx)
    const entry = ctx.outbox.get(parseRecordIdParam(c.req.param('id')))
    if (!entry || submitterOf(entry) !== caller) throw new NotFoundError('No such upload from this account')
    return c.json(uploadStatus(entry))
  })

  app.get('/api/v1/records', async (c) => {
    const caller = await authenticate(c, ctx)
    const patient = parseAddress(c.req.query('patient') ?? caller, 'patient')
    const kind = c.req.query('kind')
    if (kind !== undefined && !(RECORD_KINDS as readonly string[]).includes(kind)) {
      throw new BadRequestError('Unknown record kind', `one of ${RECORD_KINDS.join(', ')}`)
    }
    await syncIndex(ctx)
    return audited(c, ctx, { action: 'record.list', actor: caller, patient }, async () => {
      if (caller !== patient) await requireListingBasis(ctx, caller, patient)
      const rows = ctx.db
        .prepare(
          `SELECT id, patient, uploader, kind, unit_index, created_at, block_number, tx_hash, source, audience FROM records
         WHERE patient = ? AND superseded_by IS NULL ${kind ? 'AND kind = ?' : ''} ORDER BY created_at DESC, id`,
        )
        .all(...(kind ? [patient.toLowerCase(), kind] : [patient.toLowerCase()])) as RecordRow[]
      const allowed =
        rows.length > 0
          ? await ctx.chain.reader.canAccessBatch(
              caller,
              rows.map((r) => r.id as Hex),
            )
          : []
      const records = rows.filter((_, i) => allowed[i]).map(recordJson)
      return c.json({ patient, records })
    })
  })

  app.get('/api/v1/records/:id', async (c) => {
    const caller = await authenticate(c, ctx)
    const id = parseRecordIdParam(c.req.param('id'))
    const facts = {
      action: 'record.metadata',
      actor: caller,
      recordId: id,
      patient: patientOfRecord(ctx, id),
    } as const
    return audited(c, ctx, facts, async () => {
      const access = await requireRecordAccess(ctx, caller, id)
      const record = await ctx.chain.reader.record(id)
      if (!record) throw new NotFoundError('No such record')
      const envelopeCid = dagCborCidFromDigest(id)
      if (!(await ctx.store.has(envelopeCid))) throw new NotFoundError('This node does not hold the record')
      const envelope = await ctx.store.getBlock(envelopeCid)
      ctx.logger.info({ recordId: id, caller, basis: access.basis }, 'record envelope served')
      return c.json({
        id,
        patient: record.patient,
        kind: record.kind,
        createdAt: record.createdAt,
        unitIndex: record.unitIndex,
        envelopeCid: envelopeCid.toString(),
        envelope: encodeBase64(envelope),
        access,
      })
    })
  })
}

/**
 * Validates a record submission completely, then stores the envelope and commits the outbox row: the
 * commit is the acknowledgement. Either everything checks out, or nothing is stored and nothing queued.
 */
async function acceptSubmission(
  ctx: NodeContext,
  caller: Address,
  body: Uint8Array,
  wait: string | undefined,
  submission: Submission,
): Promise<{ status: 200 | 201 | 202; entry: OutboxEntry }> {
  const previous = submission.type === 'rotation' ? submission.previous : undefined
  const source = submission.type === 'copy' ? submission.source : undefined
  const parsed = (submission.type === 'copy' ? copySchema : submitSchema).safeParse(parseJson(body))
  if (!parsed.success) throw new BadRequestError('Invalid record submission', zodIssues(parsed.error))
  const envelopeBytes = decodeBase64(parsed.data.envelope)
  const envelope = decodeEnvelope(envelopeBytes)
  const { cid: envelopeCid, recordId } = await envelopeIds(envelopeBytes)

  // A retried submission answers with the first one's status — to whoever made it, and nobody else
  // (the status names transactions and errors only the submitter sees).
  const existing = ctx.outbox.get(recordId)
  if (existing) {
    if (submitterOf(existing) !== caller)
      throw new AccessDeniedError('This record was submitted by another account')
    if (existing.previous?.toLowerCase() !== previous || existing.source?.toLowerCase() !== source) {
      throw new BadRequestError('This record was submitted through another route')
    }
    return { status: existing.state === 'confirmed' ? 200 : 202, entry: existing }
  }

  if (envelope.chainId !== BigInt(ctx.chain.chainId) || envelope.contract !== ctx.chain.contract) {
    throw new BadRequestError('The envelope is bound to another chain or contract')
  }
  if (envelope.unit !== ctx.unit.address) {
    throw new BadRequestError('The envelope names another custodian unit', `this node is ${ctx.unit.address}`)
  }
  if (submission.type === 'copy') {
    await checkCopy(ctx, caller, envelope, submission)
  } else if (previous === undefined) {
    if (envelope.previous) throw new BadRequestError('Use the rotation route to replace a record')
    if (envelope.uploader !== caller) throw new AccessDeniedError('The envelope names another uploader')
    const uploader = await requireParticipant(ctx, caller, ['Uploader'])
    if (uploader.unit !== ctx.unit.address)
      throw new AccessDeniedError('The uploader belongs to another unit')
  } else {
    const old = await ctx.chain.reader.record(previous)
    if (!old || old.superseded) throw new NotFoundError('No current record with this id')
    if (old.patient !== caller || envelope.patient !== caller)
      throw new AccessDeniedError('Only the patient rotates a record')
    if (envelope.previous?.toLowerCase() !== previous)
      throw new BadRequestError('The envelope does not replace this record')
    if (envelope.kind !== old.kind) throw new BadRequestError('A rotated record keeps its kind')
    await syncIndex(ctx)
    const copy = ctx.db.prepare('SELECT audience FROM records WHERE id = ?').get(previous) as
      | { audience: string | null }
      | undefined
    // A de-identified copy stays one: keyed for its patient, this unit and its one audience only.
    if (copy?.audience) requireCopyRecipients(ctx, envelope, getAddress(copy.audience))
    const unit = await ctx.chain.reader.participant(ctx.unit.address)
    if (old.unitIndex !== unit.unitIndex)
      throw new BadRequestError('This node is not the custodian of the record')
  }
  const patient = await ctx.chain.reader.participant(envelope.patient)
  if (patient.role !== 'Patient' || patient.status !== 'Approved') {
    throw new BadRequestError(
      'The patient is not an approved patient',
      envelope.patient,
      'PATIENT_NOT_APPROVED',
    )
  }
  if (await ctx.chain.reader.record(recordId)) {
    throw new HttpError(409, 'This record is already anchored', { code: 'RECORD_EXISTS' })
  }

  const blobs = await checkBlobs(ctx, caller, parsed.data.blobs, envelope)
  await verifyCustody(ctx, envelope, recordId, blobs, submission.type === 'copy')
  await ctx.store.putBlockWithCid(envelopeCid, envelopeBytes)
  const enqueued = transaction(ctx.db, () => {
    // The orphan sweep may have claimed a blob since checkBlobs: look again inside the commit.
    const present = ctx.db.prepare('SELECT 1 FROM blobs WHERE cid = ?')
    for (const cid of blobs) {
      if (!present.get(cid.toString())) {
        throw new BadRequestError(
          'A blob was removed before the record was submitted',
          cid.toString(),
          'UNKNOWN_BLOB',
        )
      }
    }
    if (ctx.outbox.get(recordId)) return false
    const insert = ctx.db.prepare('INSERT OR IGNORE INTO record_blobs (record_id, cid) VALUES (?, ?)')
    for (const cid of blobs) insert.run(recordId, cid.toString())
    insert.run(recordId, envelopeCid.toString())
    ctx.outbox.enqueueInTransaction({
      recordId,
      envelopeCid: envelopeCid.toString(),
      patient: envelope.patient,
      uploader: envelope.uploader,
      kind: envelope.kind,
      previous: previous ?? null,
      source: source ?? null,
      audience: submission.type === 'copy' ? submission.audience : null,
    })
    return true
  })
  // A concurrent identical submission got there first: answer with its state.
  if (!enqueued) {
    const entry = ctx.outbox.get(recordId)!
    return { status: entry.state === 'confirmed' ? 200 : 202, entry }
  }
  ctx.outbox.kick()
  ctx.logger.info({ recordId, blobs: blobs.length, submission: submission.type }, 'record accepted')
  if (wait === 'anchored') {
    const entry = await ctx.outbox.waitFor(recordId, 120_000).catch(() => ctx.outbox.get(recordId))
    if (entry) return { status: entry.state === 'confirmed' ? 201 : 202, entry }
  }
  return { status: 202, entry: ctx.outbox.get(recordId)! }
}

/**
 * A de-identified copy: of a current record this node is custodian of, by its patient, keeping its kind, with
 * keys for the patient, this unit and the audience only; the audience an Approved participant holding a live
 * grant from the patient (the contract checks the same again when the outbox anchors).
 */
async function checkCopy(
  ctx: NodeContext,
  caller: Address,
  envelope: RecordEnvelope,
  submission: { source: Hex; audience: Address },
): Promise<void> {
  const source = await ctx.chain.reader.record(submission.source)
  if (!source || source.superseded) throw new NotFoundError('No current record with this id')
  if (source.patient !== caller || envelope.patient !== caller)
    throw new AccessDeniedError('Only the patient makes a de-identified copy of a record')
  if (envelope.previous) throw new BadRequestError('A de-identified copy replaces no record')
  if (envelope.uploader !== caller)
    throw new BadRequestError('A de-identified copy names its patient as uploader')
  if (envelope.kind !== source.kind) throw new BadRequestError('A de-identified copy keeps its kind')
  const unit = await ctx.chain.reader.participant(ctx.unit.address)
  if (source.unitIndex !== unit.unitIndex)
    throw new BadRequestError('This node is not the custodian of the record')
  const audience = submission.audience
  const participant = await ctx.chain.reader.participant(audience)
  if (audience === caller || participant.status !== 'Approved') {
    throw new BadRequestError('The audience is not an approved participant', audience, 'INVALID_AUDIENCE')
  }
  const grant = await ctx.chain.reader.grant(caller, audience)
  if (grant.scope === 'None' || grant.expiresAt <= (await ctx.chain.reader.now())) {
    throw new BadRequestError('The patient has no active grant to the audience', audience, 'NO_ACTIVE_GRANT')
  }
  requireCopyRecipients(ctx, envelope, audience)
}

/** A copy's envelope holds keys for its patient, this unit and its audience, and for nobody else. */
function requireCopyRecipients(ctx: NodeContext, envelope: RecordEnvelope, audience: Address): void {
  const allowed = new Map<string, string>([
    [envelope.patient, 'patient'],
    [ctx.unit.address, 'custodian'],
    [audience, 'grantee'],
  ])
  for (const r of envelope.recipients) {
    if (allowed.get(r.address) !== r.role) {
      throw new BadRequestError(
        'A de-identified copy is keyed for the patient, the custodian and the audience only',
        r.address,
      )
    }
  }
  if (!envelope.recipients.some((r) => r.address === audience)) {
    throw new BadRequestError('The envelope has no key for the audience')
  }
}

type RecordRow = {
  id: string
  patient: string
  uploader: string
  kind: string
  unit_index: number
  created_at: number
  block_number: number
  tx_hash: string
  source: string | null
  audience: string | null
}

function recordJson(row: RecordRow) {
  return {
    id: row.id,
    patient: getAddress(row.patient),
    uploader: getAddress(row.uploader),
    kind: row.kind,
    unitIndex: row.unit_index,
    createdAt: row.created_at,
    blockNumber: row.block_number,
    txHash: row.tx_hash,
    ...(row.source ? { deidentifiedFrom: row.source, audience: getAddress(row.audience as string) } : {}),
  }
}

/** Someone other than the patient may list only with a live basis: custodian, grant or emergency. */
async function requireListingBasis(ctx: NodeContext, caller: Address, patient: Address): Promise<void> {
  const participant = await ctx.chain.reader.participant(caller)
  if (participant.status === 'None') throw new AccessDeniedError('This account is not registered')
  if (participant.status !== 'Approved')
    throw new AccessDeniedError(`This account is not approved (status: ${participant.status})`)
  if (participant.role === 'Unit') return
  const now = await ctx.chain.reader.now()
  const grant = await ctx.chain.reader.grant(patient, caller)
  if (grant.scope !== 'None' && grant.expiresAt > now) return
  if (participant.role === 'Medic' && (await ctx.chain.reader.emergencyUntil(caller, patient)) > now) return
  throw new AccessDeniedError("No access to this patient's records", 'no active grant or emergency access')
}

export function uploadStatus(entry: OutboxEntry) {
  return {
    recordId: entry.recordId,
    envelopeCid: entry.envelopeCid,
    status: entry.state,
    txHash: entry.txHash,
    gasUsed: entry.gasUsed === null ? null : String(entry.gasUsed),
    blockNumber: entry.blockNumber === null ? null : String(entry.blockNumber),
    error: entry.lastError,
  }
}

/**
 * The record id is the digest of the bytes as sent. Only canonical DAG-CBOR is accepted, so one
 * envelope has exactly one id (decodeEnvelope already proved the bytes decode).
 */
async function envelopeIds(bytes: Uint8Array): Promise<{ cid: CID; recordId: Hex }> {
  const again = await encodeDagCborBlock(decodeDagCbor(bytes))
  if (!equalBytes(again.bytes, bytes)) throw new InvalidFormatError('Envelope is not canonical DAG-CBOR')
  return { cid: again.cid, recordId: recordIdFromCid(again.cid).toLowerCase() as Hex }
}

/** Every blob must exist here and have been uploaded by this uploader; the manifest must be among them. */
async function checkBlobs(
  ctx: NodeContext,
  caller: Address,
  cids: string[],
  envelope: RecordEnvelope,
): Promise<CID[]> {
  const parsed: CID[] = []
  const seen = new Set<string>()
  const owner = ctx.db.prepare('SELECT uploader FROM blobs WHERE cid = ?')
  for (const text of cids) {
    let cid: CID
    try {
      cid = CID.parse(text)
    } catch {
      throw new BadRequestError('A blob id is not a CID', text.slice(0, 80), 'INVALID_CID')
    }
    const key = cid.toString()
    if (seen.has(key)) continue
    seen.add(key)
    const row = owner.get(key) as { uploader: string } | undefined
    if (!row || getAddress(row.uploader) !== caller) {
      throw new BadRequestError('A blob was not uploaded to this node by this account', key, 'UNKNOWN_BLOB')
    }
    parsed.push(cid)
  }
  if (!seen.has(envelope.manifest.toString()))
    throw new BadRequestError('The manifest is not among the blobs')
  return parsed
}

/**
 * The node is the record's custodian and holds a wrapped key, so it checks the submission before
 * acknowledging it: the manifest opens, names this patient, uploader and kind, and lists exactly the
 * blobs submitted. A record a reader could not open is never anchored.
 */
async function verifyCustody(
  ctx: NodeContext,
  envelope: RecordEnvelope,
  recordId: Hex,
  blobs: CID[],
  deidentifiedCopy: boolean,
): Promise<void> {
  if (!envelope.recipients.some((r) => r.address === envelope.patient && r.role === 'patient')) {
    throw new BadRequestError('The envelope has no key for the patient')
  }
  let dek: Uint8Array
  try {
    dek = await openRecordKey({
      envelope,
      recordId,
      address: ctx.unit.address,
      privateKey: ctx.unit.encryptionKeyPair.privateKey,
    })
  } catch {
    throw new BadRequestError(
      'The envelope has no valid key for the custodian unit',
      undefined,
      'NO_CUSTODIAN_KEY',
    )
  }
  const size = (await ctx.store.stat(envelope.manifest)).size
  if (size > MAX_MANIFEST_BYTES) throw new BadRequestError('The manifest is too large')
  const chunks: Uint8Array[] = []
  for await (const chunk of ctx.store.cat(envelope.manifest)) chunks.push(chunk)
  let plaintext: Uint8Array
  try {
    plaintext = await openBytes(concatBytes(...chunks), { dek })
  } catch {
    throw new BadRequestError(
      'The manifest does not open with the record key',
      undefined,
      'MANIFEST_UNREADABLE',
    )
  }
  const manifest = decodeManifest(plaintext)
  if (
    manifest.patient.address !== envelope.patient ||
    manifest.uploader !== envelope.uploader ||
    manifest.kind !== envelope.kind ||
    manifest.unit !== envelope.unit
  ) {
    throw new BadRequestError('The manifest does not match the envelope')
  }
  if (deidentifiedCopy) checkCopyManifest(manifest)
  const expected = new Set([envelope.manifest.toString(), ...manifest.files.map((f) => f.cid.toString())])
  const submitted = new Set(blobs.map((b) => b.toString()))
  if (expected.size !== submitted.size || [...expected].some((cid) => !submitted.has(cid))) {
    throw new BadRequestError('The blobs submitted differ from the files in the manifest')
  }
}

/** What the node can check of a copy's manifest: no identifying field, a DICOM study of DICOM files only. */
function checkCopyManifest(manifest: RecordManifest): void {
  const { name, mrn, birthDate } = manifest.patient
  const study = manifest.study
  const phi =
    name !== undefined ||
    mrn !== undefined ||
    birthDate !== undefined ||
    manifest.appointment !== undefined ||
    manifest.description !== undefined ||
    manifest.date !== '' ||
    !study ||
    Object.keys(study.patient).length > 0 ||
    COPY_FORBIDDEN_STUDY_FIELDS.some((field) => study[field] !== undefined)
  if (phi) {
    throw new BadRequestError(
      'A de-identified copy’s manifest carries identifying fields',
      undefined,
      'COPY_NOT_DEIDENTIFIED',
    )
  }
  if (manifest.files.some((f) => f.mediaType !== 'application/dicom')) {
    throw new BadRequestError(
      'A de-identified copy holds DICOM files only',
      undefined,
      'COPY_NOT_DEIDENTIFIED',
    )
  }
}

export function decodeBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new BadRequestError('Invalid base64')
  return new Uint8Array(Buffer.from(text, 'base64'))
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64')
}

/** Who submitted an outbox entry: the uploader, or the patient for a rotation or a de-identified copy. */
function submitterOf(entry: OutboxEntry): Address {
  return getAddress(entry.previous || entry.source ? entry.patient : entry.uploader)
}
