import { hkdfSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Keystore } from 'ox'
import { bytesToHex } from 'viem'
import { describe, expect, test } from 'vitest'
import { encryptionPublicKeyFromPrivate } from '../crypto/index.js'
import {
  decryptKeystore,
  deriveEncryptionKeyPair,
  encryptKeystore,
  InvalidKeystoreError,
  type KeystoreV3,
  WrongPassphraseError,
} from './index.js'

type Vector = { password: string; secret: string; derivedKey?: string; keystore: KeystoreV3 }
type Vectors = {
  address: string
  vectors: Record<'pbkdf2' | 'scrypt' | 'geth_31_byte_key' | 'geth_30_byte_key', Vector>
  knownBad: Record<'ethereum_org_scrypt', { password: string; keystore: KeystoreV3 }>
}
const spec = JSON.parse(
  readFileSync(new URL('../../../../fixtures/crypto/web3-secret-storage-v3.json', import.meta.url), 'utf8'),
) as Vectors
const SECRET = `0x${spec.vectors.pbkdf2.secret}` as const

describe('decryptKeystore: Web3 Secret Storage test vectors', () => {
  for (const kdf of ['pbkdf2', 'scrypt'] as const) {
    test(`definition vector, ${kdf}`, async () => {
      const { keystore, password, secret } = spec.vectors[kdf]
      const opened = await decryptKeystore({ keystore, passphrase: password })
      expect(opened.privateKey).toBe(`0x${secret}`)
      expect(opened.address.toLowerCase()).toBe(`0x${spec.address}`)
      expect(opened.address).toBe('0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b')
      expect(opened.encryptionKeyPair).toEqual(await deriveEncryptionKeyPair(opened.privateKey))
      if (kdf === 'pbkdf2') {
        // The JSON text form works too (pbkdf2 only: it is the fast one).
        const again = await decryptKeystore({ keystore: JSON.stringify(keystore), passphrase: password })
        expect(again.privateKey).toBe(opened.privateKey)
      }
    })
  }

  for (const name of ['geth_31_byte_key', 'geth_30_byte_key'] as const) {
    test(`${name}: keys stored short by old clients are left-padded, as geth does`, async () => {
      const { keystore, password, secret } = spec.vectors[name]
      expect((await decryptKeystore({ keystore, passphrase: password })).privateKey).toBe(`0x${secret}`)
    })
  }

  test('the scrypt vector now on ethereum.org is rejected, as by every conforming implementation', async () => {
    const { keystore, password } = spec.knownBad.ethereum_org_scrypt
    await expect(decryptKeystore({ keystore, passphrase: password })).rejects.toThrow(WrongPassphraseError)
  })

  test('a wrong passphrase is WrongPassphraseError', async () => {
    const error = await decryptKeystore({
      keystore: spec.vectors.pbkdf2.keystore,
      passphrase: 'testpassworD',
    }).catch((e) => e)
    expect(error).toBeInstanceOf(WrongPassphraseError)
    expect(error.code).toBe('WRONG_PASSPHRASE')
  })
})

describe('interoperability with an independent implementation (ox)', () => {
  test('ox opens our keystore', async () => {
    const privateKey = SECRET
    const keystore = await encryptKeystore({
      privateKey,
      passphrase: 'correct horse',
      kdfParams: { n: 1024 },
    })
    const key = Keystore.toKey(keystore as unknown as Keystore.Keystore, { password: 'correct horse' })
    expect(Keystore.decrypt(keystore as unknown as Keystore.Keystore, key)).toBe(privateKey)
  })

  test('we open ox keystores (scrypt and pbkdf2)', async () => {
    const privateKey = SECRET
    for (const [key, options] of [
      Keystore.scrypt({ password: 'pw', n: 1024, r: 8, p: 1 }),
      Keystore.pbkdf2({ password: 'pw', iterations: 1000 }),
    ] as const) {
      const keystore = Keystore.encrypt(privateKey, key, options)
      const opened = await decryptKeystore({ keystore: keystore as KeystoreV3, passphrase: 'pw' })
      expect(opened.privateKey).toBe(privateKey)
    }
  })

  test('passphrases: NFKC form first, then the raw form', async () => {
    const privateKey = SECRET
    // U+FB01 (ligature fi) normalizes to "fi" under NFKC, as ethers does before deriving.
    const ours = await encryptKeystore({ privateKey, passphrase: '\ufb01le', kdfParams: { n: 1024 } })
    expect((await decryptKeystore({ keystore: ours, passphrase: 'file' })).privateKey).toBe(privateKey)
    expect((await decryptKeystore({ keystore: ours, passphrase: '\ufb01le' })).privateKey).toBe(privateKey)
    // A wallet that derived from the raw string (geth, ox) still opens with the same passphrase.
    const [key, options] = Keystore.scrypt({ password: '\ufb01le', n: 1024, r: 8, p: 1 })
    const raw = Keystore.encrypt(privateKey, key, options) as KeystoreV3
    expect((await decryptKeystore({ keystore: raw, passphrase: '\ufb01le' })).privateKey).toBe(privateKey)
    await expect(decryptKeystore({ keystore: raw, passphrase: 'file' })).rejects.toThrow(WrongPassphraseError)
  })
})

