import { describe, expect, it } from 'vitest'
import type { ImageInfo } from './image-info.js'
import type { DecodedFrame, PixelArray } from './pixels.js'
import { renderFrame, voiFunction } from './render-frame.js'

const info = (overrides: Partial<ImageInfo> = {}): ImageInfo => ({
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  rows: 1,
  columns: 4,
  samplesPerPixel: 1,
  bitsAllocated: 16,
  bitsStored: 16,
  highBit: 15,
  pixelRepresentation: 1,
  photometricInterpretation: 'MONOCHROME2',
  planarConfiguration: 0,
  numberOfFrames: 1,
  rescaleSlope: 1,
  rescaleIntercept: 0,
  windows: [],
  voiLutFunction: 'LINEAR',
  ...overrides,
})

const frame = (pixels: PixelArray, i: ImageInfo): DecodedFrame => ({
  pixels,
  rows: i.rows,
  columns: i.columns,
  samplesPerPixel: i.samplesPerPixel,
  photometricInterpretation: i.photometricInterpretation,
})

describe('voiFunction (PS3.3 C.11.2.1.2)', () => {
  it('LINEAR: c − 0.5 − (w−1)/2 and below is 0, above c − 0.5 + (w−1)/2 is 255', () => {
    const f = voiFunction({ center: 600, width: 1600 }, 'LINEAR')
    expect(f(-200)).toBe(0) // 600 − 0.5 − 799.5
    expect(f(-199)).toBeGreaterThan(0)
    expect(f(1399)).toBe(255) // 600 − 0.5 + 799.5 = 1399 maps to exactly 255
    expect(f(1400)).toBe(255)
    expect(f(599.5)).toBeCloseTo(127.5)
  })

  it('LINEAR_EXACT and SIGMOID', () => {
    const exact = voiFunction({ center: 100, width: 50 }, 'LINEAR_EXACT')
    expect(exact(75)).toBe(0)
    expect(exact(100)).toBeCloseTo(127.5)
    expect(exact(125)).toBeCloseTo(255)
    const sigmoid = voiFunction({ center: 100, width: 50 }, 'SIGMOID')
    expect(sigmoid(100)).toBeCloseTo(127.5)
    expect(sigmoid(-1e6)).toBeCloseTo(0)
  })
})

describe('renderFrame', () => {
  it('applies rescale slope/intercept before the window', () => {
    const i = info({ rescaleSlope: 2, rescaleIntercept: -1000, windows: [{ center: 0, width: 2001 }] })
    // Modality values −1000, 0, 1000, 1002.
    const out = renderFrame(frame(new Int16Array([0, 500, 1000, 1001]), i), i)
    expect(Array.from(out.data)).toEqual([0, 127, 255, 255])
    expect(out.window).toEqual({ center: 0, width: 2001 })
  })

  it('spans min..max when there is no window, and inverts MONOCHROME1', () => {
    const i = info()
    expect(Array.from(renderFrame(frame(new Int16Array([-10, 0, 10, 30]), i), i).data)).toEqual([
      0, 63, 127, 255,
    ])
    const mono1 = info({ photometricInterpretation: 'MONOCHROME1' })
    expect(Array.from(renderFrame(frame(new Int16Array([-10, 0, 10, 30]), mono1), mono1).data)).toEqual([
      255, 191, 127, 0,
    ])
    expect(
      Array.from(renderFrame(frame(new Int16Array([-10, 0, 10, 30]), mono1), mono1, { invert: true }).data),
    ).toEqual([0, 63, 127, 255])
  })

  it('option window beats the dataset window', () => {
    const i = info({ windows: [{ center: 1000, width: 10 }] })
    const out = renderFrame(frame(new Int16Array([0, 1, 2, 3]), i), i, { windowCenter: 2, windowWidth: 3 })
    expect(Array.from(out.data)).toEqual([0, 63, 191, 255])
  })

  it('gives the same result without a lookup table for a huge value range', () => {
    const i = info({ bitsAllocated: 32, bitsStored: 32, highBit: 31 })
    const pixels = new Int32Array([-2_000_000_000, -1, 1, 2_000_000_000])
    expect(Array.from(renderFrame(frame(pixels, i), i).data)).toEqual([0, 127, 127, 255])
  })

  it('maps PALETTE COLOR through the lookup tables', () => {
    const i = info({
      photometricInterpretation: 'PALETTE COLOR',
      pixelRepresentation: 0,
      bitsAllocated: 8,
      bitsStored: 8,
      highBit: 7,
      palette: {
        firstMapped: 10,
        red: new Uint8Array([1, 2, 3]),
        green: new Uint8Array([4, 5, 6]),
        blue: new Uint8Array([7, 8, 9]),
      },
    })
    const out = renderFrame(frame(new Uint8Array([0, 10, 11, 200]), i), i)
    expect(out.channels).toBe(3)
    expect(Array.from(out.data)).toEqual([1, 4, 7, 1, 4, 7, 2, 5, 8, 3, 6, 9])
  })

  it('converts YBR_FULL to RGB', () => {
    const i = info({
      samplesPerPixel: 3,
      photometricInterpretation: 'YBR_FULL',
      columns: 2,
      bitsAllocated: 8,
      bitsStored: 8,
      highBit: 7,
      pixelRepresentation: 0,
    })
    // Grey stays grey; pure chroma shifts red/blue.
    const out = renderFrame(frame(new Uint8Array([100, 128, 128, 76, 85, 255]), i), i)
    expect(Array.from(out.data.subarray(0, 3))).toEqual([100, 100, 100])
    expect(out.data[3]).toBeGreaterThan(250) // ≈ pure red
    expect(out.data[4]).toBeLessThan(5)
  })

  it('scales to fit the requested size', () => {
    const i = info({ rows: 4, columns: 8, windows: [{ center: 127.5, width: 256 }] })
    const out = renderFrame(frame(new Int16Array(32).fill(255), i), i, { size: 4 })
    expect([out.width, out.height]).toEqual([4, 2])
    expect(Array.from(out.data)).toEqual(new Array(8).fill(255))
  })

  it('refuses two-sample images', () => {
    const i = info({ samplesPerPixel: 2 })
    expect(() => renderFrame(frame(new Int16Array(8), i), i)).toThrow(
      expect.objectContaining({ code: 'DICOM_UNSUPPORTED_IMAGE' }),
    )
  })
})
