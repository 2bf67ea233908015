import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import * as aesNode from './platform/aes-gcm-node.js'
import * as aesWeb from './platform/aes-gcm-web.js'
import * as shaNode from './platform/sha256-node.js'
import * as shaWeb from './platform/sha256-web.js'
import { createSha256, sha256Implementation } from './sha256.js'

const hex = (data: Uint8Array) => Buffer.from(data).toString('hex')
const join = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts))

describe('#platform/* selection', () => {
  test('Node resolves the node:crypto implementations', () => {
    expect(sha256Implementation).toBe('node')
    expect(shaNode.sha256Platform).toBe('node')
    expect(shaWeb.sha256Platform).toBe('web')
    expect(aesNode.aesGcmPlatform).toBe('node')
    expect(aesWeb.aesGcmPlatform).toBe('web')
  })
})

describe('SHA-256', () => {
  test('FIPS 180-2 examples, both implementations', () => {
    for (const create of [createSha256, shaNode.createSha256, shaWeb.createSha256]) {
      expect(hex(create().digest())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
      expect(hex(create().update(new TextEncoder().encode('abc')).digest())).toBe(
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      )
      const million = create()
      const a = new Uint8Array(1000).fill(0x61)
      for (let i = 0; i < 1000; i++) million.update(a)
      expect(hex(million.digest())).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0')
    }
  })

  test('property: node and web agree for any data and split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat(), (data, cut) => {
        const at = cut % (data.length + 1)
        const a = shaNode.createSha256().update(data.subarray(0, at)).update(data.subarray(at)).digest()
        const b = shaWeb.createSha256().update(data).digest()
        expect(hex(a)).toBe(hex(b))
      }),
      { numRuns: 100 },
    )
  })
})

describe('AES-256-GCM', () => {
  test('property: node and web produce the same ciphertext and open each other', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 3000 }),
        async (key, nonce, aad, plaintext) => {
          const node = await aesNode.createAesGcm(key)
          const web = await aesWeb.createAesGcm(key)
          const a = join(await node.seal(nonce, aad, plaintext))
          const b = join(await web.seal(nonce, aad, plaintext))
          expect(hex(a)).toBe(hex(b))
          expect(a.length).toBe(plaintext.length + 16)
          expect(await node.open(nonce, aad, b)).toEqual(plaintext)
          expect(await web.open(nonce, aad, a)).toEqual(plaintext)
        },
      ),
      { numRuns: 50 },
    )
  })

  test('sealed parts are plain Uint8Arrays that own their memory', async () => {
    for (const impl of [aesNode, aesWeb]) {
      const gcm = await impl.createAesGcm(new Uint8Array(32))
      for (const length of [0, 5, 100, 5000]) {
        for (const part of await gcm.seal(new Uint8Array(12), new Uint8Array(0), new Uint8Array(length))) {
          expect(part.constructor).toBe(Uint8Array)
          expect(part.byteOffset).toBe(0)
          expect(part.buffer.byteLength).toBe(part.length)
        }
        const opened = await gcm.open(
          new Uint8Array(12),
          new Uint8Array(0),
          join(await gcm.seal(new Uint8Array(12), new Uint8Array(0), new Uint8Array(length))),
        )
        expect(opened!.buffer.byteLength).toBe(length)
      }
    }
  })

  test('both return undefined for a bad tag, wrong AAD or short input', async () => {
    const key = new Uint8Array(32).fill(7)
    const nonce = new Uint8Array(12)
    for (const impl of [aesNode, aesWeb]) {
      const gcm = await impl.createAesGcm(key)
      const sealed = join(await gcm.seal(nonce, new Uint8Array([1]), new Uint8Array(100).fill(3)))
      const bad = sealed.slice()
      bad[sealed.length - 1]! ^= 1
      expect(await gcm.open(nonce, new Uint8Array([1]), bad)).toBeUndefined()
      expect(await gcm.open(nonce, new Uint8Array([2]), sealed)).toBeUndefined()
      expect(await gcm.open(nonce, new Uint8Array([1]), sealed.subarray(0, 15))).toBeUndefined()
    }
  })

  test('inputs may be reused as soon as seal/open is called', async () => {
    const key = new Uint8Array(32).fill(1)
    for (const impl of [aesNode, aesWeb]) {
      const gcm = await impl.createAesGcm(key)
      const nonce = new Uint8Array(12)
      const data = new Uint8Array(1 << 16).fill(5)
      const expected = join(await gcm.seal(nonce.slice(), new Uint8Array(0), data.slice()))
      const pending = gcm.seal(nonce, new Uint8Array(0), data)
      data.fill(9)
      nonce.fill(1)
      expect(hex(join(await pending))).toBe(hex(expected))
    }
  })
})
