import { describe, expect, it } from 'vitest'
import { formatBytes, table } from './format.js'

describe('formatBytes', () => {
  it('picks a unit that keeps the number readable', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(39_136)).toBe('38.2 KB')
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB')
    expect(formatBytes(3.5 * 1024 ** 3)).toBe('3.5 GB')
  })
})

describe('table', () => {
  it('aligns columns under a header and leaves no trailing blanks for empty last cells', () => {
    const text = table(
      ['ID', 'KIND', 'DESCRIPTION'],
      [
        ['0x01', 'CT', ''],
        ['0x0002', 'MRI', 'Head'],
      ],
    )
    expect(text.split('\n')).toEqual(['ID      KIND  DESCRIPTION', '0x01    CT', '0x0002  MRI   Head'])
  })
})
