import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BaseError } from '../errors/base-error.js'
import { unpackGrantTerms } from './unpack-grant-terms.js'

// The layout as documented on the `GrantSet` event, written out independently of the implementation.
const pack = (t: { expiresAt: number; kindMask: number; scope: number; flags: number; epoch: number }) =>
  BigInt(t.expiresAt) |
  (BigInt(t.kindMask) << 40n) |
  (BigInt(t.scope) << 56n) |
  (BigInt(t.flags) << 64n) |
  (BigInt(t.epoch) << 72n)

describe('unpackGrantTerms', () => {
  it('splits every packed word back into its fields', () => {
    fc.assert(
      fc.property(
        fc.record({
          expiresAt: fc.integer({ min: 0, max: 2 ** 40 - 1 }),
          kindMask: fc.integer({ min: 0, max: 0xffff }),
          scope: fc.integer({ min: 0, max: 0xff }),
          flags: fc.integer({ min: 0, max: 0xff }),
          epoch: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        }),
        (terms) => {
          expect(unpackGrantTerms(pack(terms))).toEqual(terms)
        },
      ),
    )
  })

  it('a known word', () => {
    // expiresAt 0x01_0000_0000, kindMask 0x0003, scope Kinds (2), flags 3, epoch 7
    expect(unpackGrantTerms(0x07_03_02_0003_0100000000n)).toEqual({
      expiresAt: 2 ** 32,
      kindMask: 3,
      scope: 2,
      flags: 3,
      epoch: 7,
    })
  })

  it('rejects bits outside the layout', () => {
    for (const bad of [1n << 104n, (1n << 256n) - 1n, -1n]) {
      const error = (() => {
        try {
          unpackGrantTerms(bad)
        } catch (e) {
          return e
        }
      })()
      expect(error).toBeInstanceOf(BaseError)
      expect((error as BaseError).code).toBe('INVALID_GRANT_TERMS')
    }
  })
})
