import { describe, expect, it } from 'vitest'
import { parseDuration, parseExpiry } from './duration.js'
import { UsageError } from './io.js'

describe('parseExpiry', () => {
  it('defaults to 30 days and reads the documented units', () => {
    expect(parseExpiry(undefined)).toBe(30 * 86400)
    expect(parseExpiry('90m')).toBe(5400)
    expect(parseExpiry('12h')).toBe(43200)
    expect(parseExpiry('2w')).toBe(1_209_600)
    expect(parseExpiry('300')).toBe(300)
  })

  it('refuses expiries under 5 minutes, which the chain could see as past when mined', () => {
    for (const value of ['4m', '299', '1s']) expect(() => parseExpiry(value)).toThrow(/at least 5 minutes/)
    expect(() => parseExpiry('5x')).toThrow(UsageError)
    expect(() => parseDuration('0h')).toThrow(UsageError)
  })
})
