import { type Hex, hexToBytes } from 'viem'
import { hkdfSha256, utf8 } from '../crypto/bytes.js'
import { type EncryptionKeyPair, encryptionPublicKeyFromPrivate } from '../crypto/encryption-key-pair.js'
import { InvalidKeyError } from '../crypto/errors.js'

export const X25519_DERIVATION_LABEL = utf8('pcmims/v1/x25519')

/**
 * The account's X25519 encryption key pair, derived from its secp256k1 private key with
 * HKDF-SHA256(ikm = private key, salt = info = "pcmims/v1/x25519", L = 32), so one keystore backup
 * restores both the signing and the decryption key.
 *
 * @throws {InvalidKeyError} the private key is not 32 bytes of hex.
 */
export async function deriveEncryptionKeyPair(privateKey: Hex): Promise<EncryptionKeyPair> {
  if (typeof privateKey !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(privateKey)) {
    throw new InvalidKeyError('Account private key must be 32 bytes of 0x-prefixed hex')
  }
  const ikm = hexToBytes(privateKey)
  try {
    const x25519 = await hkdfSha256(ikm, X25519_DERIVATION_LABEL, X25519_DERIVATION_LABEL, 32)
    return { publicKey: await encryptionPublicKeyFromPrivate(x25519), privateKey: x25519 }
  } finally {
    ikm.fill(0)
  }
}
