import { Kind } from '@pcmims/contracts'
import { type Address, bytesToHex, getAddress, type Hex, hexToBytes } from 'viem'
import { getEncryptionKey } from '../chain/get-encryption-key.js'
import { getGrant } from '../chain/get-grant.js'
import { getParticipant } from '../chain/get-participant.js'
import { generateDek } from '../crypto/generate-dek.js'
import { assertSafeRelativePath, type ManifestFile } from '../records/manifest.js'
import type { RecordKind } from '../records/schema-helpers.js'
import {
  encryptRecordFile,
  type RecordDescription,
  type StoreCiphertext,
  sealRecord,
} from '../records/seal-record.js'
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
  /** Wait until the record is anchored on chain (default true). */
  waitForAnchor?: boolean | undefined
  signal?: AbortSignal | undefined
  onProgress?: ((progress: UploadProgress) => void) | undefined
} & RecordDescription

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
  let totalBytes = 0
  const store: StoreCiphertext = (ciphertext, { signal }) =>
    storeBlob(client, iterableToStream(ciphertext), signal)
  for (const [index, file] of params.files.entries()) {
    params.signal?.throwIfAborted()
    let fileBytes = 0
    files.push(
      await encryptRecordFile({
        dek,
        path: file.path,
        mediaType: file.mediaType,
        plaintext: file.open(),
        store,
        signal: params.signal,
        onBytes: (n) => {
          fileBytes += n
          totalBytes += n
          params.onProgress?.({
            file: file.path,
            fileIndex: index,
            fileCount: params.files.length,
            fileBytes,
            totalBytes,
          })
        },
      }),
    )
  }
  const sealed = await sealRecord({
    dek,
    chainId: config.chainId,
    contract,
    unit: config.unit,
    uploader: account.address,
    patient,
    kind: params.kind,
    files,
    recipients,
    appointment: params.appointment,
    description: params.description,
    date: params.date,
    patientName: params.patientName,
    patientMrn: params.patientMrn,
    study: params.study,
    report: params.report,
    store,
    signal: params.signal,
  }).finally(() => dek.fill(0))
  const { envelope } = sealed
  const status = await client.node.json<UploadStatus>('POST', '/api/v1/records', {
    body: {
      envelope: toBase64(sealed.envelopeBytes),
      blobs: sealed.blobs,
    },
    query: { wait: params.waitForAnchor === false ? undefined : 'anchored' },
    signal: params.signal,
  })
  return {
    recordId: status.recordId,
    envelopeCid: status.envelopeCid,
    manifestCid: sealed.manifestCid,
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
