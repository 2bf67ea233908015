import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { InvalidKeyError, InvalidParameterError } from '../crypto/index.js'
import {
  createAccount,
  DEFAULT_SCRYPT,
  decryptKeystore,
  encryptKeystore,
  type KdfProgress,
  WrongPassphraseError,
} from './index.js'

const PRIVATE_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' // anvil account 0
const fast = { n: 1024 }

describe('encryptKeystore', () => {
  test('writes Web3 Secret Storage v3 with scrypt, aes-128-ctr and the pcmims extension', async () => {
    const keystore = await encryptKeystore({ privateKey: PRIVATE_KEY, passphrase: 'pw', kdfParams: fast })
    expect(keystore.version).toBe(3)
    expect(keystore.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(keystore.address).toBe('f39fd6e51aad88f6f4ce6ab8827279cfffb92266')
    expect(keystore.crypto.cipher).toBe('aes-128-ctr')
    expect(keystore.crypto.kdf).toBe('scrypt')
    expect(keystore.crypto.kdfparams).toMatchObject({ dklen: 32, n: 1024, r: 8, p: 1 })
    expect(keystore.crypto.cipherparams.iv).toMatch(/^[0-9a-f]{32}$/)
    expect(keystore.crypto.ciphertext).toMatch(/^[0-9a-f]{64}$/)
    expect(keystore.crypto.mac).toMatch(/^[0-9a-f]{64}$/)
    expect(keystore.pcmims?.version).toBe(1)

    const opened = await decryptKeystore({ keystore: JSON.stringify(keystore), passphrase: 'pw' })
    expect(opened.privateKey).toBe(PRIVATE_KEY)
    expect(opened.address).toBe(privateKeyToAccount(PRIVATE_KEY).address)
    expect(keystore.pcmims?.encryptionPublicKey).toBe(
      `0x${Buffer.from(opened.encryptionKeyPair.publicKey).toString('hex')}`,
    )
    await expect(decryptKeystore({ keystore, passphrase: 'PW' })).rejects.toThrow(WrongPassphraseError)
  })

  test('defaults to n = 2^17, r = 8, p = 1; salt and iv are fresh', async () => {
    expect(DEFAULT_SCRYPT).toEqual({ n: 2 ** 17, r: 8, p: 1 })
    const progress: KdfProgress[] = []
    const a = await encryptKeystore({
      privateKey: PRIVATE_KEY,
      passphrase: 'pw',
      onProgress: (p) => progress.push(p),
    })
    expect(a.crypto.kdfparams).toMatchObject({ n: 2 ** 17, r: 8, p: 1 })
    expect(progress.length).toBeGreaterThan(1)
    expect(progress.at(-1)!.fraction).toBe(1)
    const b = await encryptKeystore({ privateKey: PRIVATE_KEY, passphrase: 'pw', kdfParams: fast })
    expect(a.crypto.kdfparams.salt).not.toBe(b.crypto.kdfparams.salt)
    expect(a.crypto.cipherparams.iv).not.toBe(b.crypto.cipherparams.iv)
    expect((await decryptKeystore({ keystore: a, passphrase: 'pw' })).privateKey).toBe(PRIVATE_KEY)
  })

  test('an abort signal stops scrypt', async () => {
    const controller = new AbortController()
    const run = encryptKeystore({
      privateKey: PRIVATE_KEY,
      passphrase: 'pw',
      signal: controller.signal,
      onProgress: (p) => {
        if (p.fraction > 0.1) controller.abort()
      },
    })
    await expect(run).rejects.toThrow(/abort/i)
    await expect(
      encryptKeystore({
        privateKey: PRIVATE_KEY,
        passphrase: 'pw',
        kdfParams: fast,
        signal: AbortSignal.abort(),
      }),
    ).rejects.toThrow(/abort/i)
  })

  test('rejects invalid private keys and scrypt costs', async () => {
    for (const privateKey of [
      `0x${'00'.repeat(32)}`,
      `0x${'ff'.repeat(32)}`, // above the secp256k1 group order
      '0x1234',
    ] as const) {
      await expect(encryptKeystore({ privateKey, passphrase: 'pw', kdfParams: fast })).rejects.toThrow(
        InvalidKeyError,
      )
    }
    for (const kdfParams of [{ n: 1000 }, { n: 2 ** 21 }, { r: 0 }, { p: 17 }]) {
      await expect(encryptKeystore({ privateKey: PRIVATE_KEY, passphrase: 'pw', kdfParams })).rejects.toThrow(
        InvalidParameterError,
      )
    }
  })
})

describe('createAccount', () => {
  test('a fresh account whose keystore opens to the same keys', async () => {
    const account = await createAccount({ passphrase: 'pw', kdfParams: fast })
    expect(account.address).toBe(privateKeyToAccount(account.privateKey).address)
    const opened = await decryptKeystore({ keystore: account.keystore, passphrase: 'pw' })
    expect(opened.privateKey).toBe(account.privateKey)
    expect(opened.address).toBe(account.address)
    expect(opened.encryptionKeyPair).toEqual(account.encryptionKeyPair)
    const other = await createAccount({ passphrase: 'pw', kdfParams: fast })
    expect(other.privateKey).not.toBe(account.privateKey)
    expect(other.encryptionKeyPair.publicKey).not.toEqual(account.encryptionKeyPair.publicKey)
  })
})
