import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ImageInfo } from '../image-info.js'
import { decodePackBits, decodeRleFrame } from './rle.js'

/** A straightforward PackBits encoder (PS3.5 G.3.1), independent of the decoder under test. */
function packBits(input: Uint8Array): number[] {
  const out: number[] = []
  let i = 0
  while (i < input.length) {
    let run = 1
    while (i + run < input.length && input[i + run] === input[i] && run < 128) run++
    if (run >= 2) {
      out.push(257 - run, input[i] ?? 0)
      i += run
      continue
    }
    let literal = 1
    while (i + literal < input.length && literal < 128 && input[i + literal] !== input[i + literal + 1])
      literal++
    out.push(literal - 1, ...input.subarray(i, i + literal))
    i += literal
  }
  return out
}

function rleFrame(segments: Uint8Array[]): Uint8Array {
  const encoded = segments.map((s) => {
    const e = packBits(s)
    if (e.length % 2) e.push(128) // pad with a no-op to keep segments even
    return e
  })
  const header = new Uint8Array(64)
  const view = new DataView(header.buffer)
  view.setUint32(0, segments.length, true)
  let offset = 64
  encoded.forEach((e, i) => {
    view.setUint32(4 + i * 4, offset, true)
    offset += e.length
  })
  return new Uint8Array([...header, ...encoded.flat()])
}

const info = (overrides: Partial<ImageInfo>): ImageInfo => ({
  transferSyntaxUid: '1.2.840.10008.1.2.5',
  rows: 2,
  columns: 2,
  samplesPerPixel: 1,
  bitsAllocated: 8,
  bitsStored: 8,
  highBit: 7,
  pixelRepresentation: 0,
  photometricInterpretation: 'MONOCHROME2',
  planarConfiguration: 0,
  numberOfFrames: 1,
  rescaleSlope: 1,
  rescaleIntercept: 0,
  windows: [],
  voiLutFunction: 'LINEAR',
  ...overrides,
})

describe('decodePackBits', () => {
  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (data) => {
        const out = new Uint8Array(data.length)
        expect(decodePackBits(new Uint8Array(packBits(data)), out)).toBe(data.length)
        expect(Array.from(out)).toEqual(Array.from(data))
      }),
    )
  })

  it('handles runs, literals and the −128 no-op', () => {
    const out = new Uint8Array(7)
    expect(decodePackBits(new Uint8Array([254, 5, 128, 1, 7, 8, 255, 9]), out)).toBe(7)
    expect(Array.from(out)).toEqual([5, 5, 5, 7, 8, 9, 9])
  })
})

describe('decodeRleFrame', () => {
  it('puts the most significant byte segment first and sign-extends 16-bit samples', () => {
    const values = [-2, 300, 0, -32768]
    const high = new Uint8Array(values.map((v) => ((v & 0xffff) >> 8) & 0xff))
    const low = new Uint8Array(values.map((v) => v & 0xff))
    const decoded = decodeRleFrame(
      rleFrame([high, low]),
      info({ bitsAllocated: 16, bitsStored: 16, highBit: 15, pixelRepresentation: 1 }),
    )
    expect(decoded.pixels).toBeInstanceOf(Int16Array)
    expect(Array.from(decoded.pixels)).toEqual(values)
  })

  it('interleaves colour segments by pixel', () => {
    const r = new Uint8Array([1, 2, 3, 4])
    const g = new Uint8Array([5, 6, 7, 8])
    const b = new Uint8Array([9, 10, 11, 12])
    const decoded = decodeRleFrame(
      rleFrame([r, g, b]),
      info({ samplesPerPixel: 3, photometricInterpretation: 'RGB' }),
    )
    expect(Array.from(decoded.pixels)).toEqual([1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12])
  })

  it('rejects a segment count that does not match the attributes', () => {
    expect(() =>
      decodeRleFrame(rleFrame([new Uint8Array(4)]), info({ bitsAllocated: 16, bitsStored: 16, highBit: 15 })),
    ).toThrow(expect.objectContaining({ code: 'DICOM_DECODE_FAILED' }))
  })

  it('rejects a segment that yields too few bytes', () => {
    const frame = rleFrame([new Uint8Array([1, 2, 3, 4])]).slice(0, 66)
    expect(() => decodeRleFrame(frame, info({}))).toThrow(
      expect.objectContaining({ code: 'DICOM_DECODE_FAILED' }),
    )
  })
})
