import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { extractFrames, sliceNativeFrames } from './extract-frames.js'
import type { ImageInfo } from './image-info.js'

const root = join(import.meta.dirname, '../../../../../fixtures/dicom')
const read = (path: string) => new Uint8Array(readFileSync(join(root, path)))
// dcmjs ships no types; the tests only need its reader.
const dcmjs = createRequire(import.meta.url)('dcmjs')

function naturalize(bytes: Uint8Array): { dataset: Record<string, unknown>; transferSyntaxUid: string } {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  const dict = dcmjs.data.DicomMessage.readFile(buffer)
  return {
    dataset: dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict),
    transferSyntaxUid: dict.meta['00020010'].Value[0],
  }
}

const info = (overrides: Partial<ImageInfo>): ImageInfo => ({
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  rows: 1,
  columns: 1,
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

describe('extractFrames from Part 10 bytes', () => {
  it('reads the image attributes', () => {
    const { imageInfo, frames } = extractFrames(read('valid/MR_small.dcm'))
    expect(imageInfo).toMatchObject({
      rows: 64,
      columns: 64,
      bitsAllocated: 16,
      bitsStored: 16,
      pixelRepresentation: 1,
      windows: [{ center: 600, width: 1600 }],
      numberOfFrames: 1,
    })
    expect(frames).toHaveLength(1)
    expect(frames[0]?.length).toBe(64 * 64 * 2)
  })

  it('splits the 4-frame XA despite its broken Basic Offset Table', () => {
    const { frames } = extractFrames(read('valid/XA_angio_jpegll.dcm'))
    expect(frames.map((f) => f.length)).toEqual([79970, 81564, 81694, 81511])
    for (const f of frames) expect([f[0], f[1]]).toEqual([0xff, 0xd8])
  })

  it('names the problem for files it cannot use', () => {
    expect(() => extractFrames(read('valid/test-SR.dcm'))).toThrow(
      expect.objectContaining({ code: 'DICOM_NO_PIXEL_DATA' }),
    )
    expect(() => extractFrames(read('malformed/MR_truncated.dcm'))).toThrow(
      expect.objectContaining({ code: 'DICOM_PIXEL_DATA_TRUNCATED' }),
    )
    expect(() => extractFrames(read('malformed/no_meta.dcm'))).toThrow(
      expect.objectContaining({ code: 'DICOM_UNREADABLE' }),
    )
    expect(() => extractFrames(read('malformed/meta_missing_tsyntax.dcm'))).toThrow(
      expect.objectContaining({ code: 'DICOM_UNREADABLE' }),
    )
    expect(() => extractFrames(read('malformed/rtplan_truncated.dcm'))).toThrow(
      expect.objectContaining({ name: 'DicomDecodeError' }),
    )
  })

  it('uses an Extended Offset Table (7FE0,0001/0002) placed before the Pixel Data', () => {
    const original = read('valid/MR_small_RLE.dcm')
    const expected = extractFrames(original).frames[0] as Uint8Array
    // Splice EOT = [0] and EOT lengths = [frame length] (both OV) in front of (7FE0,0010).
    const at = original.findIndex(
      (_, i) =>
        original[i] === 0xe0 &&
        original[i + 1] === 0x7f &&
        original[i + 2] === 0x10 &&
        original[i + 3] === 0x00,
    )
    const element = (elementNumber: number, value: bigint) => {
      const out = new Uint8Array(20)
      const view = new DataView(out.buffer)
      view.setUint16(0, 0x7fe0, true)
      view.setUint16(2, elementNumber, true)
      out.set([0x4f, 0x56], 4) // "OV"
      view.setUint32(8, 8, true)
      view.setBigUint64(12, value, true)
      return out
    }
    const patched = new Uint8Array([
      ...original.subarray(0, at),
      ...element(0x0001, 0n),
      ...element(0x0002, BigInt(expected.length)),
      ...original.subarray(at),
    ])
    const { frames } = extractFrames(patched)
    expect(Array.from(frames[0] ?? [])).toEqual(Array.from(expected))
  })
})

describe('extractFrames from a dcmjs naturalized dataset', () => {
  it.each([
    'CT_small.dcm',
    'MR_small.dcm',
    'MR_small_bigendian.dcm',
    'MR_small_RLE.dcm',
    'MR_small_jp2klossless.dcm',
    'JPEG-lossy.dcm',
    'JPEG2000.dcm',
    'SC_rgb_jpeg_dcmtk.dcm',
    'SC_rgb_rle.dcm',
    'liver_1frame.dcm',
  ])('%s gives the same frames and attributes as the bytes', (name) => {
    const bytes = read(`valid/${name}`)
    const fromBytes = extractFrames(bytes)
    const { dataset, transferSyntaxUid } = naturalize(bytes)
    const fromDataset = extractFrames(dataset, { transferSyntaxUid })
    expect(fromDataset.imageInfo).toEqual(fromBytes.imageInfo)
    expect(fromDataset.frames.map((f) => Array.from(f))).toEqual(fromBytes.frames.map((f) => Array.from(f)))
  })

  it('needs the transfer syntax', () => {
    const { dataset } = naturalize(read('valid/MR_small.dcm'))
    expect(() => extractFrames(dataset)).toThrow(expect.objectContaining({ code: 'DICOM_UNREADABLE' }))
  })
})

describe('sliceNativeFrames', () => {
  it('realigns 1-bit frames that do not start on a byte boundary', () => {
    // Three 3×3 frames: 27 bits. Frame 1 all ones, frame 2 alternating, frame 3 only its last pixel.
    const bits = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    const packed = new Uint8Array(4)
    bits.forEach((b, i) => {
      if (b) packed[i >> 3] = (packed[i >> 3] ?? 0) | (1 << (i & 7))
    })
    const frames = sliceNativeFrames(
      packed,
      info({ rows: 3, columns: 3, bitsAllocated: 1, bitsStored: 1, highBit: 0, numberOfFrames: 3 }),
    )
    const unpack = (f: Uint8Array) => Array.from({ length: 9 }, (_, i) => ((f[i >> 3] ?? 0) >> (i & 7)) & 1)
    expect(frames.map(unpack)).toEqual([bits.slice(0, 9), bits.slice(9, 18), bits.slice(18, 27)])
  })

  it('rejects a huge NumberOfFrames without overflowing', () => {
    expect(() =>
      sliceNativeFrames(
        new Uint8Array(1024),
        info({
          rows: 65535,
          columns: 65535,
          bitsAllocated: 32,
          bitsStored: 32,
          highBit: 31,
          samplesPerPixel: 4,
          numberOfFrames: 2 ** 31 - 1,
        }),
      ),
    ).toThrow(expect.objectContaining({ code: 'DICOM_PIXEL_DATA_TRUNCATED' }))
  })

  it('sizes YBR_FULL_422 frames at two samples per pixel', () => {
    const frames = sliceNativeFrames(
      new Uint8Array(2 * 4 * 2 * 2),
      info({
        rows: 2,
        columns: 4,
        samplesPerPixel: 3,
        photometricInterpretation: 'YBR_FULL_422',
        numberOfFrames: 2,
      }),
    )
    expect(frames.map((f) => f.length)).toEqual([16, 16])
  })
})
