import { readdirSync, readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { locatePixelData } from './pixel-data-element.js'

const VALID = new URL('../../../../../fixtures/dicom/valid/', import.meta.url)
const MALFORMED = new URL('../../../../../fixtures/dicom/malformed/', import.meta.url)
const read = (dir: URL, name: string) => new Uint8Array(readFileSync(new URL(name, dir)))

describe('locatePixelData', () => {
  it('finds the top-level Pixel Data element of every valid fixture with pixels, in every encoding', () => {
    for (const name of readdirSync(VALID).filter((file) => file.endsWith('.dcm'))) {
      const bytes = read(VALID, name)
      const located = locatePixelData(bytes)
      expect(located, name).toBeDefined()
      if (name === 'test-SR.dcm') {
        expect(located?.pixelData, name).toBeUndefined()
        continue
      }
      const span = located?.pixelData
      expect(span, name).toBeDefined()
      if (!span) continue
      const view = new DataView(bytes.buffer, bytes.byteOffset + span.start, 4)
      const littleEndian = located?.transferSyntaxUid !== '1.2.840.10008.1.2.2'
      expect([view.getUint16(0, littleEndian), view.getUint16(2, littleEndian)], name).toEqual([
        0x7fe0, 0x0010,
      ])
      // In these fixtures Pixel Data is the last element but for Data Set Trailing Padding (FFFC,FFFC): the span
      // ends at the end of the file or exactly where that padding starts.
      if (span.end !== bytes.length) {
        const next = new DataView(bytes.buffer, bytes.byteOffset + span.end, 4)
        expect([next.getUint16(0, littleEndian), next.getUint16(2, littleEndian)], name).toEqual([
          0xfffc, 0xfffc,
        ])
      }
    }
  })

  it('gives up on a pixel data element cut short, and on files without file meta', () => {
    expect(locatePixelData(read(MALFORMED, 'MR_truncated.dcm'))?.pixelData).toBeUndefined()
    expect(locatePixelData(read(MALFORMED, 'no_meta.dcm'))).toBeUndefined()
    expect(locatePixelData(read(MALFORMED, 'meta_missing_tsyntax.dcm'))).toBeUndefined()
    expect(locatePixelData(new Uint8Array(0))).toBeUndefined()
  })

  it('never throws and never points outside the input, whatever the bytes', () => {
    const sources = ['CT_small.dcm', 'SC_rgb_jpeg_dcmtk.dcm', 'MR_small_implicit.dcm', 'test-SR.dcm'].map(
      (name) => read(VALID, name),
    )
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: sources.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 16 }),
        fc.nat(),
        (which, flips, cut) => {
          const source = sources[which] ?? new Uint8Array()
          const bytes = source.slice(0, source.length - (cut % 64))
          for (const [at, value] of flips) bytes[at % bytes.length] = value
          const located = locatePixelData(bytes)
          if (located?.pixelData) {
            expect(located.pixelData.start).toBeGreaterThanOrEqual(located.datasetOffset)
            expect(located.pixelData.end).toBeLessThanOrEqual(bytes.length)
          }
        },
      ),
      { numRuns: 500 },
    )
  })
})
