import { createDecipheriv, hkdfSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { encryptStreamWithSalt } from './encrypt-stream.js'
import { decryptStream, openBytes } from './index.js'

type Kat = {
  dek: string
  salt: string
  chunkSize: number
  cases: { name: string; plaintext: string; ciphertext: string }[]
}
const kat = JSON.parse(
  readFileSync(new URL('../../../../fixtures/crypto/stream-v1.json', import.meta.url), 'utf8'),
) as Kat
const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'))
const hex = (data: Uint8Array) => Buffer.from(data).toString('hex')

/**
 * Decrypts format v1 straight from the specification in docs/crypto.md with node:crypto, sharing no code
 * with the implementation: if both agree with the fixture, the format is what the document says.
 */
function referenceDecrypt(ciphertext: Buffer, dek: Buffer): Buffer {
  const header = ciphertext.subarray(0, 41)
  if (header.subarray(0, 4).toString('latin1') !== 'PCMS' || header[4] !== 1) throw new Error('bad header')
  const chunkSize = header.readUInt32BE(5)
  const salt = header.subarray(9, 41)
  const key = Buffer.from(hkdfSync('sha256', dek, salt, Buffer.from('pcmims/v1/stream'), 32))
  const out: Buffer[] = []
  let offset = 41
  for (let index = 0; ; index++) {
    const remaining = ciphertext.length - offset
    const final = remaining < chunkSize + 16
    const sealed = ciphertext.subarray(offset, offset + (final ? remaining : chunkSize + 16))
    const nonce = Buffer.alloc(12)
    nonce.writeBigUInt64BE(BigInt(index), 0)
    nonce[11] = final ? 1 : 0
    const aad = Buffer.concat([header, nonce.subarray(0, 8), Buffer.from([final ? 1 : 0])])
    const decipher = createDecipheriv('aes-256-gcm', key, nonce)
    decipher.setAAD(aad)
    decipher.setAuthTag(sealed.subarray(sealed.length - 16))
    out.push(decipher.update(sealed.subarray(0, sealed.length - 16)))
    decipher.final()
    offset += sealed.length
    if (final) return Buffer.concat(out)
  }
}

describe('stream format v1 known answers', () => {
  test('the fixture covers empty, short, exact-multiple and multi-chunk plaintexts', () => {
    expect(kat.chunkSize).toBe(4096)
    expect(kat.cases.map((c) => c.plaintext.length / 2)).toEqual([0, 13, 4096, 8292])
  })

  for (const c of kat.cases) {
    test(c.name, async () => {
      const plaintext = bytes(c.plaintext)
      const parts: Uint8Array[] = []
      for await (const part of encryptStreamWithSalt([plaintext], {
        dek: bytes(kat.dek),
        salt: bytes(kat.salt),
        chunkSize: kat.chunkSize,
      })) {
        parts.push(part)
      }
      expect(hex(Buffer.concat(parts))).toBe(c.ciphertext)

      const ciphertext = bytes(c.ciphertext)
      expect(hex(await openBytes(ciphertext, { dek: bytes(kat.dek) }))).toBe(c.plaintext)
      const streamed: Uint8Array[] = []
      for await (const part of decryptStream([ciphertext], { dek: bytes(kat.dek) })) streamed.push(part)
      expect(hex(Buffer.concat(streamed))).toBe(c.plaintext)

      expect(referenceDecrypt(Buffer.from(ciphertext), Buffer.from(bytes(kat.dek))).toString('hex')).toBe(
        c.plaintext,
      )
    })
  }
})
