import { randomBytes } from './bytes.js'
import { type ByteSource, ChunkQueue, type StreamProgress } from './chunk-queue.js'
import { InvalidParameterError } from './errors.js'
import {
  assertChunkSize,
  assertDek,
  chunkAad,
  chunkNonce,
  DEFAULT_CHUNK_SIZE,
  deriveStreamCipher,
  encodeHeader,
  STREAM_SALT_LENGTH,
} from './stream-format.js'

export type EncryptStreamParameters = {
  /** The record's 32-byte data key. */
  dek: Uint8Array
  /** Plaintext bytes per chunk, 4 KiB .. 16 MiB; default 256 KiB. Recorded in the header. */
  chunkSize?: number | undefined
  signal?: AbortSignal | undefined
  onProgress?: ((progress: StreamProgress) => void) | undefined
}

export type EncryptStreamReturnType = AsyncGenerator<Uint8Array, void, undefined>

/**
 * Encrypts a byte stream with the PCMIMS chunked AES-256-GCM format (see docs/crypto.md). Memory stays at
 * a few chunks whatever the input size; input may arrive in pieces of any size. The first value yielded
 * is the 41-byte header; each chunk follows as one or more values (in Node its body and its tag, which
 * saves a copy).
 *
 * @throws {InvalidKeyError} the DEK is not 32 bytes (thrown at call time).
 * @throws {InvalidParameterError} the chunk size is out of range (thrown at call time).
 */
export function encryptStream(
  source: ByteSource,
  parameters: EncryptStreamParameters,
): EncryptStreamReturnType {
  assertDek(parameters.dek)
  const chunkSize = parameters.chunkSize ?? DEFAULT_CHUNK_SIZE
  assertChunkSize(chunkSize)
  return encryptStreamWithSalt(source, {
    ...parameters,
    // Copied now: the caller may wipe its DEK as soon as this returns, before the first chunk is pulled.
    dek: parameters.dek.slice(),
    chunkSize,
    salt: randomBytes(STREAM_SALT_LENGTH),
  })
}

/**
 * Same as {@link encryptStream} with a caller-chosen salt. Only for known-answer tests: reusing a salt
 * under the same DEK reuses nonces. Not exported from the package.
 */
export async function* encryptStreamWithSalt(
  source: ByteSource,
  parameters: EncryptStreamParameters & { chunkSize: number; salt: Uint8Array },
): EncryptStreamReturnType {
  const { dek, chunkSize, salt, signal, onProgress } = parameters
  signal?.throwIfAborted()
  const header = encodeHeader(chunkSize, salt)
  const cipher = await deriveStreamCipher(dek, header.salt)
  dek.fill(0)

  const queue = new ChunkQueue<Uint8Array[]>()
  const pending = new Uint8Array(chunkSize)
  let filled = 0
  let index = 0
  const progress: StreamProgress = { plaintextBytes: 0, ciphertextBytes: header.bytes.length }

  const seal = (plaintext: Uint8Array, final: boolean): void => {
    const result = cipher.seal(chunkNonce(index, final), chunkAad(header.bytes, index, final), plaintext)
    queue.push(result, plaintext.length, index, final)
    index++
  }
  const next = async (): Promise<Uint8Array[]> => {
    const item = queue.shift()
    const sealed = await item.result
    signal?.throwIfAborted()
    progress.plaintextBytes += item.inputLength
    for (const part of sealed) progress.ciphertextBytes += part.length
    onProgress?.({ ...progress })
    return sealed
  }

  try {
    yield header.bytes.slice()
    for await (const piece of source) {
      signal?.throwIfAborted()
      if (!(piece instanceof Uint8Array)) {
        throw new InvalidParameterError('Stream source must yield Uint8Array chunks', {
          details: `got ${typeof piece}`,
        })
      }
      let offset = 0
      while (offset < piece.length) {
        if (filled === 0 && piece.length - offset >= chunkSize) {
          seal(piece.subarray(offset, offset + chunkSize), false)
          offset += chunkSize
        } else {
          const take = Math.min(chunkSize - filled, piece.length - offset)
          pending.set(piece.subarray(offset, offset + take), filled)
          filled += take
          offset += take
          if (filled === chunkSize) {
            seal(pending, false)
            filled = 0
          }
        }
        while (queue.full) yield* await next()
      }
    }
    seal(pending.subarray(0, filled), true)
    while (queue.length > 0) yield* await next()
  } finally {
    pending.fill(0)
  }
}