describe('encryption key derivation', () => {
  test('HKDF-SHA256(private key, salt = info = "pcmims/v1/x25519"), checked with node:crypto', async () => {
    const privateKey = SECRET
    const pair = await deriveEncryptionKeyPair(privateKey)
    const label = Buffer.from('pcmims/v1/x25519')
    const expected = new Uint8Array(hkdfSync('sha256', Buffer.from(SECRET.slice(2), 'hex'), label, label, 32))
    expect(pair.privateKey).toEqual(expected)
    expect(pair.publicKey).toEqual(await encryptionPublicKeyFromPrivate(expected))
    expect(bytesToHex(pair.publicKey)).toMatch(/^0x[0-9a-f]{64}$/)
  })
})

describe('malformed keystores are InvalidKeystoreError, before any KDF work', () => {
  const base = spec.vectors.pbkdf2.keystore
  // biome-ignore lint/suspicious/noExplicitAny: the cases below write arbitrary JSON into the keystore
  type Json = Record<string, any>
  const edit = (change: (k: Json) => void): unknown => {
    const copy = structuredClone(base) as Json
    change(copy)
    return copy
  }
  const cases: [string, unknown][] = [
    ['not JSON', '{"version":3'],
    ['array', '[]'],
    ['too large', 'x'.repeat(70_000)],
    ['version 2', edit((k) => (k.version = 2))],
    ['no crypto', edit((k) => delete k.crypto)],
    ['cipher', edit((k) => (k.crypto.cipher = 'aes-128-cbc'))],
    ['iv length', edit((k) => (k.crypto.cipherparams.iv = 'abcd'))],
    ['ciphertext hex', edit((k) => (k.crypto.ciphertext = 'zz'.repeat(32)))],
    ['ciphertext length', edit((k) => (k.crypto.ciphertext += '00'))],
    ['mac', edit((k) => (k.crypto.mac = 'abc'))],
    ['kdf', edit((k) => (k.crypto.kdf = 'argon2id'))],
    ['prf', edit((k) => (k.crypto.kdfparams.prf = 'hmac-sha512'))],
    ['iterations', edit((k) => (k.crypto.kdfparams.c = 1e9))],
    ['dklen', edit((k) => (k.crypto.kdfparams.dklen = 16))],
    ['salt', edit((k) => (k.crypto.kdfparams.salt = ''))],
    ['address', edit((k) => (k.address = 'xyz'))],
    ['pcmims section', edit((k) => (k.pcmims = { version: 2 }))],
    ['pcmims key', edit((k) => (k.pcmims = { version: 1, encryptionPublicKey: '0x1234' }))],
    [
      'scrypt n not a power of two',
      edit((k) => {
        k.crypto.kdf = 'scrypt'
        k.crypto.kdfparams = { dklen: 32, n: 1000, r: 8, p: 1, salt: 'ab' }
      }),
    ],
    [
      'scrypt cost beyond limits',
      edit((k) => {
        k.crypto.kdf = 'scrypt'
        k.crypto.kdfparams = { dklen: 32, n: 2 ** 30, r: 8, p: 1, salt: 'ab' }
      }),
    ],
    [
      'scrypt memory beyond limits',
      edit((k) => {
        k.crypto.kdf = 'scrypt'
        k.crypto.kdfparams = { dklen: 32, n: 2 ** 20, r: 16, p: 1, salt: 'ab' }
      }),
    ],
  ]
  for (const [name, keystore] of cases) {
    test(name, async () => {
      const error = await decryptKeystore({
        keystore: keystore as KeystoreV3,
        passphrase: 'testpassword',
      }).catch((e) => e)
      expect(error).toBeInstanceOf(InvalidKeystoreError)
      expect(error.code).toBe('INVALID_KEYSTORE')
    })
  }

  test('"Crypto" (capitalized, older tools) is accepted', async () => {
    const keystore = edit((k) => {
      k.Crypto = k.crypto
      delete k.crypto
    })
    const opened = await decryptKeystore({ keystore: keystore as KeystoreV3, passphrase: 'testpassword' })
    expect(opened.privateKey).toBe(SECRET)
  })

  test('an address or encryption key that does not match the decrypted key is refused', async () => {
    const wrongAddress = edit((k) => (k.address = '70997970c51812dc3a010c7d01b50e0d17dc79c8'))
    await expect(
      decryptKeystore({ keystore: wrongAddress as KeystoreV3, passphrase: 'testpassword' }),
    ).rejects.toThrow('address does not match')
    const wrongKey = edit((k) => (k.pcmims = { version: 1, encryptionPublicKey: `0x${'11'.repeat(32)}` }))
    await expect(
      decryptKeystore({ keystore: wrongKey as KeystoreV3, passphrase: 'testpassword' }),
    ).rejects.toThrow('encryptionPublicKey does not match')
  })
})
