import { concatBytes } from '../../crypto/bytes.js'
import { DicomDecodeError } from './errors.js'
import type { PixelEncoding } from './transfer-syntax.js'

/** One fragment (item value) of encapsulated Pixel Data. */
export type PixelDataFragment = {
  /** Byte offset of the fragment's item tag from the first fragment's item tag (the Basic Offset Table's origin). */
  offset: number
  bytes: Uint8Array
}

/** The items of encapsulated Pixel Data (PS3.5 A.4): the Basic Offset Table and the fragments. */
export type EncapsulatedItems = {
  basicOffsetTable: number[]
  fragments: PixelDataFragment[]
}

const ITEM = 0xfffee000
const SEQUENCE_DELIMITER = 0xfffee0dd

function truncated(details: string): DicomDecodeError {
  return new DicomDecodeError('Pixel Data is truncated', { code: 'DICOM_PIXEL_DATA_TRUNCATED', details })
}

/**
 * Walks the items of encapsulated Pixel Data starting at `start` (the Basic Offset Table's item tag)
 * up to the Sequence Delimitation Item. Encapsulated syntaxes are all little endian.
 */
export function readEncapsulatedItems(bytes: Uint8Array, start: number): EncapsulatedItems {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const readItemHeader = (position: number): { tag: number; length: number } => {
    if (position + 8 > bytes.length) throw truncated(`item header at byte ${position} runs past the end`)
    const tag = ((view.getUint16(position, true) << 16) | view.getUint16(position + 2, true)) >>> 0
    return { tag, length: view.getUint32(position + 4, true) }
  }
  let position = start
  const first = readItemHeader(position)
  if (first.tag !== ITEM) {
    throw new DicomDecodeError('Invalid encapsulated Pixel Data', {
      code: 'DICOM_DECODE_FAILED',
      details: `expected the Basic Offset Table item at byte ${position}`,
    })
  }
  position += 8
  if (first.length % 4 !== 0 || position + first.length > bytes.length) {
    throw truncated(`Basic Offset Table of ${first.length} bytes does not fit`)
  }
  const basicOffsetTable: number[] = []
  for (let i = 0; i < first.length; i += 4) basicOffsetTable.push(view.getUint32(position + i, true))
  position += first.length
  const origin = position
  const fragments: PixelDataFragment[] = []
  for (;;) {
    // A missing delimiter at the very end is tolerated (some writers omit it); a cut item is not.
    if (position === bytes.length) break
    const header = readItemHeader(position)
    if (header.tag === SEQUENCE_DELIMITER) break
    if (header.tag !== ITEM || header.length === 0xffffffff) {
      throw new DicomDecodeError('Invalid encapsulated Pixel Data', {
        code: 'DICOM_DECODE_FAILED',
        details: `unexpected tag ${header.tag.toString(16)} at byte ${position}`,
      })
    }
    const valueStart = position + 8
    if (valueStart + header.length > bytes.length) {
      throw truncated(`fragment ${fragments.length + 1} of ${header.length} bytes runs past the end`)
    }
    fragments.push({
      offset: position - origin,
      bytes: bytes.subarray(valueStart, valueStart + header.length),
    })
    position = valueStart + header.length
  }
  return { basicOffsetTable, fragments }
}

/** A frame's fragments as one buffer: the fragment itself when there is only one. */
const joined = (parts: Uint8Array[]): Uint8Array =>
  parts.length === 1 && parts[0] ? parts[0] : concatBytes(...parts)

function groupByOffsets(
  fragments: PixelDataFragment[],
  offsets: readonly number[],
): Uint8Array[] | undefined {
  // Every offset must point at a fragment's item tag, in increasing order, starting at the first.
  const itemStarts = new Set(fragments.map((f) => f.offset))
  if (offsets[0] !== 0) return undefined
  for (let i = 0; i < offsets.length; i++) {
    const offset = offsets[i] ?? -1
    if (!itemStarts.has(offset) || (i > 0 && offset <= (offsets[i - 1] ?? 0))) return undefined
  }
  const frames: Uint8Array[][] = offsets.map(() => [])
  let frame = 0
  for (const fragment of fragments) {
    while (frame + 1 < offsets.length && fragment.offset >= (offsets[frame + 1] ?? Number.POSITIVE_INFINITY))
      frame++
    frames[frame]?.push(fragment.bytes)
  }
  return frames.map(joined)
}

function startsFrame(bytes: Uint8Array, encoding: PixelEncoding): boolean {
  switch (encoding) {
    case 'jpeg-baseline':
    case 'jpeg-extended':
    case 'jpeg-lossless':
    case 'jpeg-ls':
      return bytes[0] === 0xff && bytes[1] === 0xd8
    case 'jpeg-2000':
      // A J2K codestream starts SOC SIZ; a JP2 file with its signature box.
      return (
        (bytes[0] === 0xff && bytes[1] === 0x4f && bytes[2] === 0xff && bytes[3] === 0x51) ||
        (bytes[4] === 0x6a && bytes[5] === 0x50 && bytes[6] === 0x20 && bytes[7] === 0x20)
      )
    case 'rle':
      // RLE header: segment count 1..15, then the first offset, always 64.
      return (
        bytes.length >= 64 &&
        bytes[4] === 64 &&
        bytes[5] === 0 &&
        (bytes[0] ?? 0) >= 1 &&
        (bytes[0] ?? 0) <= 15
      )
    default:
      return false
  }
}

/**
 * Groups fragments into frames per PS3.5 A.4: by the Extended Offset Table when present, else by a
 * usable Basic Offset Table, else one fragment per frame when the counts match, else by the codec's
 * start-of-frame marker.
 */
export function groupFragmentsIntoFrames(
  items: EncapsulatedItems,
  params: {
    numberOfFrames: number
    encoding: PixelEncoding
    extendedOffsetTable?: readonly number[] | undefined
  },
): Uint8Array[] {
  const { fragments } = items
  const { numberOfFrames, encoding, extendedOffsetTable } = params
  if (fragments.length === 0) {
    throw new DicomDecodeError('Pixel Data has no fragments', { code: 'DICOM_PIXEL_DATA_TRUNCATED' })
  }
  for (const table of [extendedOffsetTable, items.basicOffsetTable]) {
    if (table && table.length === numberOfFrames) {
      const frames = groupByOffsets(fragments, table)
      if (frames) return frames
    }
  }
  if (numberOfFrames === 1) return [joined(fragments.map((f) => f.bytes))]
  if (fragments.length === numberOfFrames) return fragments.map((f) => f.bytes)
  const frames: Uint8Array[][] = []
  for (const fragment of fragments) {
    const current = frames[frames.length - 1]
    if (!current || startsFrame(fragment.bytes, encoding)) frames.push([fragment.bytes])
    else current.push(fragment.bytes)
  }
  if (frames.length !== numberOfFrames) {
    throw new DicomDecodeError('Cannot split Pixel Data into frames', {
      code: 'DICOM_DECODE_FAILED',
      details: `${fragments.length} fragments, ${frames.length} frame starts found, NumberOfFrames is ${numberOfFrames} and there is no usable offset table`,
    })
  }
  return frames.map(joined)
}
