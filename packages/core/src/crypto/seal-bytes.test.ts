import { describe, expect, test } from 'vitest'
import {
  ciphertextLength,
  DecryptionError,
  decryptStream,
  encryptStream,
  generateDek,
  InvalidKeyError,
  openBytes,
  sealBytes,
} from './index.js'

describe('sealBytes / openBytes', () => {
  test('round trip, same format as the stream functions', async () => {
    const dek = generateDek()
    const manifest = new TextEncoder().encode(JSON.stringify({ study: 'CT', instances: 300 }))
    const sealed = await sealBytes(manifest, { dek })
    expect(sealed.length).toBe(ciphertextLength(manifest.length))
    expect(await openBytes(sealed, { dek })).toEqual(manifest)

    const parts: Uint8Array[] = []
    for await (const part of decryptStream([sealed], { dek })) parts.push(part)
    expect(new Uint8Array(Buffer.concat(parts))).toEqual(manifest)

    const streamed: Uint8Array[] = []
    for await (const part of encryptStream([manifest], { dek })) streamed.push(part)
    expect(await openBytes(new Uint8Array(Buffer.concat(streamed)), { dek })).toEqual(manifest)
  })

  test('empty and multi-chunk payloads', async () => {
    const dek = generateDek()
    expect((await openBytes(await sealBytes(new Uint8Array(0), { dek }), { dek })).length).toBe(0)
    const big = globalThis.crypto.getRandomValues(new Uint8Array(20_000))
    const sealed = await sealBytes(big, { dek, chunkSize: 4096 })
    expect(await openBytes(sealed, { dek })).toEqual(big)
  })

  test('wrong key, tampering and bad keys are typed errors', async () => {
    const dek = generateDek()
    const sealed = await sealBytes(new Uint8Array([1, 2, 3]), { dek })
    await expect(openBytes(sealed, { dek: generateDek() })).rejects.toThrow(DecryptionError)
    const tampered = sealed.slice()
    tampered[tampered.length - 1]! ^= 1
    await expect(openBytes(tampered, { dek })).rejects.toThrow(DecryptionError)
    await expect(sealBytes(new Uint8Array(1), { dek: new Uint8Array(31) })).rejects.toThrow(InvalidKeyError)
    await expect(openBytes(sealed, { dek: new Uint8Array(31) })).rejects.toThrow(InvalidKeyError)
  })
})
