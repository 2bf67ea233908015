import { getAddress } from 'viem'
import { describe, expect, test } from 'vitest'
import {
  DEK_WRAP_INFO_LENGTH,
  DecryptionError,
  type DekWrapContext,
  encodeWrapContext,
  encryptionPublicKeyFromPrivate,
  generateDek,
  generateEncryptionKeyPair,
  InvalidKeyError,
  InvalidParameterError,
  unwrapKey,
  wrapKey,
} from './index.js'

const context: DekWrapContext = {
  chainId: 31337n,
  contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  subject: Uint8Array.from({ length: 32 }, (_, i) => i),
  recipient: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
}

describe('wrapKey / unwrapKey', () => {
  test('round trip; enc 32 bytes, ct 48 bytes; fresh ephemeral key each time', async () => {
    const pair = await generateEncryptionKeyPair()
    const dek = generateDek()
    const a = await wrapKey({ key: dek, recipientPublicKey: pair.publicKey, context })
    const b = await wrapKey({ key: dek, recipientPublicKey: pair.publicKey, context })
    expect(a.enc.length).toBe(32)
    expect(a.ct.length).toBe(48)
    expect(a.enc).not.toEqual(b.enc)
    expect(a.ct).not.toEqual(b.ct)
    for (const wrapped of [a, b]) {
      expect(await unwrapKey({ ...wrapped, recipientPrivateKey: pair.privateKey, context })).toEqual(dek)
    }
  })

  test('any other value of any context field fails to open', async () => {
    const pair = await generateEncryptionKeyPair()
    const dek = generateDek()
    const wrapped = await wrapKey({ key: dek, recipientPublicKey: pair.publicKey, context })
    const otherSubject = context.subject.slice()
    otherSubject[31]! ^= 1
    const variants: DekWrapContext[] = [
      { ...context, chainId: 1n },
      { ...context, chainId: 31337n + (1n << 64n) },
      { ...context, contract: '0x5fbdb2315678afecb367f032d93f642f64180aa4' },
      { ...context, subject: otherSubject },
      { ...context, recipient: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC' },
    ]
    for (const other of variants) {
      await expect(
        unwrapKey({ ...wrapped, recipientPrivateKey: pair.privateKey, context: other }),
      ).rejects.toThrow(DecryptionError)
    }
  })

  test('an address written in another letter case is the same context', async () => {
    const pair = await generateEncryptionKeyPair()
    const dek = generateDek()
    const wrapped = await wrapKey({ key: dek, recipientPublicKey: pair.publicKey, context })
    const lower = { ...context, contract: context.contract.toLowerCase() as `0x${string}` }
    expect(await unwrapKey({ ...wrapped, recipientPrivateKey: pair.privateKey, context: lower })).toEqual(dek)
  })

  test('wrong private key fails', async () => {
    const pair = await generateEncryptionKeyPair()
    const other = await generateEncryptionKeyPair()
    const wrapped = await wrapKey({ key: generateDek(), recipientPublicKey: pair.publicKey, context })
    const error = await unwrapKey({ ...wrapped, recipientPrivateKey: other.privateKey, context }).catch(
      (e) => e,
    )
    expect(error).toBeInstanceOf(DecryptionError)
    expect(error.code).toBe('DECRYPTION_FAILED')
  })

  test('flipping any bit of enc or ct fails', async () => {
    const pair = await generateEncryptionKeyPair()
    const wrapped = await wrapKey({ key: generateDek(), recipientPublicKey: pair.publicKey, context })
    for (const field of ['enc', 'ct'] as const) {
      for (let i = 0; i < wrapped[field].length; i++) {
        const tampered = { ...wrapped, [field]: wrapped[field].slice() }
        tampered[field][i]! ^= 1 << (i % 8)
        await expect(
          unwrapKey({ ...tampered, recipientPrivateKey: pair.privateKey, context }),
        ).rejects.toThrow(DecryptionError)
      }
    }
  })

  test('malformed wrapped keys and keys of the wrong size', async () => {
    const pair = await generateEncryptionKeyPair()
    const wrapped = await wrapKey({ key: generateDek(), recipientPublicKey: pair.publicKey, context })
    const open = (p: Partial<Parameters<typeof unwrapKey>[0]>) =>
      unwrapKey({ ...wrapped, recipientPrivateKey: pair.privateKey, context, ...p })
    await expect(open({ ct: wrapped.ct.subarray(0, 47) })).rejects.toThrow(DecryptionError)
    await expect(open({ enc: wrapped.enc.subarray(0, 31) })).rejects.toThrow(DecryptionError)
    await expect(open({ recipientPrivateKey: new Uint8Array(31) })).rejects.toThrow(InvalidKeyError)
    await expect(
      wrapKey({ key: new Uint8Array(16), recipientPublicKey: pair.publicKey, context }),
    ).rejects.toThrow(InvalidKeyError)
    await expect(
      wrapKey({ key: generateDek(), recipientPublicKey: new Uint8Array(33), context }),
    ).rejects.toThrow(InvalidKeyError)
  })

  test('a low-order public key is refused', async () => {
    // u = 0 and u = 1 give an all-zero shared secret, which HPKE must reject.
    for (const point of [new Uint8Array(32), Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0))]) {
      await expect(wrapKey({ key: generateDek(), recipientPublicKey: point, context })).rejects.toThrow(
        InvalidKeyError,
      )
    }
  })
})

describe('encodeWrapContext', () => {
  test('fixed-width layout: label, chain id (uint256), contract, subject, recipient', () => {
    const info = encodeWrapContext(context)
    expect(info.length).toBe(DEK_WRAP_INFO_LENGTH)
    expect(DEK_WRAP_INFO_LENGTH).toBe(122)
    expect(Buffer.from(info).toString('hex')).toBe(
      [
        Buffer.from('pcmims/v1/dek-wrap').toString('hex'),
        (31337).toString(16).padStart(64, '0'),
        '5fbdb2315678afecb367f032d93f642f64180aa3',
        '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
        '70997970c51812dc3a010c7d01b50e0d17dc79c8',
      ].join(''),
    )
    const max = encodeWrapContext({ ...context, chainId: (1n << 256n) - 1n })
    expect(Buffer.from(max.subarray(18, 50)).toString('hex')).toBe('f'.repeat(64))
  })

  test('rejects malformed fields', () => {
    const bad: unknown[] = [
      { ...context, chainId: 0n },
      { ...context, chainId: -1n },
      { ...context, chainId: 1n << 256n },
      { ...context, chainId: 1 },
      { ...context, contract: '0x1234' },
      // Mixed case with a wrong EIP-55 checksum is most likely a typo.
      { ...context, contract: getAddress(context.contract).replace('F', 'f') },
      { ...context, recipient: undefined },
      { ...context, subject: new Uint8Array(31) },
      { ...context, subject: 'not bytes' },
    ]
    for (const value of bad) {
      expect(() => encodeWrapContext(value as DekWrapContext), String(value)).toThrow(InvalidParameterError)
    }
  })
})

describe('encryption key pairs', () => {
  test('public key matches the private key; keys are 32 bytes and fresh', async () => {
    const a = await generateEncryptionKeyPair()
    const b = await generateEncryptionKeyPair()
    expect(a.privateKey.length).toBe(32)
    expect(a.publicKey.length).toBe(32)
    expect(a.privateKey).not.toEqual(b.privateKey)
    expect(await encryptionPublicKeyFromPrivate(a.privateKey)).toEqual(a.publicKey)
    await expect(encryptionPublicKeyFromPrivate(new Uint8Array(16))).rejects.toThrow(InvalidKeyError)
  })
})
