import type { Address, Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { EncryptionKeyPair } from '../crypto/encryption-key-pair.js'
import { deriveEncryptionKeyPair } from './derive-encryption-key-pair.js'
import { encryptKeystore } from './encrypt-keystore.js'
import type { KdfProgress, KeystoreV3, ScryptCost } from './types.js'

export type CreateAccountParameters = {
  passphrase: string
  /** scrypt cost; lower only for tests and development accounts. */
  kdfParams?: ScryptCost | undefined
  signal?: AbortSignal | undefined
  onProgress?: ((progress: KdfProgress) => void) | undefined
}

export type CreateAccountReturnType = {
  keystore: KeystoreV3
  privateKey: Hex
  address: Address
  encryptionKeyPair: EncryptionKeyPair
}

/** A new random account (secp256k1 key, derived X25519 key pair) and its encrypted keystore. */
export async function createAccount(parameters: CreateAccountParameters): Promise<CreateAccountReturnType> {
  const privateKey = generatePrivateKey()
  const keystore = await encryptKeystore({ ...parameters, privateKey })
  return {
    keystore,
    privateKey,
    address: privateKeyToAccount(privateKey).address,
    encryptionKeyPair: await deriveEncryptionKeyPair(privateKey),
  }
}
