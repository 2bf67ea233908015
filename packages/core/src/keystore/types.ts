import type { Hex } from 'viem'

export type ScryptKdfParams = { dklen: number; n: number; r: number; p: number; salt: string }
export type Pbkdf2KdfParams = { dklen: number; c: number; prf: 'hmac-sha256'; salt: string }

/**
 * A Web3 Secret Storage v3 keystore (the geth / ethers / MetaMask JSON key file); hex fields carry no
 * 0x prefix, as the definition has it. `pcmims` is our extension: other wallets ignore it.
 */
export type KeystoreV3 = {
  version: 3
  id: string
  /** Lowercase address without 0x, as geth writes it. */
  address?: string | undefined
  crypto: {
    cipher: 'aes-128-ctr'
    cipherparams: { iv: string }
    ciphertext: string
    kdf: 'scrypt' | 'pbkdf2'
    kdfparams: ScryptKdfParams | Pbkdf2KdfParams
    mac: string
  }
  pcmims?:
    | {
        version: 1
        /** The X25519 public key derived from this account's private key (0x-prefixed). */
        encryptionPublicKey: Hex
      }
    | undefined
}

/** scrypt cost for new keystores; defaults n = 2^17, r = 8, p = 1 (~0.7 s and 128 MiB in Node here). */
export type ScryptCost = { n?: number | undefined; r?: number | undefined; p?: number | undefined }

/** Reported while the passphrase KDF runs (the slow part). */
export type KdfProgress = { fraction: number }
