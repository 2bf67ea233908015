import { bytesToHex, type Hex, hexToBytes } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { randomBytes, utf8 } from '../crypto/bytes.js'
import { InvalidKeyError, InvalidParameterError } from '../crypto/errors.js'
import { deriveEncryptionKeyPair } from './derive-encryption-key-pair.js'
import { aes128Ctr, checkScryptParams, DEFAULT_SCRYPT, deriveScrypt, hex, keystoreMac } from './kdf.js'
import type { KdfProgress, KeystoreV3, ScryptCost, ScryptKdfParams } from './types.js'

export type EncryptKeystoreParameters = {
  /** The account's secp256k1 private key. */
  privateKey: Hex
  passphrase: string
  /** scrypt cost; lower only for tests and development accounts. */
  kdfParams?: ScryptCost | undefined
  signal?: AbortSignal | undefined
  onProgress?: ((progress: KdfProgress) => void) | undefined
}

export type EncryptKeystoreReturnType = KeystoreV3

/**
 * Encrypts an account key into a Web3 Secret Storage v3 keystore (scrypt, AES-128-CTR, keccak-256 MAC),
 * importable by geth, ethers and MetaMask, with the derived X25519 public key in the `pcmims` field.
 * The passphrase is used as its UTF-8 NFKC form (as ethers does).
 *
 * @throws {InvalidKeyError} the private key is not a valid secp256k1 key.
 * @throws {InvalidParameterError} the scrypt cost is out of range.
 */
export async function encryptKeystore(
  parameters: EncryptKeystoreParameters,
): Promise<EncryptKeystoreReturnType> {
  const { privateKey, passphrase, kdfParams, signal, onProgress } = parameters
  if (typeof passphrase !== 'string') throw new InvalidParameterError('Passphrase must be a string')
  let address: string
  try {
    address = privateKeyToAccount(privateKey).address
  } catch (cause) {
    throw new InvalidKeyError('Invalid account private key', { cause })
  }
  const scrypt: ScryptKdfParams = {
    dklen: 32,
    n: kdfParams?.n ?? DEFAULT_SCRYPT.n,
    r: kdfParams?.r ?? DEFAULT_SCRYPT.r,
    p: kdfParams?.p ?? DEFAULT_SCRYPT.p,
    salt: hex(randomBytes(32)),
  }
  try {
    checkScryptParams(scrypt)
  } catch (cause) {
    throw new InvalidParameterError('scrypt cost out of range', { cause })
  }
  const encryptionKeyPair = await deriveEncryptionKeyPair(privateKey)
  encryptionKeyPair.privateKey.fill(0)

  const derivedKey = await deriveScrypt(utf8(passphrase.normalize('NFKC')), scrypt, { signal, onProgress })
  const iv = randomBytes(16)
  const secret = hexToBytes(privateKey)
  try {
    const ciphertext = await aes128Ctr(derivedKey.subarray(0, 16), iv, secret)
    return {
      version: 3,
      id: globalThis.crypto.randomUUID(),
      address: address.slice(2).toLowerCase(),
      crypto: {
        cipher: 'aes-128-ctr',
        cipherparams: { iv: hex(iv) },
        ciphertext: hex(ciphertext),
        kdf: 'scrypt',
        kdfparams: scrypt,
        mac: hex(keystoreMac(derivedKey, ciphertext)),
      },
      pcmims: { version: 1, encryptionPublicKey: bytesToHex(encryptionKeyPair.publicKey) },
    }
  } finally {
    secret.fill(0)
    derivedKey.fill(0)
  }
}
