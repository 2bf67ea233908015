import { type Address, getAddress, type Hex } from 'viem'
import { getAccess } from '../chain/get-access.js'
import { getRecord } from '../chain/get-record.js'
import { openBytes } from '../crypto/open-bytes.js'
import { decodeEnvelope, type RecordEnvelope } from '../records/envelope.js'
import { IntegrityError } from '../records/errors.js'
import { decodeKeyBundle, type KeyBundle } from '../records/key-bundle.js'
import { decodeManifest, type RecordManifest } from '../records/manifest.js'
import { dagCborCidFromDigest, parseBytes32, verifyBlock } from '../records/record-id.js'
import { NoKeyForRecipientError, openRecordKey } from '../records/record-keys.js'
import { AccessDeniedError } from './errors.js'
import { NodeRequestError } from './node-client.js'
import type { PcmimsClient } from './pcmims-client.js'

export type RecordAccess = {
  allowed: boolean
  download: boolean
  deidentifiedOnly: boolean
  until: number
  basis: string
}

export type OpenedRecord = {
  recordId: Hex
  envelope: RecordEnvelope
  manifest: RecordManifest
  access: RecordAccess
  /** The record's data key; zero it with `closeRecord` when done. */
  dek: Uint8Array
}

export type OpenRecordParameters = { recordId: Hex; signal?: AbortSignal | undefined }

/**
 * Seed paper Algorithm 2, fail closed: ask the chain whether this account may read the record, then
 * fetch the envelope (checked against the record id), unwrap the data key (from the envelope, or the
 * grant's key bundle), and open the manifest. Files are read with `readRecordFile`.
 */
export async function openRecord(client: PcmimsClient, params: OpenRecordParameters): Promise<OpenedRecord> {
  parseBytes32(params.recordId)
  const recordId = params.recordId.toLowerCase() as Hex
  let access: RecordAccess
  try {
    access = await getAccess(client.publicClient, {
      contract: client.config.contract,
      grantee: client.account.address,
      recordId,
    })
  } catch (cause) {
    throw new AccessDeniedError('Cannot check access on the chain; refusing to read', {
      cause,
      code: 'CHAIN_UNAVAILABLE',
    })
  }
  // The chain refuses originals to a de-identified-only grantee and says why in the flag.
  if (access.deidentifiedOnly) {
    throw new AccessDeniedError('The patient allowed de-identified copies only', {
      code: 'DEIDENTIFIED_ONLY',
      details:
        'this is the original record; the copies the patient made for you are listed with your records',
    })
  }
  if (!access.allowed) {
    const record = await getRecord(client.publicClient, {
      contract: client.config.contract,
      id: recordId,
    }).catch(() => null)
    throw new AccessDeniedError('No access to this record', {
      details: record?.superseded
        ? 'it was replaced by a re-encrypted copy (key rotation): list the records for its new id'
        : record
          ? 'no grant, or an expired or revoked one'
          : 'no record with this id on chain',
    })
  }
  const answer = await client.node.json<{ envelope: string }>('GET', `/api/v1/records/${recordId}`, {
    signal: params.signal,
  })
  const envelopeBytes = fromBase64(answer.envelope)
  if (!(await verifyBlock(dagCborCidFromDigest(recordId), envelopeBytes))) {
    throw new IntegrityError('The envelope the node returned does not match the record id')
  }
  const envelope = decodeEnvelope(envelopeBytes)
  if (
    envelope.chainId !== BigInt(client.config.chainId) ||
    envelope.contract !== getAddress(client.config.contract)
  ) {
    throw new IntegrityError('The envelope is bound to another chain or contract')
  }
  const dek = await openKey(client, envelope, recordId, params.signal)
  const sealed = await readAll(
    await client.node.raw('GET', `/api/v1/records/${recordId}/blobs/${envelope.manifest}`, {
      signal: params.signal,
    }),
  )
  const manifest = decodeManifest(await openBytes(sealed, { dek }))
  if (
    manifest.patient.address !== envelope.patient ||
    manifest.kind !== envelope.kind ||
    manifest.uploader !== envelope.uploader
  ) {
    throw new IntegrityError('The manifest does not match the envelope')
  }
  return { recordId, envelope, manifest, access, dek }
}

async function openKey(client: PcmimsClient, envelope: RecordEnvelope, recordId: Hex, signal?: AbortSignal) {
  const me = client.account.address
  const base = { envelope, recordId, address: me, privateKey: client.encryptionKeyPair.privateKey }
  if (envelope.recipients.some((r) => r.address === me)) return openRecordKey(base)
  const bundle = await fetchBundle(client, envelope.patient, me, signal)
  if (!bundle) throw new NoKeyForRecipientError(me)
  return openRecordKey({ ...base, bundle })
}

async function fetchBundle(
  client: PcmimsClient,
  patient: Address,
  grantee: Address,
  signal?: AbortSignal,
): Promise<KeyBundle | undefined> {
  try {
    const response = await client.node.raw('GET', `/api/v1/grants/${patient}/${grantee}/bundle`, {
      ...(signal ? { signal } : {}),
    })
    return decodeKeyBundle(await readAll(response))
  } catch (error) {
    if (error instanceof NodeRequestError && (error.status === 404 || error.status === 403)) return undefined
    throw error
  }
}

export function closeRecord(record: OpenedRecord): void {
  record.dek.fill(0)
}

export async function readAll(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer())
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}
