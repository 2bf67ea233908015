import { describe, expect, it } from 'vitest'
import { dcmjs } from '../dcmjs.js'
import {
  BASIC_PROFILE_EDITION,
  BASIC_PROFILE_TABLE,
  basicProfileCounts,
  repeatingGroupAction,
  resolveBasicProfileAction,
} from './basic-profile-table.js'

describe('Table E.1-1 (Basic Profile)', () => {
  it('states its edition and holds every row once', () => {
    expect(BASIC_PROFILE_EDITION).toBe('DICOM PS3.15 2024b')
    const { byCode, byAction, total } = basicProfileCounts()
    expect(total).toBe(617)
    expect(byCode).toEqual({
      D: 92,
      Z: 42,
      X: 380,
      U: 54,
      'Z/D': 6,
      'X/Z': 11,
      'X/D': 22,
      'X/Z/D': 8,
      'X/Z/U*': 2,
    })
    expect(byAction).toEqual({ D: 92 + 6 + 22 + 8, Z: 42 + 11, X: 380, U: 54 + 2 })
  })

  it('names attributes the way the data dictionary does (tags are not mistyped)', () => {
    const missing: string[] = []
    for (const entry of BASIC_PROFILE_TABLE.values()) {
      const known =
        dcmjs.data.DicomMetaDictionary.dictionary[`(${entry.tag.slice(0, 4)},${entry.tag.slice(4)})`]
      if (!known) missing.push(`${entry.tag} ${entry.name}`)
    }
    // Every row is a standard (possibly retired) attribute of dcmjs's PS3.6 dictionary.
    expect(missing).toEqual([])
  })

  it('carries the rows that matter most with the printed code', () => {
    const code = (tag: string) => BASIC_PROFILE_TABLE.get(tag)?.code
    expect(code('00100010')).toBe('Z') // Patient's Name
    expect(code('00100020')).toBe('Z/D') // Patient ID
    expect(code('00100030')).toBe('Z') // Patient's Birth Date
    expect(code('00080018')).toBe('U') // SOP Instance UID
    expect(code('0020000D')).toBe('U') // Study Instance UID
    expect(code('00200052')).toBe('U') // Frame of Reference UID
    expect(code('00081155')).toBe('U') // Referenced SOP Instance UID
    expect(code('0040A730')).toBe('D') // Content Sequence
    expect(code('00080080')).toBe('X/Z/D') // Institution Name
    expect(code('00081140')).toBe('X/Z/U*') // Referenced Image Sequence
    expect(code('04000561')).toBe('X') // Original Attributes Sequence (Note 12)
    expect(code('00880200')).toBe('X') // Icon Image Sequence
    expect(code('FFFAFFFA')).toBe('X') // Digital Signatures Sequence
    // Code strings and plain code sequences are not in the table (Notes 9 and 10): Modality stays.
    expect(BASIC_PROFILE_TABLE.has('00080060')).toBe(false)
    expect(BASIC_PROFILE_TABLE.has('00280301')).toBe(false) // Burned In Annotation
  })

  it('resolves combined codes to the alternative that keeps any IOD conformant', () => {
    expect(resolveBasicProfileAction('X/Z')).toBe('Z')
    expect(resolveBasicProfileAction('X/D')).toBe('D')
    expect(resolveBasicProfileAction('Z/D')).toBe('D')
    expect(resolveBasicProfileAction('X/Z/D')).toBe('D')
    expect(resolveBasicProfileAction('X/Z/U*')).toBe('U')
    for (const single of ['D', 'Z', 'X', 'U'] as const) expect(resolveBasicProfileAction(single)).toBe(single)
    for (const entry of BASIC_PROFILE_TABLE.values())
      expect(entry.action).toBe(resolveBasicProfileAction(entry.code))
  })

  it('removes the curve and overlay repeating groups, nothing next to them', () => {
    expect(repeatingGroupAction(0x5000)).toBe('X')
    expect(repeatingGroupAction(0x501e)).toBe('X')
    expect(repeatingGroupAction(0x6000)).toBe('X')
    expect(repeatingGroupAction(0x601e)).toBe('X')
    expect(repeatingGroupAction(0x6001)).toBeUndefined() // private, handled as such
    expect(repeatingGroupAction(0x5020)).toBeUndefined()
    expect(repeatingGroupAction(0x6020)).toBeUndefined()
    expect(repeatingGroupAction(0x7fe0)).toBeUndefined()
  })
})
