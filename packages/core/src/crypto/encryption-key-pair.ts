import { randomBytes } from './bytes.js'
import { InvalidKeyError } from './errors.js'
import { getDekWrapSuite } from './hpke-suite.js'

/** A raw X25519 key pair for HPKE key wrapping. */
export type EncryptionKeyPair = {
  /** 32 bytes, registered on chain so others can wrap keys for this account. */
  publicKey: Uint8Array
  /** 32 bytes; never leaves the owner's device or keystore. */
  privateKey: Uint8Array
}

export const X25519_KEY_LENGTH = 32

const X25519_BASE_POINT = (() => {
  const point = new Uint8Array(32)
  point[0] = 9
  return point
})()

/** A fresh random X25519 key pair. */
export async function generateEncryptionKeyPair(): Promise<EncryptionKeyPair> {
  const privateKey = randomBytes(X25519_KEY_LENGTH)
  return { publicKey: await encryptionPublicKeyFromPrivate(privateKey), privateKey }
}

/**
 * The X25519 public key of a raw 32-byte private key.
 *
 * @throws {InvalidKeyError} the key is not 32 bytes.
 */
export async function encryptionPublicKeyFromPrivate(privateKey: Uint8Array): Promise<Uint8Array> {
  const kem = getDekWrapSuite().kem
  const key = await importEncryptionPrivateKey(privateKey)
  // X25519(k, 9) is the public key; the same route @hpke/core takes where JWK export is unreliable.
  const basePoint = await kem.deserializePublicKey(X25519_BASE_POINT)
  const publicKey = await globalThis.crypto.subtle.deriveBits({ name: 'X25519', public: basePoint }, key, 256)
  return new Uint8Array(publicKey)
}

export async function importEncryptionPrivateKey(privateKey: Uint8Array): Promise<CryptoKey> {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== X25519_KEY_LENGTH) {
    throw new InvalidKeyError('Encryption private key must be 32 bytes')
  }
  try {
    return await getDekWrapSuite().kem.deserializePrivateKey(privateKey)
  } catch (cause) {
    throw new InvalidKeyError('Invalid X25519 private key', { cause })
  }
}

export async function importEncryptionPublicKey(publicKey: Uint8Array): Promise<CryptoKey> {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== X25519_KEY_LENGTH) {
    throw new InvalidKeyError('Encryption public key must be 32 bytes')
  }
  try {
    return await getDekWrapSuite().kem.deserializePublicKey(publicKey)
  } catch (cause) {
    throw new InvalidKeyError('Invalid X25519 public key', { cause })
  }
}
