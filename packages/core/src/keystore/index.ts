export {
  type CreateAccountParameters,
  type CreateAccountReturnType,
  createAccount,
} from './create-account.js'
export {
  type DecryptKeystoreParameters,
  type DecryptKeystoreReturnType,
  decryptKeystore,
} from './decrypt-keystore.js'
export { deriveEncryptionKeyPair } from './derive-encryption-key-pair.js'
export {
  deriveWalletEncryptionKeyPair,
  WALLET_X25519_LABEL,
  walletEncryptionKeyMessage,
} from './derive-wallet-encryption-key-pair.js'
export {
  type EncryptKeystoreParameters,
  type EncryptKeystoreReturnType,
  encryptKeystore,
} from './encrypt-keystore.js'
export { InvalidKeystoreError, WrongPassphraseError } from './errors.js'
export { DEFAULT_SCRYPT, KDF_LIMITS } from './kdf.js'
export type { KdfProgress, KeystoreV3, Pbkdf2KdfParams, ScryptCost, ScryptKdfParams } from './types.js'
