import { CID } from 'multiformats/cid'
import { type Address, getAddress } from 'viem'
import { encryptStream } from '../crypto/encrypt-stream.js'
import { sealBytes } from '../crypto/seal-bytes.js'
import { createSha256 } from '../crypto/sha256.js'
import type { StudyManifest } from '../dicom/study/study-manifest.js'
import type { ReportSummary } from '../reports/report-summary.js'
import { encodeEnvelope, type RecipientRole, type RecordEnvelope } from './envelope.js'
import { assertSafeRelativePath, encodeManifest, type ManifestFile, type RecordManifest } from './manifest.js'
import { wrapForRecipients } from './record-keys.js'
import type { RecordKind } from './schema-helpers.js'

/**
 * Where a record's ciphertext goes: the node's blob route for a client, the block store itself for the
 * node's own ingest. Answers once the blob is durably stored.
 */
export type StoreCiphertext = (
  ciphertext: AsyncIterable<Uint8Array>,
  options: { signal?: AbortSignal | undefined },
) => Promise<{ cid: string; size: number }>

export type EncryptRecordFileParameters = {
  dek: Uint8Array
  path: string
  mediaType: string
  plaintext: AsyncIterable<Uint8Array>
  store: StoreCiphertext
  signal?: AbortSignal | undefined
  /** Called with each plaintext chunk's length as it is encrypted. */
  onBytes?: ((bytes: number) => void) | undefined
}

/** Encrypts one file of a record under its DEK as it streams, hashing the plaintext on the way. */
export async function encryptRecordFile(params: EncryptRecordFileParameters): Promise<ManifestFile> {
  assertSafeRelativePath(params.path)
  const hasher = createSha256()
  let size = 0
  const counted = async function* () {
    for await (const chunk of params.plaintext) {
      hasher.update(chunk)
      size += chunk.length
      params.onBytes?.(chunk.length)
      yield chunk
    }
  }
  const ciphertext = encryptStream(counted(), { dek: params.dek, signal: params.signal })
  const stored = await params.store(ciphertext, { signal: params.signal })
  return {
    path: params.path,
    mediaType: params.mediaType,
    size,
    sha256: hasher.digest(),
    cid: CID.parse(stored.cid),
    ciphertextSize: stored.size,
  }
}

export type RecordRecipient = { address: Address; role: RecipientRole; publicKey: Uint8Array }

export type SealRecordParameters = {
  dek: Uint8Array
  chainId: number | bigint
  contract: Address
  unit: Address
  uploader: Address
  patient: Address
  kind: RecordKind
  /** Already encrypted under `dek` with {@link encryptRecordFile}. */
  files: ManifestFile[]
  recipients: RecordRecipient[]
  store: StoreCiphertext
  signal?: AbortSignal | undefined
} & RecordDescription

/** What the sealed manifest says about a record beyond its files: all of it PHI, never on chain. */
export type RecordDescription = {
  /** The appointment or accession number. */
  appointment?: string | undefined
  description?: string | undefined
  /** Date of the examination (ISO 8601); today if absent. */
  date?: string | undefined
  patientName?: string | undefined
  patientMrn?: string | undefined
  /** For a DICOM study: its hierarchy (see `uploadDicomStudies`). */
  study?: StudyManifest | undefined
  /** For a report: its summary (title, date, status, results; see `readReport`). */
  report?: ReportSummary | undefined
}

export type SealRecordReturnType = {
  envelope: RecordEnvelope
  /** The canonical DAG-CBOR envelope block, whose digest is the record id. */
  envelopeBytes: Uint8Array
  envelopeCid: CID
  manifestCid: string
  /** Every blob of the record: the sealed manifest first, then each file. */
  blobs: string[]
}

/**
 * Seals a record whose files are stored: the manifest (everything identifying) encrypted under the DEK
 * and stored, then the envelope with the DEK wrapped for each recipient. Nothing is anchored here.
 */
export async function sealRecord(params: SealRecordParameters): Promise<SealRecordReturnType> {
  const patient = getAddress(params.patient)
  const unit = getAddress(params.unit)
  const uploader = getAddress(params.uploader)
  const manifest: RecordManifest = {
    v: 1,
    type: 'pcmims/record-manifest',
    nonce: globalThis.crypto.getRandomValues(new Uint8Array(16)),
    kind: params.kind,
    patient: { address: patient, name: params.patientName, mrn: params.patientMrn },
    appointment: params.appointment,
    description: params.description,
    date: params.date ?? new Date().toISOString().slice(0, 10),
    createdAt: new Date().toISOString(),
    uploader,
    unit,
    files: params.files,
    study: params.study,
    report: params.report,
  }
  const sealedManifest = await sealBytes(encodeManifest(manifest), { dek: params.dek })
  const manifestBlob = await params.store(
    (async function* () {
      yield sealedManifest
    })(),
    { signal: params.signal },
  )
  const binding = {
    chainId: BigInt(params.chainId),
    contract: getAddress(params.contract),
    manifest: CID.parse(manifestBlob.cid),
  }
  const envelope: RecordEnvelope = {
    v: 1,
    type: 'pcmims/record-envelope',
    ...binding,
    kind: params.kind,
    patient,
    uploader,
    unit,
    manifestSize: sealedManifest.length,
    recipients: await wrapForRecipients({
      dek: params.dek,
      envelope: binding,
      recipients: params.recipients,
    }),
  }
  const encoded = await encodeEnvelope(envelope)
  return {
    envelope,
    envelopeBytes: encoded.bytes,
    envelopeCid: encoded.cid,
    manifestCid: manifestBlob.cid,
    blobs: [manifestBlob.cid, ...params.files.map((f) => f.cid.toString())],
  }
}
