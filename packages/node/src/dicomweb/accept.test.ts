import { describe, expect, it } from 'vitest'
import { instanceSyntaxChoices, parseAccept, pickFrameAnswer, pickInstanceSyntax } from './accept.js'

const EXPLICIT = '1.2.840.10008.1.2.1'
const JPEG = '1.2.840.10008.1.2.4.50'
const J2K = '1.2.840.10008.1.2.4.90'

describe('Accept negotiation (PS3.18 8.7.3)', () => {
  it('orders ranges by quality, keeps quoted parameters whole and drops q=0', () => {
    const ranges = parseAccept(
      'a/b; q=0.5, multipart/related; type="application/dicom"; transfer-syntax=*, c/d;q=0',
    )
    expect(ranges.map((r) => r.type)).toEqual(['multipart/related', 'a/b'])
    expect(ranges[0]!.params).toEqual({ type: 'application/dicom', 'transfer-syntax': '*' })
    expect(parseAccept(undefined)).toEqual([{ type: '*/*', params: {}, q: 1 }])
  })

  it('answers instances as stored by default, transcodes only to Explicit VR Little Endian', () => {
    expect(pickInstanceSyntax(instanceSyntaxChoices(undefined), JPEG, true)).toBe(JPEG)
    expect(
      pickInstanceSyntax(instanceSyntaxChoices('multipart/related; type="application/dicom"'), JPEG, true),
    ).toBe(JPEG)
    const explicit = instanceSyntaxChoices(
      `multipart/related; type="application/dicom"; transfer-syntax=${EXPLICIT}`,
    )
    expect(pickInstanceSyntax(explicit, JPEG, true)).toBe(EXPLICIT)
    expect(pickInstanceSyntax(explicit, JPEG, false)).toBeUndefined()
    expect(pickInstanceSyntax(explicit, EXPLICIT, false)).toBe(EXPLICIT)
    const j2k = instanceSyntaxChoices(`multipart/related; type="application/dicom"; transfer-syntax=${J2K}`)
    expect(pickInstanceSyntax(j2k, JPEG, true)).toBeUndefined()
    expect(pickInstanceSyntax(j2k, J2K, true)).toBe(J2K)
    expect(() => instanceSyntaxChoices('application/json')).toThrow(/multipart\/related/)
    expect(() => instanceSyntaxChoices('multipart/related; type="application/octet-stream"')).toThrow()
  })

  it('answers frames decoded unless the stored bitstream is asked for by type or syntax', () => {
    expect(pickFrameAnswer(undefined, J2K, true)).toEqual({ kind: 'decoded' })
    const cornerstone = 'multipart/related; type=application/octet-stream; transfer-syntax=*'
    expect(pickFrameAnswer(cornerstone, J2K, true)).toEqual({
      kind: 'stored',
      mediaType: 'application/octet-stream',
    })
    expect(pickFrameAnswer(cornerstone, EXPLICIT, false)).toEqual({ kind: 'decoded' })
    expect(pickFrameAnswer('multipart/related; type="image/jp2"', J2K, true)).toEqual({
      kind: 'stored',
      mediaType: 'image/jp2',
    })
    expect(
      pickFrameAnswer(
        `multipart/related; type="application/octet-stream"; transfer-syntax=${J2K}`,
        J2K,
        true,
      ),
    ).toEqual({
      kind: 'stored',
      mediaType: 'application/octet-stream',
    })
    expect(() => pickFrameAnswer('multipart/related; type="image/jpeg"', J2K, true)).toThrow()
    expect(() => pickFrameAnswer('multipart/related; type="image/jp2"', EXPLICIT, false)).toThrow()
    // The first range that can be answered wins.
    expect(
      pickFrameAnswer('multipart/related; type="image/jls", multipart/related; type="image/jp2"', J2K, true),
    ).toEqual({
      kind: 'stored',
      mediaType: 'image/jp2',
    })
  })
})
