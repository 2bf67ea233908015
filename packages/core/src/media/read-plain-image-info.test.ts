import fc from 'fast-check'
import { encode as encodePng } from 'fast-png'
import jpeg from 'jpeg-js'
import { describe, expect, it } from 'vitest'
import { MediaError } from './errors.js'
import { readPlainImageInfo } from './read-plain-image-info.js'

describe('readPlainImageInfo', () => {
  it('reads PNG and JPEG dimensions from real encoders', () => {
    const png = encodePng({ width: 31, height: 17, data: new Uint8Array(31 * 17 * 4), channels: 4, depth: 8 })
    expect(readPlainImageInfo(png)).toEqual({ mediaType: 'image/png', width: 31, height: 17 })
    const jpg = jpeg.encode({ width: 40, height: 23, data: Buffer.alloc(40 * 23 * 4) }, 80).data
    expect(readPlainImageInfo(new Uint8Array(jpg))).toEqual({
      mediaType: 'image/jpeg',
      width: 40,
      height: 23,
    })
  })

  it('refuses other bytes, cut headers and too many pixels, naming the file', () => {
    const png = encodePng({
      width: 4000,
      height: 3000,
      data: new Uint8Array(4000 * 3000),
      channels: 1,
      depth: 8,
    })
    expect(() => readPlainImageInfo(png, { fileName: 'big.png', maxPixels: 10_000_000 })).toThrowError(
      'big.png: 4000×3000 is more than the 10000000 pixels allowed',
    )
    expect(() => readPlainImageInfo(png.subarray(0, 20), { fileName: 'cut.png' })).toThrowError(MediaError)
    expect(() =>
      readPlainImageInfo(new TextEncoder().encode('GIF89a....'), { fileName: 'x.gif' }),
    ).toThrowError('x.gif: not a PNG or JPEG image')
  })

  it('property: any bytes give dimensions or a MediaError', () => {
    const jpg = new Uint8Array(jpeg.encode({ width: 8, height: 8, data: Buffer.alloc(256) }, 50).data)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(jpg.length), (noise, cut) => {
        for (const bytes of [
          noise,
          jpg.subarray(0, cut),
          Uint8Array.from([...jpg.subarray(0, 4), ...noise]),
        ]) {
          try {
            const info = readPlainImageInfo(bytes)
            expect(info.width * info.height).toBeGreaterThan(0)
          } catch (error) {
            expect(error).toBeInstanceOf(MediaError)
          }
        }
      }),
      { numRuns: 500 },
    )
  })
})
