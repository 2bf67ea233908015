import { decryptStream } from '../crypto/decrypt-stream.js'
import { createSha256 } from '../crypto/sha256.js'
import { IntegrityError } from '../records/errors.js'
import type { ManifestFile } from '../records/manifest.js'
import { equalBytes } from '../records/record-id.js'
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
  const hasher = createSha256()
  let size = 0
  for await (const chunk of decryptStream(response.body as unknown as AsyncIterable<Uint8Array>, {
    dek: record.dek,
    signal,
  })) {
    size += chunk.length
    if (size > file.size)
      throw new IntegrityError('File is longer than its manifest says', { details: file.path })
    hasher.update(chunk)
    onProgress?.(size)
    yield chunk
  }
  if (size !== file.size)
    throw new IntegrityError('File is shorter than its manifest says', { details: file.path })
  if (!equalBytes(hasher.digest(), file.sha256)) {
    throw new IntegrityError('File content does not match its SHA-256 digest', { details: file.path })
  }
}
