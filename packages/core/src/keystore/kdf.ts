import { scryptAsync } from '@noble/hashes/scrypt.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { bytesToHex, hexToBytes } from 'viem'
import { InvalidKeystoreError } from './errors.js'
import type { KdfProgress, Pbkdf2KdfParams, ScryptKdfParams } from './types.js'

// Bounds for keystores we read: a hostile file must not make us spend unbounded memory or time.
// The definition's own scrypt vector (n = 2^18, r = 8, p = 1) is well inside.
export const KDF_LIMITS = {
  maxScryptN: 2 ** 20,
  maxScryptR: 32,
  maxScryptP: 16,
  maxScryptMemory: 1024 ** 3, // 128 * n * r bytes
  maxScryptWork: 2 ** 24, // n * r * p
  maxPbkdf2Iterations: 10_000_000,
  maxSaltBytes: 256,
} as const

export const DEFAULT_SCRYPT = { n: 2 ** 17, r: 8, p: 1 } as const

export type KdfOptions = {
  signal?: AbortSignal | undefined
  onProgress?: ((progress: KdfProgress) => void) | undefined
}

export function checkScryptParams(params: ScryptKdfParams): void {
  const { n, r, p, dklen } = params
  const int = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0
  if (!int(n) || n < 2 || (n & (n - 1)) !== 0 || n > KDF_LIMITS.maxScryptN) {
    throw new InvalidKeystoreError('scrypt n must be a power of two in 2..2^20', { details: `n = ${n}` })
  }
  if (!int(r) || r > KDF_LIMITS.maxScryptR || !int(p) || p > KDF_LIMITS.maxScryptP) {
    throw new InvalidKeystoreError('scrypt r or p out of range', { details: `r = ${r}, p = ${p}` })
  }
  if (128 * n * r > KDF_LIMITS.maxScryptMemory || n * r * p > KDF_LIMITS.maxScryptWork) {
    throw new InvalidKeystoreError('scrypt cost too high', { details: `n = ${n}, r = ${r}, p = ${p}` })
  }
  checkDkLen(dklen)
  checkSalt(params.salt)
}

export function checkPbkdf2Params(params: Pbkdf2KdfParams): void {
  const { c, prf, dklen } = params
  if (prf !== 'hmac-sha256') throw new InvalidKeystoreError('pbkdf2 prf must be hmac-sha256')
  if (typeof c !== 'number' || !Number.isSafeInteger(c) || c < 1 || c > KDF_LIMITS.maxPbkdf2Iterations) {
    throw new InvalidKeystoreError('pbkdf2 iteration count out of range', { details: `c = ${c}` })
  }
  checkDkLen(dklen)
  checkSalt(params.salt)
}

function checkDkLen(dklen: unknown): void {
  // MAC uses DK[16..31] and the cipher DK[0..15], so at least 32 bytes (the definition says >= 32).
  if (typeof dklen !== 'number' || !Number.isSafeInteger(dklen) || dklen < 32 || dklen > 64) {
    throw new InvalidKeystoreError('dklen must be 32..64', { details: `dklen = ${dklen}` })
  }
}

function checkSalt(salt: unknown): void {
  if (!isHex(salt) || salt.length < 2 || salt.length > KDF_LIMITS.maxSaltBytes * 2) {
    throw new InvalidKeystoreError('kdf salt must be 1..256 bytes of hex')
  }
}

export function isHex(value: unknown, bytes?: number): value is string {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value)) return false
  return bytes === undefined || value.length === bytes * 2
}

export function unhex(value: string): Uint8Array {
  return hexToBytes(`0x${value}`)
}

export function hex(value: Uint8Array): string {
  return bytesToHex(value).slice(2)
}

export async function deriveScrypt(
  password: Uint8Array,
  params: ScryptKdfParams,
  options: KdfOptions,
): Promise<Uint8Array> {
  const { signal, onProgress } = options
  signal?.throwIfAborted()
  return scryptAsync(password, unhex(params.salt), {
    N: params.n,
    r: params.r,
    p: params.p,
    dkLen: params.dklen,
    maxmem: KDF_LIMITS.maxScryptMemory + 1024 * 1024,
    // noble wipes its buffers and rethrows when the callback throws: that is how an abort stops scrypt.
    onProgress: (fraction) => {
      signal?.throwIfAborted()
      onProgress?.({ fraction })
    },
  })
}

export async function derivePbkdf2(
  password: Uint8Array,
  params: Pbkdf2KdfParams,
  options: KdfOptions,
): Promise<Uint8Array> {
  const { signal, onProgress } = options
  signal?.throwIfAborted()
  const subtle = globalThis.crypto.subtle
  const key = await subtle.importKey('raw', password as Uint8Array<ArrayBuffer>, 'PBKDF2', false, [
    'deriveBits',
  ])
  const bits = await subtle.deriveBits(
    {
      name: 'PBKDF2',
      hash: 'SHA-256',
      salt: unhex(params.salt) as Uint8Array<ArrayBuffer>,
      iterations: params.c,
    },
    key,
    params.dklen * 8,
  )
  signal?.throwIfAborted()
  onProgress?.({ fraction: 1 })
  return new Uint8Array(bits)
}

/** keccak-256(DK[16..31] || ciphertext), the Web3 Secret Storage MAC. */
export function keystoreMac(derivedKey: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const body = new Uint8Array(16 + ciphertext.length)
  body.set(derivedKey.subarray(16, 32), 0)
  body.set(ciphertext, 16)
  return keccak_256(body)
}

/** AES-128-CTR with the full 128-bit block as the big-endian counter (as geth's cipher.NewCTR does). */
export async function aes128Ctr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto.subtle
  const cryptoKey = await subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, 'AES-CTR', false, [
    'encrypt',
  ])
  const out = await subtle.encrypt(
    { name: 'AES-CTR', counter: iv as Uint8Array<ArrayBuffer>, length: 128 },
    cryptoKey,
    data as Uint8Array<ArrayBuffer>,
  )
  return new Uint8Array(out)
}
