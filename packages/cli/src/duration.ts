import { UsageError } from './io.js'

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }

/** `90m`, `12h`, `30d`, `2w` (or plain seconds) → seconds. */
export function parseDuration(text: string, option = 'the duration'): number {
  const match = /^(\d+)([smhdw]?)$/.exec(text.trim())
  const seconds = match ? Number(match[1]) * (UNITS[match[2] || 's'] as number) : Number.NaN
  if (!Number.isSafeInteger(seconds) || seconds <= 0)
    throw new UsageError(`${option} is not a duration: ${text}`, 'use e.g. 90m, 12h, 30d, 2w')
  return seconds
}

export const DEFAULT_EXPIRY = '30d'

/** A grant is checked against the chain's clock when mined: a few seconds of slack would not be enough. */
export const MIN_EXPIRY_SECONDS = 5 * 60

export const EXPIRES_NOTE = `how long the grant lasts: 90m, 12h, 30d, 2w (default ${DEFAULT_EXPIRY}, at least 5m)`

/** `--expires` of a grant → seconds from now on the chain's clock. */
export function parseExpiry(text: string | undefined): number {
  const seconds = parseDuration(text ?? DEFAULT_EXPIRY, '--expires')
  if (seconds < MIN_EXPIRY_SECONDS)
    throw new UsageError(
      'An expiry must be at least 5 minutes away',
      "a grant is checked against the chain's clock when it is mined",
    )
  return seconds
}
