import {
  createAccount,
  decryptKeystore,
  deriveEncryptionKeyPair,
  type EncryptionKeyPair,
  type KdfProgress,
  type KeystoreV3,
  type PcmimsWallet,
} from '@pcmims/core'
import type { Account, Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

/** Who is signed in, with the keys that never leave this browser tab. */
export type Identity = {
  account: Account
  encryptionKeyPair: EncryptionKeyPair
  source: 'development' | 'keystore' | 'new-keystore' | 'wallet'
  /** Set when a browser wallet holds the signing key: it signs sign-in messages and transactions. */
  wallet?: PcmimsWallet | undefined
  /** Shown in the header: the development role's name or the keystore's file name. */
  label: string
}

export async function identityFromPrivateKey(
  privateKey: Hex,
  source: Identity['source'],
  label: string,
): Promise<Identity> {
  return {
    account: privateKeyToAccount(privateKey),
    encryptionKeyPair: await deriveEncryptionKeyPair(privateKey),
    source,
    label,
  }
}

export type UnlockKeystoreParameters = {
  keystoreJson: string
  passphrase: string
  label: string
  signal?: AbortSignal | undefined
  onProgress?: ((progress: KdfProgress) => void) | undefined
}

/** Decrypts a PCMIMS (Web3 Secret Storage v3) keystore file in the browser. */
export async function unlockKeystore(params: UnlockKeystoreParameters): Promise<Identity> {
  let keystore: unknown
  try {
    keystore = JSON.parse(params.keystoreJson)
  } catch {
    throw new Error('This file is not a keystore (it is not JSON)')
  }
  const { privateKey } = await decryptKeystore({
    keystore: keystore as KeystoreV3,
    passphrase: params.passphrase,
    signal: params.signal,
    onProgress: params.onProgress,
  })
  return identityFromPrivateKey(privateKey, 'keystore', params.label)
}

/** A new account whose keystore the user must download before going on: it is the only backup. */
export async function createKeystoreIdentity(params: {
  passphrase: string
  onProgress?: ((progress: KdfProgress) => void) | undefined
}): Promise<{ identity: Identity; keystore: KeystoreV3 }> {
  const created = await createAccount({ passphrase: params.passphrase, onProgress: params.onProgress })
  const identity = await identityFromPrivateKey(created.privateKey, 'new-keystore', 'new account')
  return { identity, keystore: created.keystore }
}

/** Overwrites the key material this identity holds; the object is unusable afterwards. */
export function wipeIdentity(identity: Identity): void {
  identity.encryptionKeyPair.privateKey.fill(0)
}
