import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { encryptionPublicKeyFromPrivate } from './encryption-key-pair.js'
import { createHpkeSuite } from './hpke-suite.js'

type Vector = {
  name: string
  mode: number
  kem_id: number
  kdf_id: number
  aead_id: number
  info: string
  ikmE?: string
  pkEm: string
  skEm: string
  ikmR?: string
  pkRm: string
  skRm: string
  enc: string
  encryptions: { seq: number; aad: string; pt: string; ct: string }[]
  exports: { exporter_context: string; L: number; exported_value: string }[]
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../../fixtures/crypto/hpke-rfc9180.json', import.meta.url), 'utf8'),
) as { vectors: Vector[] }
const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'))
const hex = (data: ArrayBuffer | Uint8Array) => Buffer.from(data as ArrayBuffer).toString('hex')

describe('RFC 9180 known answers', () => {
  test('the fixture covers the PCMIMS suite and RFC A.1.1', () => {
    const suites = fixture.vectors.map((v) => [v.mode, v.kem_id, v.kdf_id, v.aead_id].join('/'))
    expect(suites).toEqual(['0/32/1/1', '0/32/1/2'])
  })

  for (const vector of fixture.vectors) {
    test(vector.name, async () => {
      const suite = createHpkeSuite(vector.aead_id === 2 ? 'aes-256-gcm' : 'aes-128-gcm')
      const kem = suite.kem
      const info = bytes(vector.info)

      // Recipient key pair: derived from ikmR where the vector has it, otherwise imported.
      let recipientPrivate: CryptoKey
      if (vector.ikmR) {
        const pair = await kem.deriveKeyPair(bytes(vector.ikmR))
        expect(hex(await kem.serializePrivateKey(pair.privateKey))).toBe(vector.skRm)
        expect(hex(await kem.serializePublicKey(pair.publicKey))).toBe(vector.pkRm)
        recipientPrivate = pair.privateKey
      } else {
        recipientPrivate = await kem.deserializePrivateKey(bytes(vector.skRm))
      }
      // Our own public-from-private must agree with the vector for both key pairs.
      expect(hex(await encryptionPublicKeyFromPrivate(bytes(vector.skRm)))).toBe(vector.pkRm)
      expect(hex(await encryptionPublicKeyFromPrivate(bytes(vector.skEm)))).toBe(vector.pkEm)

      // Fixed ephemeral key: @hpke/core takes `ekm` (ikm bytes or a CryptoKeyPair) for exactly this.
      let ekm: Uint8Array | CryptoKeyPair
      if (vector.ikmE) {
        const pair = await kem.deriveKeyPair(bytes(vector.ikmE))
        expect(hex(await kem.serializePrivateKey(pair.privateKey))).toBe(vector.skEm)
        ekm = bytes(vector.ikmE)
      } else {
        ekm = {
          privateKey: await kem.deserializePrivateKey(bytes(vector.skEm)),
          publicKey: await kem.deserializePublicKey(bytes(vector.pkEm)),
        }
      }
      const sender = await suite.createSenderContext({
        recipientPublicKey: await kem.deserializePublicKey(bytes(vector.pkRm)),
        info,
        ekm: ekm as Uint8Array<ArrayBuffer>,
      })
      expect(hex(sender.enc)).toBe(vector.enc)
      const recipient = await suite.createRecipientContext({
        recipientKey: recipientPrivate,
        enc: sender.enc,
        info,
      })

      const expected = new Map(vector.encryptions.map((e) => [e.seq, e]))
      const plaintext = bytes(vector.encryptions[0]!.pt)
      const lastSeq = Math.max(...expected.keys())
      let checked = 0
      for (let seq = 0; seq <= lastSeq; seq++) {
        // Sequence numbers advance with every seal, so the ones the vector skips are sealed too.
        const aad = new TextEncoder().encode(`Count-${seq}`)
        const ct = await sender.seal(plaintext, aad)
        const want = expected.get(seq)
        if (want) {
          expect(hex(aad)).toBe(want.aad)
          expect(hex(ct)).toBe(want.ct)
          checked++
        }
        expect(hex(await recipient.open(ct, aad))).toBe(hex(plaintext))
      }
      expect(checked).toBe(vector.encryptions.length)

      for (const e of vector.exports) {
        const context = bytes(e.exporter_context)
        expect(hex(await sender.export(context, e.L))).toBe(e.exported_value)
        expect(hex(await recipient.export(context, e.L))).toBe(e.exported_value)
      }
    })
  }
})
