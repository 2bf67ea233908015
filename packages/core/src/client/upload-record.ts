import { Kind } from '@pcmims/contracts'
import { CID } from 'multiformats/cid'
import { type Address, bytesToHex, getAddress, type Hex, hexToBytes } from 'viem'
import { getEncryptionKey } from '../chain/get-encryption-key.js'
import { getGrant } from '../chain/get-grant.js'
import { getParticipant } from '../chain/get-participant.js'
import { encryptStream } from '../crypto/encrypt-stream.js'
import { generateDek } from '../crypto/generate-dek.js'
import { sealBytes } from '../crypto/seal-bytes.js'
import { createSha256 } from '../crypto/sha256.js'
import type { StudyManifest } from '../dicom/study/study-manifest.js'
import { encodeEnvelope, type RecordEnvelope } from '../records/envelope.js'
import {
  assertSafeRelativePath,
  encodeManifest,
  type ManifestFile,
  type RecordManifest,
} from '../records/manifest.js'
import { wrapForRecipients } from '../records/record-keys.js'
import type { RecordKind } from '../records/schema-helpers.js'
import { getChainTime } from './chain-time.js'
import { PreconditionError } from './errors.js'
import { iterableToStream } from './node-client.js'
import type { PcmimsClient } from './pcmims-client.js'

export type UploadFile = {
  /** Relative path inside the record (`series-1/IM0001.dcm`). */
  path: string
  mediaType: string
  /** Opens the file's bytes; called once. */
  open: () => AsyncIterable<Uint8Array>
  size?: number | undefined
}

export type UploadProgress = {
  file: string
  fileIndex: number
  fileCount: number
  fileBytes: number
  totalBytes: number
}

export type UploadRecordParameters = {
  patient: Address
  kind: RecordKind
  files: UploadFile[]
  appointment?: string | undefined
  description?: string | undefined
  /** Date of the examination (ISO 8601); today if absent. */
  date?: string | undefined
  patientName?: string | undefined
  patientMrn?: string | undefined
  /** For a DICOM study: its hierarchy, sealed in the manifest (see `uploadDicomStudies`). */
  study?: StudyManifest | undefined
  /** Wait until the record is anchored on chain (default true). */
  waitForAnchor?: boolean | undefined
  signal?: AbortSignal | undefined
  onProgress?: ((progress: UploadProgress) => void) | undefined
}

export type UploadRecordReturnType = {
  recordId: Hex
  envelopeCid: string
  manifestCid: string
  files: Array<{ path: string; cid: string; size: number; sha256: Hex }>
  recipients: Array<{ address: Address; role: string }>
  status: 'queued' | 'submitted' | 'confirmed' | 'failed'
  txHash: Hex | null
  gasUsed: string | null
}

type UploadStatus = {
  recordId: Hex
  envelopeCid: string
  status: UploadRecordReturnType['status']
  txHash: Hex | null
  gasUsed: string | null
  error: string | null
}

/**
 * Seed paper Algorithm 1, done patient-centric: check roles on chain, encrypt every file under a fresh
 * DEK at the edge, store ciphertext on the node's IPFS, seal a manifest with everything identifying,
 * wrap the DEK for the patient, the custodian unit and each standing grantee whose scope covers the
 * kind, and submit the envelope for anchoring. Nothing is anchored if any step fails.
 */
