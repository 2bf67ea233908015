import { KIND_MASK_ALL, Kind, kindMask as maskOf } from '@pcmims/contracts'
import { BaseError } from '../../errors/base-error.js'

/** Resolves `kinds` / `kindMask` parameters into one mask (exactly one of them, or neither for 0). */
export function resolveKindMask(params: {
  kinds?: readonly Kind[] | undefined
  kindMask?: number | undefined
}): number {
  if (params.kinds !== undefined && params.kindMask !== undefined) {
    throw new BaseError('Give either kinds or kindMask, not both', { code: 'INVALID_PARAMETER' })
  }
  if (params.kinds !== undefined) {
    for (const kind of params.kinds) {
      if (!(kind in Kind))
        throw new BaseError('Unknown record kind', { code: 'INVALID_PARAMETER', details: kind })
    }
    return maskOf(params.kinds)
  }
  const mask = params.kindMask ?? 0
  if (!Number.isInteger(mask) || mask < 0 || mask > 0xffff) {
    throw new BaseError('Invalid kind mask', { code: 'INVALID_PARAMETER', details: String(mask) })
  }
  return mask & 0xffff
}

export { KIND_MASK_ALL }

/** Seconds since the epoch, from a number of seconds, a bigint or a Date. */
export function toUnixSeconds(value: number | bigint | Date): number {
  const seconds = value instanceof Date ? Math.floor(value.getTime() / 1000) : Number(value)
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds >= 2 ** 40) {
    throw new BaseError('Invalid timestamp', { code: 'INVALID_PARAMETER', details: String(value) })
  }
  return seconds
}
