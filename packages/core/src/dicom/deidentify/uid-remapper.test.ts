import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidDeidentifySecretError } from './errors.js'
import { createUidRemapper, MIN_DEIDENTIFY_SECRET_BYTES } from './uid-remapper.js'

const uid = fc
  .array(fc.integer({ min: 0, max: 999_999 }), { minLength: 2, maxLength: 10 })
  .map((parts) => `1.${parts.join('.')}`)
const secret = fc.uint8Array({ minLength: MIN_DEIDENTIFY_SECRET_BYTES, maxLength: 64 })
const NEW_UID = /^2\.25\.(0|[1-9]\d{0,38})$/

describe('createUidRemapper', () => {
  it('makes valid 2.25 UIDs of at most 64 characters, the same for the same input and secret', () => {
    fc.assert(
      fc.property(secret, uid, (key, original) => {
        const first = createUidRemapper({ secret: key }).remap(original)
        expect(first).toMatch(NEW_UID)
        expect(first.length).toBeLessThanOrEqual(64)
        expect(BigInt(first.slice(5))).toBeLessThan(2n ** 128n)
        expect(createUidRemapper({ secret: Uint8Array.from(key) }).remap(original)).toBe(first)
        // Padding is not part of the UID.
        expect(createUidRemapper({ secret: key }).remap(`${original}\0`)).toBe(first)
      }),
    )
  })

  it('maps different UIDs apart, and the same UID apart under different secrets', () => {
    fc.assert(
      fc.property(secret, secret, fc.uniqueArray(uid, { minLength: 2, maxLength: 20 }), (a, b, originals) => {
        const remapA = createUidRemapper({ secret: a })
        const mapped = originals.map((original) => remapA.remap(original))
        expect(new Set(mapped).size).toBe(originals.length)
        if (Buffer.compare(a, b) !== 0) {
          const remapB = createUidRemapper({ secret: b })
          for (const original of originals) expect(remapB.remap(original)).not.toBe(remapA.remap(original))
        }
      }),
    )
  })

  it('records mappings in the given map and leaves registry UIDs and empty values alone', () => {
    const uidMap = new Map<string, string>()
    const remapper = createUidRemapper({ secret: new Uint8Array(16).fill(1), uidMap })
    const created = remapper.remap('1.2.3.4')
    expect(uidMap.get('1.2.3.4')).toBe(created)
    expect(remapper.remap('1.2.840.10008.5.1.4.1.1.2')).toBe('1.2.840.10008.5.1.4.1.1.2')
    expect(remapper.remap('1.2.840.10008.1.4.1.1')).toBe('1.2.840.10008.1.4.1.1')
    expect(remapper.remap('')).toBe('')
    expect(uidMap.size).toBe(1)
  })

  it('refuses short secrets', () => {
    expect(() => createUidRemapper({ secret: new Uint8Array(15) })).toThrow(InvalidDeidentifySecretError)
    const error = (() => {
      try {
        createUidRemapper({ secret: new Uint8Array(0) })
      } catch (caught) {
        return caught
      }
    })()
    expect((error as InvalidDeidentifySecretError).code).toBe('DEIDENTIFY_INVALID_SECRET')
  })
})