export async function uploadRecord(
  client: PcmimsClient,
  params: UploadRecordParameters,
): Promise<UploadRecordReturnType> {
  const { config, publicClient, account } = client
  const contract = config.contract
  const patient = getAddress(params.patient)
  if (params.files.length === 0) throw new PreconditionError('Nothing to upload')
  for (const file of params.files) assertSafeRelativePath(file.path)

  const uploader = await getParticipant(publicClient, { contract, account: account.address })
  if (uploader.role !== 'Uploader' || uploader.status !== 'Approved') {
    throw new PreconditionError('This account is not an approved uploader', {
      details: `role ${uploader.role}, status ${uploader.status}`,
      code: 'UPLOADER_NOT_APPROVED',
    })
  }
  if (getAddress(uploader.unit) !== getAddress(config.unit)) {
    throw new PreconditionError("The node belongs to another health unit than the uploader's")
  }
  const patientInfo = await getParticipant(publicClient, { contract, account: patient })
  if (patientInfo.role !== 'Patient' || patientInfo.status !== 'Approved') {
    throw new PreconditionError('The patient is not a registered, approved patient', {
      details: `${patient}: role ${patientInfo.role}, status ${patientInfo.status}`,
      code: 'PATIENT_NOT_APPROVED',
    })
  }
  const recipients = [
    { address: patient, role: 'patient' as const, publicKey: await keyOf(client, patient) },
    {
      address: getAddress(config.unit),
      role: 'custodian' as const,
      publicKey: await keyOf(client, config.unit),
    },
    ...(await standingGrantees(client, patient, params.kind)),
  ]

  const dek = generateDek()
  const files: ManifestFile[] = []
  const totalBytes = { value: 0 }
  for (const [index, file] of params.files.entries()) {
    params.signal?.throwIfAborted()
    files.push(await encryptAndStore(client, dek, file, index, params, totalBytes))
  }
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
    uploader: account.address,
    unit: getAddress(config.unit),
    files,
    study: params.study,
  }
  const sealedManifest = await sealBytes(encodeManifest(manifest), { dek })
  const manifestBlob = await storeBlob(client, sealedManifest, params.signal)
  const manifestCid = CID.parse(manifestBlob.cid)
  const binding = { chainId: BigInt(config.chainId), contract: getAddress(contract), manifest: manifestCid }
  const envelope: RecordEnvelope = {
    v: 1,
    type: 'pcmims/record-envelope',
    ...binding,
    kind: params.kind,
    patient,
    uploader: account.address,
    unit: getAddress(config.unit),
    manifestSize: sealedManifest.length,
    recipients: await wrapForRecipients({ dek, envelope: binding, recipients }),
  }
  dek.fill(0)
  const encoded = await encodeEnvelope(envelope)
  const status = await client.node.json<UploadStatus>('POST', '/api/v1/records', {
    body: {
      envelope: toBase64(encoded.bytes),
      blobs: [manifestBlob.cid, ...files.map((f) => f.cid.toString())],
    },
    query: { wait: params.waitForAnchor === false ? undefined : 'anchored' },
    signal: params.signal,
  })
  return {
    recordId: status.recordId,
    envelopeCid: status.envelopeCid,
    manifestCid: manifestBlob.cid,
    files: files.map((f) => ({
      path: f.path,
      cid: f.cid.toString(),
      size: f.size,
      sha256: bytesToHex(f.sha256),
    })),
    recipients: envelope.recipients.map((r) => ({ address: r.address, role: r.role })),
    status: status.status,
    txHash: status.txHash,
    gasUsed: status.gasUsed,
  }
}

async function keyOf(client: PcmimsClient, address: Address): Promise<Uint8Array> {
  const key = await getEncryptionKey(client.publicClient, {
    contract: client.config.contract,
    account: address,
  })
  if (/^0x0{64}$/.test(key)) throw new PreconditionError('No encryption key registered', { details: address })
  return hexToBytes(key)
}

type GrantListing = {
  grants: Array<{ grantee: Address; scope: string; kindMask: number; expiresAt: number }>
}

/** Active grantees whose scope covers new records of this kind, each re-checked on chain. */
export async function standingGrantees(client: PcmimsClient, patient: Address, kind: RecordKind) {
  const listing = await client.node.json<GrantListing>('GET', '/api/v1/grants', { query: { patient } })
  const out: Array<{ address: Address; role: 'grantee'; publicKey: Uint8Array }> = []
  const now = await getChainTime(client.publicClient)
  for (const candidate of listing.grants) {
    const grant = await getGrant(client.publicClient, {
      contract: client.config.contract,
      patient,
      grantee: candidate.grantee,
    })
    const covers =
      grant.scope === 'All' || (grant.scope === 'Kinds' && ((grant.kindMask >> Kind[kind]) & 1) === 1)
    // A de-identified-only grantee never gets the key of an original.
    if (!covers || grant.expiresAt <= now || grant.deidentifiedOnly) continue
    const grantee = await getParticipant(client.publicClient, {
      contract: client.config.contract,
      account: candidate.grantee,
    })
    if (grantee.status !== 'Approved') continue
    out.push({
      address: getAddress(candidate.grantee),
      role: 'grantee',
      publicKey: await keyOf(client, candidate.grantee),
    })
  }
  return out
}

async function encryptAndStore(
  client: PcmimsClient,
  dek: Uint8Array,
  file: UploadFile,
  index: number,
  params: UploadRecordParameters,
  total: { value: number },
): Promise<ManifestFile> {
  const hasher = createSha256()
  let size = 0
  const counted = async function* () {
    for await (const chunk of file.open()) {
      hasher.update(chunk)
      size += chunk.length
      total.value += chunk.length
      params.onProgress?.({
        file: file.path,
        fileIndex: index,
        fileCount: params.files.length,
        fileBytes: size,
        totalBytes: total.value,
      })
      yield chunk
    }
  }
  const ciphertext = encryptStream(counted(), { dek, signal: params.signal })
  const stored = await storeBlob(client, iterableToStream(ciphertext), params.signal)
  return {
    path: file.path,
    mediaType: file.mediaType,
    size,
    sha256: hasher.digest(),
    cid: CID.parse(stored.cid),
    ciphertextSize: stored.size,
  }
}

export async function storeBlob(
  client: PcmimsClient,
  body: ReadableStream<Uint8Array> | Uint8Array,
  signal: AbortSignal | undefined,
): Promise<{ cid: string; size: number }> {
  const response = await client.node.raw('POST', '/api/v1/blobs', {
    body,
    contentType: 'application/octet-stream',
    ...(signal ? { signal } : {}),
  })
  return (await response.json()) as { cid: string; size: number }
}

export function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}
