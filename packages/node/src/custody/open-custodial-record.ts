import {
  concatBytes,
  dagCborCidFromDigest,
  decodeEnvelope,
  decodeManifest,
  decryptStream,
  IntegrityError,
  MANIFEST_LIMITS,
  type ManifestFile,
  openBytes,
  openRecordKey,
  type RecordEnvelope,
  type RecordManifest,
  verifyFileStream,
} from '@pcmims/core'
import type { Hex } from 'viem'
import type { NodeContext } from '../context.js'
import { NotFoundError } from '../http/errors.js'

export type CustodialRecord = {
  recordId: Hex
  envelope: RecordEnvelope
  manifest: RecordManifest
  dek: Uint8Array
}

/**
 * Opens a record this node is custodian of with the unit's own key: the node can then serve it
 * decrypted to callers the chain allows and who hold no key (break-glass medics, software that
 * cannot decrypt). Records of other custodians stay ciphertext here.
 */
export async function openCustodialRecord(
  ctx: Pick<NodeContext, 'store' | 'unit'>,
  recordId: Hex,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<CustodialRecord> {
  const envelopeCid = dagCborCidFromDigest(recordId)
  if (!(await ctx.store.has(envelopeCid))) throw new NotFoundError('This node does not hold the record')
  const envelope = decodeEnvelope(await ctx.store.getBlock(envelopeCid))
  if (envelope.unit !== ctx.unit.address) {
    throw new NotFoundError('This node is not the custodian of the record', 'ask the custodian unit’s node')
  }
  const dek = await openRecordKey({
    envelope,
    recordId,
    address: ctx.unit.address,
    privateKey: ctx.unit.encryptionKeyPair.privateKey,
  })
  const { size } = await ctx.store.stat(envelope.manifest)
  if (size > MANIFEST_LIMITS.maxBytes + 4096) throw new IntegrityError('The manifest is too large')
  const chunks: Uint8Array[] = []
  for await (const chunk of ctx.store.cat(envelope.manifest, { signal: options.signal })) chunks.push(chunk)
  const manifest = decodeManifest(await openBytes(concatBytes(...chunks), { dek }))
  return { recordId, envelope, manifest, dek }
}

/**
 * One file of a custodial record as plaintext: every chunk is authenticated before it is yielded, and
 * size and SHA-256 are checked at the end (a mismatch aborts the stream, so a reader never sees a
 * clean end of a wrong file).
 */
export async function* readCustodialFile(
  ctx: Pick<NodeContext, 'store'>,
  record: CustodialRecord,
  file: ManifestFile,
  options: { signal?: AbortSignal | undefined } = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  // No label: file names can carry PHI and this error may be logged.
  yield* verifyFileStream(
    decryptStream(ctx.store.cat(file.cid, { signal: options.signal }), {
      dek: record.dek,
      signal: options.signal,
    }),
    { size: file.size, sha256: file.sha256 },
  )
}
