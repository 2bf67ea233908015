import { UsageError } from './io.js'

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }

/** `90m`, `12h`, `30d`, `2w` (or plain seconds) → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhdw]?)$/.exec(text.trim())
  if (!match) throw new UsageError(`Not a duration: ${text}`, 'use e.g. 90m, 12h, 30d, 2w')
  const seconds = Number(match[1]) * (UNITS[match[2] || 's'] as number)
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new UsageError(`Not a duration: ${text}`)
  return seconds
}
