import { MediaError } from './errors.js'

/** 100 megapixels: a 3000×2500 radiograph is 7.5. */
export const PLAIN_IMAGE_LIMITS = { maxPixels: 100_000_000 }

export type PlainImageInfo = { mediaType: 'image/png' | 'image/jpeg'; width: number; height: number }

export type ReadPlainImageInfoParameters = {
  /** For error messages only. */
  fileName?: string | undefined
  maxPixels?: number | undefined
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

/** Whether the bytes start like a PNG or a JPEG (the magic alone; {@link readPlainImageInfo} checks the header). */
export function sniffPlainImage(bytes: Uint8Array): PlainImageInfo['mediaType'] | undefined {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'image/png'
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg'
  return undefined
}

/**
 * Reads a PNG's IHDR or a JPEG's frame header (SOFn) from the start of the file — `head` may be just the
 * first part of it — and refuses anything else, broken headers and images past `maxPixels`.
 */
export function readPlainImageInfo(
  head: Uint8Array,
  params: ReadPlainImageInfoParameters = {},
): PlainImageInfo {
  const fail = (problem: string) => new MediaError('IMAGE_INVALID', problem, { source: params.fileName })
  const maxPixels = params.maxPixels ?? PLAIN_IMAGE_LIMITS.maxPixels
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength)
  const type = sniffPlainImage(head)
  let width: number
  let height: number
  if (type === 'image/png') {
    if (head.length < 33) throw fail('PNG header is cut short')
    const ihdr = String.fromCharCode(...head.subarray(12, 16))
    if (v.getUint32(8) !== 13 || ihdr !== 'IHDR') throw fail('PNG does not start with an IHDR chunk')
    width = v.getUint32(16)
    height = v.getUint32(20)
  } else if (type === 'image/jpeg') {
    const frame = jpegFrame(head, v)
    if (typeof frame === 'string') throw fail(frame)
    ;({ width, height } = frame)
  } else {
    throw fail('not a PNG or JPEG image')
  }
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff)
    throw fail(`impossible dimensions ${width}×${height}`)
  if (width * height > maxPixels)
    throw fail(`${width}×${height} is more than the ${maxPixels} pixels allowed`)
  return { mediaType: type, width, height }
}

/** Walks the marker segments up to the first start-of-frame (ITU T.81 B.1.1). */
function jpegFrame(bytes: Uint8Array, v: DataView): { width: number; height: number } | string {
  let at = 2
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return 'JPEG marker expected'
    const marker = bytes[at + 1]!
    if (marker === 0xff) {
      at += 1 // fill byte
      continue
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2
      continue
    }
    if (marker === 0xd9 || marker === 0xda) return 'JPEG has no frame header before its image data'
    const length = v.getUint16(at + 2)
    if (length < 2) return 'JPEG segment with an impossible length'
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
    if (isFrame) {
      if (length < 8 || at + 9 > bytes.length) return 'JPEG frame header is cut short'
      return { height: v.getUint16(at + 5), width: v.getUint16(at + 7) }
    }
    at += 2 + length
  }
  return 'JPEG frame header not found in the start of the file'
}
