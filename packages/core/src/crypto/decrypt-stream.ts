import { type ByteSource, ChunkQueue, type StreamProgress } from './chunk-queue.js'
import { DecryptionError, InvalidParameterError } from './errors.js'
import type { AesGcm } from './platform/types.js'
import {
  assertDek,
  chunkAad,
  chunkNonce,
  decodeHeader,
  deriveStreamCipher,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  STREAM_HEADER_LENGTH,
  STREAM_TAG_LENGTH,
  type StreamHeader,
} from './stream-format.js'

export type DecryptStreamParameters = {
  /** The record's 32-byte data key. */
  dek: Uint8Array
  /**
   * Largest chunk size the header may declare (default and ceiling 16 MiB): bounds the memory a hostile
   * stream can make the decryptor allocate.
   */
  maxChunkSize?: number | undefined
  signal?: AbortSignal | undefined
  onProgress?: ((progress: StreamProgress) => void) | undefined
}

export type DecryptStreamReturnType = AsyncGenerator<Uint8Array, void, undefined>

const AUTH_DETAILS = 'wrong key, or the ciphertext was modified, reordered, duplicated, truncated or extended'

/**
 * Decrypts a PCMIMS chunked AES-256-GCM stream. Each chunk's plaintext is yielded only after that chunk
 * authenticates; truncation is detected when the source ends, so a consumer must discard everything it
 * received if the iteration throws. Memory stays at a few chunks; input may arrive in pieces of any size.
 *
 * @throws {InvalidKeyError} the DEK is not 32 bytes (thrown at call time).
 * @throws {DecryptionError} bad header, unsupported version, authentication failure of chunk N, or a
 *   truncated stream (thrown during iteration).
 */
export function decryptStream(
  source: ByteSource,
  parameters: DecryptStreamParameters,
): DecryptStreamReturnType {
  assertDek(parameters.dek)
  const maxChunkSize = parameters.maxChunkSize ?? MAX_CHUNK_SIZE
  if (!Number.isSafeInteger(maxChunkSize) || maxChunkSize < MIN_CHUNK_SIZE) {
    throw new InvalidParameterError('maxChunkSize out of range', { details: `got ${maxChunkSize}` })
  }
  return decryptStreamGenerator(source, { ...parameters, dek: parameters.dek.slice(), maxChunkSize })
}

async function* decryptStreamGenerator(
  source: ByteSource,
  parameters: DecryptStreamParameters & { maxChunkSize: number },
): DecryptStreamReturnType {
  const { dek, maxChunkSize, signal, onProgress } = parameters
  signal?.throwIfAborted()

  const headerBytes = new Uint8Array(STREAM_HEADER_LENGTH)
  let headerFilled = 0
  let header: StreamHeader | undefined
  let cipher: AesGcm | undefined
  let pending = new Uint8Array(0)
  let sealedSize = 0
  let filled = 0
  let index = 0
  const queue = new ChunkQueue<Uint8Array | undefined>()
  const progress: StreamProgress = { plaintextBytes: 0, ciphertextBytes: STREAM_HEADER_LENGTH }

  const open = (sealed: Uint8Array, final: boolean): void => {
    const h = header!
    const result = cipher!.open(chunkNonce(index, final), chunkAad(h.bytes, index, final), sealed)
    queue.push(result, sealed.length, index, final)
    index++
  }
  const next = async (): Promise<Uint8Array> => {
    const item = queue.shift()
    const plaintext = await item.result
    if (!plaintext) {
      throw new DecryptionError(
        `Authentication failed for ${item.final ? 'final ' : ''}chunk ${item.index}`,
        { details: AUTH_DETAILS },
      )
    }
    signal?.throwIfAborted()
    progress.plaintextBytes += plaintext.length
    progress.ciphertextBytes += item.inputLength
    onProgress?.({ ...progress })
    return plaintext
  }

  try {
    for await (const piece of source) {
      signal?.throwIfAborted()
      if (!(piece instanceof Uint8Array)) {
        throw new InvalidParameterError('Stream source must yield Uint8Array chunks', {
          details: `got ${typeof piece}`,
        })
      }
      let offset = 0
      if (!header) {
        const take = Math.min(STREAM_HEADER_LENGTH - headerFilled, piece.length)
        headerBytes.set(piece.subarray(0, take), headerFilled)
        headerFilled += take
        offset = take
        if (headerFilled < STREAM_HEADER_LENGTH) continue
        header = decodeHeader(headerBytes, maxChunkSize)
        cipher = await deriveStreamCipher(dek, header.salt)
        dek.fill(0)
        sealedSize = header.chunkSize + STREAM_TAG_LENGTH
        pending = new Uint8Array(sealedSize)
      }
      while (offset < piece.length) {
        // A full-size sealed chunk is never the final one: the final chunk carries < chunkSize bytes.
        if (filled === 0 && piece.length - offset >= sealedSize) {
          open(piece.subarray(offset, offset + sealedSize), false)
          offset += sealedSize
        } else {
          const take = Math.min(sealedSize - filled, piece.length - offset)
          pending.set(piece.subarray(offset, offset + take), filled)
          filled += take
          offset += take
          if (filled === sealedSize) {
            open(pending, false)
            filled = 0
          }
        }
        while (queue.full) yield await next()
      }
    }
    if (!header) {
      throw new DecryptionError('Truncated stream: incomplete header', {
        details: `${headerFilled} of ${STREAM_HEADER_LENGTH} header bytes`,
      })
    }
    while (queue.length > 0) yield await next()
    if (filled < STREAM_TAG_LENGTH) {
      throw new DecryptionError('Truncated stream: final chunk missing', {
        details: `stream ends after ${index} full chunks and ${filled} more bytes`,
      })
    }
    open(pending.subarray(0, filled), true)
    while (queue.length > 0) yield await next()
  } finally {
    dek.fill(0)
    pending.fill(0)
  }
}
