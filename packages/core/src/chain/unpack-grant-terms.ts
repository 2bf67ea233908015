import { GrantTermsBits } from '@pcmims/contracts'
import { BaseError } from '../errors/base-error.js'

/** The fields of a packed grant word, typed as viem decodes them one by one (`scope` is the enum value). */
export type GrantTerms = {
  scope: number
  kindMask: number
  expiresAt: number
  flags: number
  epoch: number
}

const WIDTHS = { expiresAt: 40, kindMask: 16, scope: 8, flags: 8, epoch: 32 } as const
const TOP = BigInt(GrantTermsBits.epoch + WIDTHS.epoch)

/**
 * Splits the `terms` word of a `GrantSet` event (the contract's packed `Grant` slot) into its fields. Throws on
 * bits the layout does not use, which would mean the event comes from another layout.
 */
export function unpackGrantTerms(terms: bigint): GrantTerms {
  if (terms < 0n || terms >> TOP !== 0n) {
    throw new BaseError('Grant terms use bits outside the grant layout', {
      code: 'INVALID_GRANT_TERMS',
      details: `0x${terms.toString(16)}`,
    })
  }
  const field = (name: keyof typeof WIDTHS) =>
    Number((terms >> BigInt(GrantTermsBits[name])) & ((1n << BigInt(WIDTHS[name])) - 1n))
  return {
    scope: field('scope'),
    kindMask: field('kindMask'),
    expiresAt: field('expiresAt'),
    flags: field('flags'),
    epoch: field('epoch'),
  }
}
