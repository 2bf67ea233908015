import { createAesGcm } from '#platform/aes-gcm'
import { hkdfSha256, utf8, writeUint64BE } from './bytes.js'
import { DecryptionError, InvalidKeyError, InvalidParameterError } from './errors.js'
import type { AesGcm } from './platform/types.js'

/*
 * PCMIMS stream format, version 1 (docs/crypto.md has the byte-by-byte description):
 *
 *   header  = magic "PCMS" (4) | version 0x01 (1) | chunk size u32 BE (4) | salt (32)   -> 41 bytes
 *   key     = HKDF-SHA256(ikm = DEK, salt, info = "pcmims/v1/stream", L = 32)
 *   chunk i = AES-256-GCM(key, nonce_i, aad_i, plaintext_i) = ciphertext_i | tag_i (16)
 *   nonce_i = i as u64 BE (8) | 0x00 0x00 0x00 | final flag (1)
 *   aad_i   = header (41) | i as u64 BE (8) | final flag (1)
 *
 * Every chunk but the last holds exactly `chunk size` plaintext bytes; the last (final flag 0x01) holds
 * 0 .. chunk size − 1 bytes, so a plaintext whose length is a multiple of the chunk size ends with an
 * empty final chunk, and an empty plaintext is one empty final chunk.
 */

export const STREAM_MAGIC = utf8('PCMS')
export const STREAM_VERSION = 1
export const STREAM_HEADER_LENGTH = 41
export const STREAM_SALT_LENGTH = 32
export const STREAM_TAG_LENGTH = 16
export const STREAM_KEY_INFO = utf8('pcmims/v1/stream')

export const DEK_LENGTH = 32
export const DEFAULT_CHUNK_SIZE = 256 * 1024
export const MIN_CHUNK_SIZE = 4 * 1024
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024

export type StreamHeader = {
  version: number
  chunkSize: number
  salt: Uint8Array
  /** The 41 header bytes exactly as read or written; they are bound into every chunk's AAD. */
  bytes: Uint8Array
}

export function assertDek(dek: unknown): asserts dek is Uint8Array {
  if (!(dek instanceof Uint8Array) || dek.length !== DEK_LENGTH) {
    throw new InvalidKeyError('Data key must be 32 bytes', {
      details: dek instanceof Uint8Array ? `got ${dek.length} bytes` : `got ${typeof dek}`,
    })
  }
}

export function assertChunkSize(chunkSize: number): void {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new InvalidParameterError('Chunk size out of range', {
      details: `chunk size ${chunkSize}, allowed ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE} bytes`,
    })
  }
}

export function encodeHeader(chunkSize: number, salt: Uint8Array): StreamHeader {
  assertChunkSize(chunkSize)
  if (salt.length !== STREAM_SALT_LENGTH) throw new InvalidParameterError('Stream salt must be 32 bytes')
  const bytes = new Uint8Array(STREAM_HEADER_LENGTH)
  bytes.set(STREAM_MAGIC, 0)
  bytes[4] = STREAM_VERSION
  new DataView(bytes.buffer).setUint32(5, chunkSize)
  bytes.set(salt, 9)
  return { version: STREAM_VERSION, chunkSize, salt: bytes.slice(9), bytes }
}

/** Parses and checks a header; `maxChunkSize` bounds the memory a hostile header can make us allocate. */
export function decodeHeader(bytes: Uint8Array, maxChunkSize = MAX_CHUNK_SIZE): StreamHeader {
  if (bytes.length < STREAM_HEADER_LENGTH) {
    throw new DecryptionError('Truncated stream: incomplete header', {
      details: `${bytes.length} of ${STREAM_HEADER_LENGTH} header bytes`,
    })
  }
  for (let i = 0; i < STREAM_MAGIC.length; i++) {
    if (bytes[i] !== STREAM_MAGIC[i]) throw new DecryptionError('Bad header: not a PCMIMS encrypted stream')
  }
  const version = bytes[4]!
  if (version !== STREAM_VERSION) {
    throw new DecryptionError('Bad header: unsupported format version', { details: `version ${version}` })
  }
  const chunkSize = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(5)
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > Math.min(MAX_CHUNK_SIZE, maxChunkSize)) {
    throw new DecryptionError('Bad header: chunk size out of range', {
      details: `chunk size ${chunkSize}, allowed ${MIN_CHUNK_SIZE}..${Math.min(MAX_CHUNK_SIZE, maxChunkSize)}`,
    })
  }
  const header = bytes.slice(0, STREAM_HEADER_LENGTH)
  return { version, chunkSize, salt: header.slice(9), bytes: header }
}

/** The per-stream AES-256-GCM key: a fresh salt per stream keeps nonces unique under a shared DEK. */
export async function deriveStreamCipher(dek: Uint8Array, salt: Uint8Array): Promise<AesGcm> {
  const key = await hkdfSha256(dek, salt, STREAM_KEY_INFO, 32)
  try {
    return await createAesGcm(key)
  } finally {
    key.fill(0)
  }
}

export function chunkNonce(index: number, final: boolean): Uint8Array {
  const nonce = new Uint8Array(12)
  writeUint64BE(nonce, 0, index)
  nonce[11] = final ? 1 : 0
  return nonce
}

export function chunkAad(header: Uint8Array, index: number, final: boolean): Uint8Array {
  const aad = new Uint8Array(header.length + 9)
  aad.set(header, 0)
  writeUint64BE(aad, header.length, index)
  aad[header.length + 8] = final ? 1 : 0
  return aad
}

/**
 * Ciphertext length for a plaintext of `plaintextLength` bytes: header + one tag per chunk, including the
 * final (possibly empty) chunk.
 */
export function ciphertextLength(plaintextLength: number, chunkSize: number = DEFAULT_CHUNK_SIZE): number {
  assertChunkSize(chunkSize)
  if (!Number.isSafeInteger(plaintextLength) || plaintextLength < 0) {
    throw new InvalidParameterError('Plaintext length must be a non-negative safe integer')
  }
  const fullChunks = Math.floor(plaintextLength / chunkSize)
  const length = STREAM_HEADER_LENGTH + plaintextLength + (fullChunks + 1) * STREAM_TAG_LENGTH
  if (!Number.isSafeInteger(length)) throw new InvalidParameterError('Plaintext length too large')
  return length
}

/**
 * Plaintext length of a well-formed ciphertext of `ciphertextLength` bytes (inverse of
 * {@link ciphertextLength}); throws when no plaintext length maps to it.
 */
export function plaintextLength(ciphertextLength: number, chunkSize: number = DEFAULT_CHUNK_SIZE): number {
  assertChunkSize(chunkSize)
  if (
    !Number.isSafeInteger(ciphertextLength) ||
    ciphertextLength < STREAM_HEADER_LENGTH + STREAM_TAG_LENGTH
  ) {
    throw new InvalidParameterError('Not a valid ciphertext length')
  }
  const body = ciphertextLength - STREAM_HEADER_LENGTH
  const fullChunks = Math.floor(body / (chunkSize + STREAM_TAG_LENGTH))
  const last = body - fullChunks * (chunkSize + STREAM_TAG_LENGTH)
  if (last < STREAM_TAG_LENGTH) throw new InvalidParameterError('Not a valid ciphertext length')
  return fullChunks * chunkSize + last - STREAM_TAG_LENGTH
}
