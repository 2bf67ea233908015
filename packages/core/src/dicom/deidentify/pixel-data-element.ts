/**
 * Finds the bytes of the top-level Pixel Data element (7FE0,0010) of a Part 10 file, header included, so a
 * de-identified copy can carry it verbatim: dcmjs re-fragments encapsulated pixel data and rebuilds the Basic
 * Offset Table when it writes, and a frame stored in several fragments without an offset table would come back
 * as several frames. Only walks element headers (no values are decoded); returns `undefined` for anything it
 * cannot walk with certainty, and the caller then lets dcmjs encode the pixel data.
 */

export type ByteSpan = { start: number; end: number }

type Encoding = { explicitVr: boolean; littleEndian: boolean }

const EXPLICIT_LONG_VRS = new Set([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'SQ',
  'SV',
  'UC',
  'UN',
  'UR',
  'UT',
  'UV',
])
const UNDEFINED_LENGTH = 0xffffffff
const MAX_DEPTH = 64

const IMPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2'
const EXPLICIT_BIG_ENDIAN = '1.2.840.10008.1.2.2'
const DEFLATED_EXPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99'

class Unwalkable extends Error {}

export type LocatePixelDataReturnType = {
  /** Transfer Syntax UID from the file meta group. */
  transferSyntaxUid: string
  /** Where the dataset starts (after the file meta group). */
  datasetOffset: number
  /** The Pixel Data element, or `undefined` when the dataset has none at the top level. */
  pixelData: ByteSpan | undefined
}

/**
 * Locates the dataset and its top-level Pixel Data element in a Part 10 file (with or without the 128-byte
 * preamble). Returns `undefined` when the file has no readable file meta group or uses the deflated transfer
 * syntax (whose dataset bytes are compressed), or when an element header does not add up.
 */
export function locatePixelData(bytes: Uint8Array): LocatePixelDataReturnType | undefined {
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    let position: number
    if (bytes.length >= 132 && ascii(bytes, 128, 4) === 'DICM') position = 132
    else if (bytes.length >= 4 && view.getUint16(0, true) === 0x0002) position = 0
    else return undefined

    let transferSyntaxUid: string | undefined
    while (position + 8 <= bytes.length && view.getUint16(position, true) === 0x0002) {
      const element = view.getUint16(position + 2, true)
      const vr = ascii(bytes, position + 4, 2)
      let headerLength = 8
      let length = view.getUint16(position + 6, true)
      if (EXPLICIT_LONG_VRS.has(vr)) {
        headerLength = 12
        length = need(view, position + 8, 4).getUint32(position + 8, true)
      }
      const valueStart = position + headerLength
      if (length === UNDEFINED_LENGTH || valueStart + length > bytes.length) return undefined
      if (element === 0x0010) transferSyntaxUid = ascii(bytes, valueStart, length).replace(/[\0 ]+$/, '')
      position = valueStart + length
    }
    if (!transferSyntaxUid || transferSyntaxUid === DEFLATED_EXPLICIT_LITTLE_ENDIAN) return undefined

    const encoding: Encoding = {
      explicitVr: transferSyntaxUid !== IMPLICIT_LITTLE_ENDIAN,
      littleEndian: transferSyntaxUid !== EXPLICIT_BIG_ENDIAN,
    }
    const datasetOffset = position
    while (position < bytes.length) {
      const start = position
      const { group, element, end } = readElement(view, position, encoding, 0)
      if (group === 0x7fe0 && element === 0x0010) {
        return { transferSyntaxUid, datasetOffset, pixelData: { start, end } }
      }
      position = end
    }
    return { transferSyntaxUid, datasetOffset, pixelData: undefined }
  } catch (error) {
    if (error instanceof Unwalkable || error instanceof RangeError) return undefined
    throw error
  }
}

function readElement(
  view: DataView,
  position: number,
  encoding: Encoding,
  depth: number,
): { group: number; element: number; end: number } {
  need(view, position, 8)
  const group = view.getUint16(position, encoding.littleEndian)
  const element = view.getUint16(position + 2, encoding.littleEndian)
  if (group === 0xfffe) throw new Unwalkable('delimiter outside a sequence')
  let length: number
  let valueStart: number
  let contentEncoding = encoding
  if (encoding.explicitVr) {
    const vr = String.fromCharCode(view.getUint8(position + 4), view.getUint8(position + 5))
    if (!/^[A-Z]{2}$/.test(vr)) throw new Unwalkable('not a VR')
    if (EXPLICIT_LONG_VRS.has(vr)) {
      need(view, position, 12)
      length = view.getUint32(position + 8, encoding.littleEndian)
      valueStart = position + 12
    } else {
      length = view.getUint16(position + 6, encoding.littleEndian)
      valueStart = position + 8
    }
    // PS3.5 6.2.2: a UN value of undefined length holds implicit VR little endian data.
    if (vr === 'UN' && length === UNDEFINED_LENGTH)
      contentEncoding = { explicitVr: false, littleEndian: true }
  } else {
    length = view.getUint32(position + 4, true)
    valueStart = position + 8
  }
  if (length !== UNDEFINED_LENGTH) {
    need(view, valueStart, length)
    return { group, element, end: valueStart + length }
  }
  return { group, element, end: skipItems(view, valueStart, contentEncoding, depth + 1) }
}

/** Skips the items of an undefined-length value (a sequence or encapsulated pixel data) up to its delimiter. */
function skipItems(view: DataView, position: number, encoding: Encoding, depth: number): number {
  if (depth > MAX_DEPTH) throw new Unwalkable('too deep')
  let cursor = position
  for (;;) {
    need(view, cursor, 8)
    const group = view.getUint16(cursor, encoding.littleEndian)
    const element = view.getUint16(cursor + 2, encoding.littleEndian)
    const length = view.getUint32(cursor + 4, encoding.littleEndian)
    cursor += 8
    if (group !== 0xfffe) throw new Unwalkable('expected an item')
    if (element === 0xe0dd) return cursor
    if (element !== 0xe000) throw new Unwalkable('expected an item')
    if (length !== UNDEFINED_LENGTH) {
      need(view, cursor, length)
      cursor += length
      continue
    }
    // An undefined-length item: elements up to the item delimiter.
    for (;;) {
      need(view, cursor, 8)
      if (
        view.getUint16(cursor, encoding.littleEndian) === 0xfffe &&
        view.getUint16(cursor + 2, encoding.littleEndian) === 0xe00d
      ) {
        cursor += 8
        break
      }
      cursor = readElement(view, cursor, encoding, depth).end
    }
  }
}

function need(view: DataView, position: number, length: number): DataView {
  if (position < 0 || length < 0 || position + length > view.byteLength) throw new Unwalkable('past the end')
  return view
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  let text = ''
  for (let i = start; i < start + length && i < bytes.length; i++) text += String.fromCharCode(bytes[i] ?? 0)
  return text
}
