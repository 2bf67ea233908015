import { encryptStream } from './encrypt-stream.js'
import { ciphertextLength, DEFAULT_CHUNK_SIZE } from './stream-format.js'

export type SealBytesParameters = {
  /** The record's 32-byte data key. */
  dek: Uint8Array
  /** Default 256 KiB, so small payloads are one chunk. */
  chunkSize?: number | undefined
  signal?: AbortSignal | undefined
}

export type SealBytesReturnType = Uint8Array

/**
 * Encrypts a small in-memory payload (a manifest, a key bundle) in the same format as
 * {@link encryptStream}, so one decoder reads both.
 */
export async function sealBytes(
  plaintext: Uint8Array,
  parameters: SealBytesParameters,
): Promise<SealBytesReturnType> {
  const chunkSize = parameters.chunkSize ?? DEFAULT_CHUNK_SIZE
  const out = new Uint8Array(ciphertextLength(plaintext.length, chunkSize))
  let offset = 0
  for await (const part of encryptStream([plaintext], { ...parameters, chunkSize })) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
