import { CID } from 'multiformats/cid'
import { getAddress, type Hex, hexToBytes } from 'viem'
import { getCopyAudience } from '../chain/get-copy-audience.js'
import { getEncryptionKey } from '../chain/get-encryption-key.js'
import { encryptStream } from '../crypto/encrypt-stream.js'
import { generateDek } from '../crypto/generate-dek.js'
import { sealBytes } from '../crypto/seal-bytes.js'
import { encodeEnvelope, type RecordEnvelope } from '../records/envelope.js'
import { encodeManifest, type ManifestFile } from '../records/manifest.js'
import { wrapForRecipients } from '../records/record-keys.js'
import { PreconditionError } from './errors.js'
import { iterableToStream } from './node-client.js'
import { closeRecord, openRecord } from './open-record.js'
import type { PcmimsClient } from './pcmims-client.js'
import { readRecordFile } from './read-record-file.js'
import { standingGrantees, storeBlob, toBase64 } from './upload-record.js'

export type RotateRecordKeyParameters = { recordId: Hex; signal?: AbortSignal | undefined }

export type RotateRecordKeyReturnType = {
  previous: Hex
  recordId: Hex
  status: string
  txHash: Hex | null
  /** Grantees whose access was to the old record id only (Records scope): they must be granted again. */
  droppedGrantees: string[]
}

/**
 * Full revocation (DESIGN principle 4): re-encrypt every file under a new DEK, wrap it only for the
 * patient, the custodian and the standing grantees that remain, anchor the new record as replacing the
 * old one, after which the node unpins the old ciphertext. Copies already downloaded cannot be recalled.
 */
export async function rotateRecordKey(
  client: PcmimsClient,
  params: RotateRecordKeyParameters,
): Promise<RotateRecordKeyReturnType> {
  const old = await openRecord(client, params)
  try {
    if (old.envelope.patient !== client.account.address) {
      throw new PreconditionError('Only the patient rotates a record key')
    }
    const dek = generateDek()
    const files: ManifestFile[] = []
    for (const file of old.manifest.files) {
      const plaintext = readRecordFile(client, { record: old, file, signal: params.signal })
      const stored = await storeBlob(
        client,
        iterableToStream(encryptStream(plaintext, { dek, signal: params.signal })),
        params.signal,
      )
      files.push({ ...file, cid: CID.parse(stored.cid), ciphertextSize: stored.size })
    }
    const manifest = { ...old.manifest, nonce: globalThis.crypto.getRandomValues(new Uint8Array(16)), files }
    const sealed = await sealBytes(encodeManifest(manifest), { dek })
    const manifestBlob = await storeBlob(client, sealed, params.signal)
    const binding = {
      chainId: old.envelope.chainId,
      contract: old.envelope.contract,
      manifest: CID.parse(manifestBlob.cid),
    }
    const unitKey = await getEncryptionKey(client.publicClient, {
      contract: client.config.contract,
      account: old.envelope.unit,
    })
    // A de-identified copy stays keyed for its one audience; any other record for the standing grantees.
    const audience = await getCopyAudience(client.publicClient, {
      contract: client.config.contract,
      id: old.recordId,
    })
    const grantees = audience
      ? [
          {
            address: audience,
            role: 'grantee' as const,
            publicKey: hexToBytes(
              await getEncryptionKey(client.publicClient, {
                contract: client.config.contract,
                account: audience,
              }),
            ),
          },
        ]
      : await standingGrantees(client, old.envelope.patient, old.envelope.kind)
    const envelope: RecordEnvelope = {
      ...old.envelope,
      ...binding,
      manifestSize: sealed.length,
      previous: old.recordId,
      recipients: await wrapForRecipients({
        dek,
        envelope: binding,
        recipients: [
          { address: old.envelope.patient, role: 'patient', publicKey: client.encryptionKeyPair.publicKey },
          { address: getAddress(old.envelope.unit), role: 'custodian', publicKey: hexToBytes(unitKey) },
          ...grantees,
        ],
      }),
    }
    dek.fill(0)
    const encoded = await encodeEnvelope(envelope)
    const status = await client.node.json<{ recordId: Hex; status: string; txHash: Hex | null }>(
      'POST',
      `/api/v1/records/${old.recordId}/rotate`,
      {
        body: {
          envelope: toBase64(encoded.bytes),
          blobs: [manifestBlob.cid, ...files.map((f) => f.cid.toString())],
        },
        query: { wait: 'anchored' },
        signal: params.signal,
      },
    )
    const kept = new Set(grantees.map((g) => g.address))
    const previousGrantees = old.envelope.recipients.filter(
      (r) => r.role === 'grantee' && !kept.has(r.address),
    )
    return {
      previous: old.recordId,
      recordId: status.recordId,
      status: status.status,
      txHash: status.txHash,
      droppedGrantees: previousGrantees.map((g) => g.address),
    }
  } finally {
    closeRecord(old)
  }
}
