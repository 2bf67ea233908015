import { type Address, bytesToHex, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { timingSafeEqual, utf8 } from '../crypto/bytes.js'
import type { EncryptionKeyPair } from '../crypto/encryption-key-pair.js'
import { InvalidParameterError } from '../crypto/errors.js'
import { deriveEncryptionKeyPair } from './derive-encryption-key-pair.js'
import { InvalidKeystoreError, WrongPassphraseError } from './errors.js'
import {
  aes128Ctr,
  checkPbkdf2Params,
  checkScryptParams,
  derivePbkdf2,
  deriveScrypt,
  isHex,
  type KdfOptions,
  keystoreMac,
  unhex,
} from './kdf.js'
import type { KdfProgress, KeystoreV3, Pbkdf2KdfParams, ScryptKdfParams } from './types.js'

export type DecryptKeystoreParameters = {
  /** The keystore object or its JSON text. */
  keystore: KeystoreV3 | string
  passphrase: string
  signal?: AbortSignal | undefined
  onProgress?: ((progress: KdfProgress) => void) | undefined
}

export type DecryptKeystoreReturnType = {
  privateKey: Hex
  address: Address
  encryptionKeyPair: EncryptionKeyPair
}

const MAX_KEYSTORE_JSON_LENGTH = 64 * 1024

type ParsedKeystore = {
  kdf: { kind: 'scrypt'; params: ScryptKdfParams } | { kind: 'pbkdf2'; params: Pbkdf2KdfParams }
  iv: Uint8Array
  ciphertext: Uint8Array
  mac: Uint8Array
  address: string | undefined
  encryptionPublicKey: string | undefined
}

/**
 * Opens a Web3 Secret Storage v3 keystore (scrypt or pbkdf2, AES-128-CTR) such as geth, ethers or
 * MetaMask write, and derives the account's X25519 encryption key pair. The passphrase is tried in its
 * NFKC form first, then as given if that differs.
 *
 * @throws {WrongPassphraseError} the passphrase does not match the keystore's MAC.
 * @throws {InvalidKeystoreError} malformed JSON, unsupported cipher/KDF, parameters beyond limits, or an
 *   address / encryption key that does not match the decrypted key.
 */
export async function decryptKeystore(
  parameters: DecryptKeystoreParameters,
): Promise<DecryptKeystoreReturnType> {
  const { passphrase, signal, onProgress } = parameters
  if (typeof passphrase !== 'string') throw new InvalidParameterError('Passphrase must be a string')
  const parsed = parseKeystore(parameters.keystore)

  const candidates = [passphrase.normalize('NFKC')]
  if (candidates[0] !== passphrase) candidates.push(passphrase)
  let derivedKey: Uint8Array | undefined
  for (const candidate of candidates) {
    const key = await deriveKey(utf8(candidate), parsed, { signal, onProgress })
    if (timingSafeEqual(keystoreMac(key, parsed.ciphertext), parsed.mac)) {
      derivedKey = key
      break
    }
    key.fill(0)
  }
  if (!derivedKey) throw new WrongPassphraseError()

  const secret = new Uint8Array(32)
  const decrypted = await aes128Ctr(derivedKey.subarray(0, 16), parsed.iv, parsed.ciphertext)
  secret.set(decrypted, 32 - decrypted.length)
  decrypted.fill(0)
  derivedKey.fill(0)
  const privateKey = bytesToHex(secret)
  secret.fill(0)
  let address: Address
  try {
    address = privateKeyToAccount(privateKey).address
  } catch (cause) {
    throw new InvalidKeystoreError('decrypted key is not a valid secp256k1 key', { cause })
  }
  if (parsed.address !== undefined && parsed.address.toLowerCase() !== address.slice(2).toLowerCase()) {
    throw new InvalidKeystoreError('address does not match the key', {
      details: `file says 0x${parsed.address}`,
    })
  }
  const encryptionKeyPair = await deriveEncryptionKeyPair(privateKey)
  if (
    parsed.encryptionPublicKey !== undefined &&
    parsed.encryptionPublicKey.toLowerCase() !== bytesToHex(encryptionKeyPair.publicKey)
  ) {
    throw new InvalidKeystoreError('pcmims.encryptionPublicKey does not match the key')
  }
  return { privateKey, address, encryptionKeyPair }
}

function deriveKey(password: Uint8Array, parsed: ParsedKeystore, options: KdfOptions): Promise<Uint8Array> {
  return parsed.kdf.kind === 'scrypt'
    ? deriveScrypt(password, parsed.kdf.params, options)
    : derivePbkdf2(password, parsed.kdf.params, options)
}

function parseKeystore(input: KeystoreV3 | string): ParsedKeystore {
  let value: unknown = input
  if (typeof input === 'string') {
    if (input.length > MAX_KEYSTORE_JSON_LENGTH) throw new InvalidKeystoreError('file too large')
    try {
      value = JSON.parse(input)
    } catch (cause) {
      throw new InvalidKeystoreError('not JSON', { cause })
    }
  }
  if (!isObject(value)) throw new InvalidKeystoreError('not a JSON object')
  if (value.version === undefined)
    throw new InvalidKeystoreError('no keystore version: is this a keystore file?')
  if (value.version !== 3)
    throw new InvalidKeystoreError('unsupported version', {
      details: `version ${JSON.stringify(value.version)}`,
    })
  // geth writes "crypto", some older tools "Crypto".
  const crypto = value.crypto ?? value.Crypto
  if (!isObject(crypto)) throw new InvalidKeystoreError('missing crypto section')
  if (crypto.cipher !== 'aes-128-ctr') {
    throw new InvalidKeystoreError('unsupported cipher', { details: String(crypto.cipher) })
  }
  const iv = isObject(crypto.cipherparams) ? crypto.cipherparams.iv : undefined
  if (!isHex(iv, 16)) throw new InvalidKeystoreError('cipherparams.iv must be 16 bytes of hex')
  // Old clients stored keys with leading zero bytes short (geth still reads them), hence 1..32 bytes.
  const ciphertext = crypto.ciphertext
  if (!isHex(ciphertext) || ciphertext.length < 2 || ciphertext.length > 64) {
    throw new InvalidKeystoreError('ciphertext must be 1..32 bytes of hex')
  }
  if (!isHex(crypto.mac, 32)) throw new InvalidKeystoreError('mac must be 32 bytes of hex')
  if (!isObject(crypto.kdfparams)) throw new InvalidKeystoreError('missing kdfparams')
  let kdf: ParsedKeystore['kdf']
  if (crypto.kdf === 'scrypt') {
    const params = crypto.kdfparams as ScryptKdfParams
    checkScryptParams(params)
    kdf = { kind: 'scrypt', params }
  } else if (crypto.kdf === 'pbkdf2') {
    const params = crypto.kdfparams as Pbkdf2KdfParams
    checkPbkdf2Params(params)
    kdf = { kind: 'pbkdf2', params }
  } else {
    throw new InvalidKeystoreError('unsupported kdf', { details: String(crypto.kdf) })
  }
  let address: string | undefined
  if (value.address !== undefined) {
    const raw = typeof value.address === 'string' ? value.address.replace(/^0x/i, '') : undefined
    if (!isHex(raw, 20)) throw new InvalidKeystoreError('address must be 20 bytes of hex')
    address = raw
  }
  let encryptionPublicKey: string | undefined
  if (value.pcmims !== undefined) {
    const ext = value.pcmims
    if (!isObject(ext) || ext.version !== 1) throw new InvalidKeystoreError('unsupported pcmims section')
    const key = ext.encryptionPublicKey
    if (typeof key !== 'string' || !key.startsWith('0x') || !isHex(key.slice(2), 32)) {
      throw new InvalidKeystoreError('pcmims.encryptionPublicKey must be 32 bytes of 0x-prefixed hex')
    }
    encryptionPublicKey = key
  }
  return {
    kdf,
    iv: unhex(iv),
    ciphertext: unhex(ciphertext),
    mac: unhex(crypto.mac),
    address,
    encryptionPublicKey,
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
