import { RECORD_KINDS } from '@pcmims/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { UsageError } from './io.js'
import { parseDate, parseKind, parsePurpose, parseReason, REASON_CODES, reasonName } from './vocabulary.js'

describe('parseKind', () => {
  it('takes the kind names in any case and the documented modality codes', () => {
    for (const kind of RECORD_KINDS) expect(parseKind(kind.toLowerCase())).toBe(kind)
    expect(parseKind('MR')).toBe('MRI')
    expect(parseKind('x-ray')).toBe('XRAY')
    for (const code of ['DX', 'cr', 'XA', 'RF', 'MG']) expect(parseKind(code)).toBe('XRAY')
  })

  it('refuses anything else as a usage error', () => {
    for (const value of ['PT', 'NM', 'MRII', '', undefined])
      expect(() => parseKind(value)).toThrow(UsageError)
  })
})

describe('parseReason', () => {
  it('takes a code of the table or its name, and nothing else', () => {
    REASON_CODES.forEach((name, code) => {
      expect(parseReason(String(code))).toBe(code)
      expect(parseReason(name.toUpperCase())).toBe(code)
      expect(reasonName(code)).toBe(name)
    })
    for (const value of ['6', '-1', '1.5', 'heart', '', undefined])
      expect(() => parseReason(value)).toThrow(UsageError)
    expect(reasonName(42)).toBe('code 42')
  })
})

describe('parsePurpose', () => {
  it('matches case-insensitively', () => {
    expect(parsePurpose('RESEARCH')).toBe('Research')
    expect(() => parsePurpose('curiosity')).toThrow(UsageError)
  })
})

describe('parseDate', () => {
  it('accepts every real calendar date and refuses impossible ones', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1900-01-01'), max: new Date('2199-12-31'), noInvalidDate: true }),
        (d) => {
          const text = d.toISOString().slice(0, 10)
          expect(parseDate(text, '--from')).toBe(text)
        },
      ),
    )
    for (const value of ['2026-02-30', '2025-02-29', '2026-13-01', '2026-1-01', '20260101', 'today'])
      expect(() => parseDate(value, '--from')).toThrow(UsageError)
    expect(parseDate('2024-02-29', '--to')).toBe('2024-02-29')
  })
})
