import { decryptStream } from '../crypto/decrypt-stream.js'
import { IntegrityError } from '../records/errors.js'
import type { ManifestFile } from '../records/manifest.js'
import { verifyFileStream } from '../records/verify-file-stream.js'
import type { OpenedRecord } from './open-record.js'
import type { PcmimsClient } from './pcmims-client.js'

export type ReadRecordFileParameters = {
  record: OpenedRecord
  file: ManifestFile
  signal?: AbortSignal | undefined
  onProgress?: ((bytes: number) => void) | undefined
}

/**
 * Streams one file of an opened record as plaintext. Every chunk is authenticated before it is
 * yielded; size and SHA-256 are checked when the stream ends, so a caller must treat what it wrote as
 * provisional until the iteration completes without throwing.
 */
export async function* readRecordFile(
  client: PcmimsClient,
  { record, file, signal, onProgress }: ReadRecordFileParameters,
): AsyncGenerator<Uint8Array, void, undefined> {
  const response = await client.node.raw('GET', `/api/v1/records/${record.recordId}/blobs/${file.cid}`, {
    ...(signal ? { signal } : {}),
  })
  if (!response.body) throw new IntegrityError('The node returned no content', { details: file.path })
  yield* verifyFileStream(
    decryptStream(response.body as unknown as AsyncIterable<Uint8Array>, { dek: record.dek, signal }),
    { size: file.size, sha256: file.sha256, label: file.path, onProgress },
  )
}
