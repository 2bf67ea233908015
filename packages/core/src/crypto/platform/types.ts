/**
 * Contracts for the platform-specific primitives behind `#platform/*` (package.json `imports`): Node gets
 * node:crypto (OpenSSL, synchronous, no thread-pool hop), every other runtime gets WebCrypto or @noble.
 * Both variants must behave identically; the tests run each against the other.
 */

/** Incremental SHA-256. */
export type Sha256Hasher = {
  update(data: Uint8Array): Sha256Hasher
  /** Finishes the hash; the hasher cannot be used afterwards. */
  digest(): Uint8Array
}

/**
 * AES-256-GCM with a fixed key, 96-bit nonces and 128-bit tags. Implementations copy (or finish reading)
 * their inputs before the returned promise is created, so callers may reuse buffers right away.
 */
export type AesGcm = {
  /**
   * Returns ciphertext || tag as one or more parts, in order: node:crypto hands back the body and the tag
   * separately, and joining them would cost a copy of every chunk (measured ~30% of seal time).
   */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array[]>
  /** Returns the plaintext, or `undefined` when the tag does not verify. */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Promise<Uint8Array | undefined>
}

export type PlatformName = 'node' | 'web'
