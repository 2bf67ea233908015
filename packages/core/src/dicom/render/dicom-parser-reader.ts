import dicomParser from 'dicom-parser'
import { inflateSync } from 'fflate'
import { DicomDecodeError } from './errors.js'
import type { AttributeReader } from './image-info.js'
import { TransferSyntax } from './transfer-syntax.js'

type DataSet = ReturnType<typeof dicomParser.parseDicom>

// Keyword → tag and how the value is encoded; only the attributes rendering needs.
const tags: Record<string, { tag: string; kind: 'us' | 'is' | 'ds' | 'cs' | 'bytes' }> = {
  SamplesPerPixel: { tag: 'x00280002', kind: 'us' },
  PhotometricInterpretation: { tag: 'x00280004', kind: 'cs' },
  PlanarConfiguration: { tag: 'x00280006', kind: 'us' },
  NumberOfFrames: { tag: 'x00280008', kind: 'is' },
  Rows: { tag: 'x00280010', kind: 'us' },
  Columns: { tag: 'x00280011', kind: 'us' },
  BitsAllocated: { tag: 'x00280100', kind: 'us' },
  BitsStored: { tag: 'x00280101', kind: 'us' },
  HighBit: { tag: 'x00280102', kind: 'us' },
  PixelRepresentation: { tag: 'x00280103', kind: 'us' },
  WindowCenter: { tag: 'x00281050', kind: 'ds' },
  WindowWidth: { tag: 'x00281051', kind: 'ds' },
  RescaleIntercept: { tag: 'x00281052', kind: 'ds' },
  RescaleSlope: { tag: 'x00281053', kind: 'ds' },
  VOILUTFunction: { tag: 'x00281056', kind: 'cs' },
  RedPaletteColorLookupTableDescriptor: { tag: 'x00281101', kind: 'us' },
  GreenPaletteColorLookupTableDescriptor: { tag: 'x00281102', kind: 'us' },
  BluePaletteColorLookupTableDescriptor: { tag: 'x00281103', kind: 'us' },
  RedPaletteColorLookupTableData: { tag: 'x00281201', kind: 'bytes' },
  GreenPaletteColorLookupTableData: { tag: 'x00281202', kind: 'bytes' },
  BluePaletteColorLookupTableData: { tag: 'x00281203', kind: 'bytes' },
}

/** An {@link AttributeReader} over a dicom-parser dataset. */
export function dicomParserReader(dataSet: DataSet, littleEndian: boolean): AttributeReader {
  const element = (keyword: string) => {
    const entry = tags[keyword]
    const el = entry ? dataSet.elements[entry.tag] : undefined
    return entry && el && el.length > 0 ? { entry, el } : undefined
  }
  return {
    number(keyword, index = 0) {
      const found = element(keyword)
      if (!found) return undefined
      const { entry, el } = found
      if (entry.kind === 'us')
        return index * 2 + 2 <= el.length ? dataSet.uint16(entry.tag, index) : undefined
      if (entry.kind === 'is' || entry.kind === 'ds') {
        const text = dataSet.string(entry.tag, index)
        if (text === undefined || text.trim() === '') return undefined
        const n = Number(text.trim())
        return Number.isFinite(n) ? n : undefined
      }
      return undefined
    },
    string(keyword) {
      const found = element(keyword)
      return found ? dataSet.string(found.entry.tag)?.trim() : undefined
    },
    bytes(keyword) {
      const found = element(keyword)
      if (!found) return undefined
      const { el } = found
      const bytes = dataSet.byteArray
      return {
        bytes: new Uint8Array(bytes.buffer, bytes.byteOffset + el.dataOffset, el.length),
        littleEndian,
      }
    },
    count(keyword) {
      const found = element(keyword)
      if (!found) return 0
      if (found.entry.kind === 'us') return Math.floor(found.el.length / 2)
      return dataSet.numStringValues(found.entry.tag) ?? 0
    },
  }
}

/** Where the Pixel Data of a parsed file sits. */
export type PixelDataLocation =
  | { kind: 'native'; bytes: Uint8Array; vr: string | undefined }
  | { kind: 'encapsulated'; bytes: Uint8Array; start: number; extendedOffsetTable?: number[] | undefined }

export type ParsedPart10 = {
  dataSet: DataSet
  transferSyntaxUid: string
  reader: AttributeReader
  pixelData: PixelDataLocation | undefined
}

function unreadable(details: string, cause?: unknown): DicomDecodeError {
  return new DicomDecodeError('Cannot read the DICOM file', { code: 'DICOM_UNREADABLE', details, cause })
}

function readUint64Table(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: number[] = []
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    const value = view.getBigUint64(i, true)
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw unreadable('Extended Offset Table value too large')
    out.push(Number(value))
  }
  return out
}

/**
 * dicom-parser does not know the OV VR of the Extended Offset Table (7FE0,0001), so parsing stops at
 * that tag and the rest of group 7FE0 is read here: OV/OB values with 4-byte lengths.
 */
function readPixelGroupFrom(
  byteArray: Uint8Array,
  tagStart: number,
  explicit: boolean,
): { extendedOffsetTable: number[] | undefined; pixelDataStart: number | undefined } {
  const view = new DataView(byteArray.buffer, byteArray.byteOffset, byteArray.byteLength)
  let position = tagStart
  let extendedOffsetTable: number[] | undefined
  while (position + 8 <= byteArray.length) {
    const group = view.getUint16(position, true)
    const elementNumber = view.getUint16(position + 2, true)
    let length: number
    let valueStart: number
    if (explicit) {
      const vr = String.fromCharCode(byteArray[position + 4] ?? 0, byteArray[position + 5] ?? 0)
      if (['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'].includes(vr)) {
        if (position + 12 > byteArray.length) break
        length = view.getUint32(position + 8, true)
        valueStart = position + 12
      } else {
        length = view.getUint16(position + 6, true)
        valueStart = position + 8
      }
    } else {
      length = view.getUint32(position + 4, true)
      valueStart = position + 8
    }
    if (group === 0x7fe0 && elementNumber === 0x0010) {
      if (length !== 0xffffffff) return { extendedOffsetTable: undefined, pixelDataStart: undefined }
      return { extendedOffsetTable, pixelDataStart: valueStart }
    }
    if (length === 0xffffffff || valueStart + length > byteArray.length) {
      throw unreadable(`element (${group.toString(16)},${elementNumber.toString(16)}) does not fit`)
    }
    if (group === 0x7fe0 && elementNumber === 0x0001) {
      extendedOffsetTable = readUint64Table(byteArray.subarray(valueStart, valueStart + length))
    }
    position = valueStart + length
  }
  return { extendedOffsetTable, pixelDataStart: undefined }
}

/**
 * Parses a DICOM Part 10 file with dicom-parser far enough to render it.
 *
 * @throws DicomDecodeError `DICOM_UNREADABLE` when the bytes are not a readable Part 10 file.
 */
export function parsePart10(bytes: Uint8Array): ParsedPart10 {
  let dataSet: DataSet
  try {
    dataSet = dicomParser.parseDicom(bytes, {
      untilTag: 'x7fe00001',
      // Deflated Explicit VR Little Endian: everything after the file meta information is raw deflate.
      inflater: (byteArray: Uint8Array, position: number) => {
        const inflated = inflateSync(byteArray.subarray(position))
        const full = new Uint8Array(position + inflated.length)
        full.set(byteArray.subarray(0, position), 0)
        full.set(inflated, position)
        return full
      },
    } as Parameters<typeof dicomParser.parseDicom>[1])
  } catch (error) {
    // dicom-parser throws { exception, dataSet } with what it read so far. When it got as far as the
    // Pixel Data header, the value is cut short: report that precisely rather than "unreadable".
    const partial = (error as { dataSet?: DataSet } | undefined)?.dataSet
    if (partial?.elements.x7fe00010 && !partial.elements.x7fe00010.encapsulatedPixelData) {
      dataSet = partial
    } else {
      const inner = (error as { exception?: unknown } | undefined)?.exception ?? error
      const details = typeof inner === 'string' ? inner : inner instanceof Error ? inner.message : undefined
      throw unreadable(details ?? 'dicom-parser rejected the file', error)
    }
  }
  // A partial dataset from a failed parse lacks the file meta information: read it again.
  const meta = dataSet.elements.x00020010 ? dataSet : dicomParser.readPart10Header(bytes)
  const transferSyntaxUid = meta.string('x00020010')?.replace(/\0/g, '').trim()
  if (!transferSyntaxUid) throw unreadable('the file meta information has no Transfer Syntax UID')
  const littleEndian = transferSyntaxUid !== TransferSyntax.ExplicitVRBigEndian
  const reader = dicomParserReader(dataSet, littleEndian)
  const byteArray = dataSet.byteArray as Uint8Array
  let pixelData: PixelDataLocation | undefined
  const eot = dataSet.elements.x7fe00001
  const element = dataSet.elements.x7fe00010
  if (eot) {
    // Parsing stopped at the Extended Offset Table; its item tag is 8 bytes before dicom-parser's
    // (wrong, for OV) data offset in both explicit and implicit VR.
    const explicit = transferSyntaxUid !== TransferSyntax.ImplicitVRLittleEndian
    const group = readPixelGroupFrom(byteArray, eot.dataOffset - 8, explicit)
    if (group.pixelDataStart !== undefined) {
      pixelData = {
        kind: 'encapsulated',
        bytes: byteArray,
        start: group.pixelDataStart,
        extendedOffsetTable: group.extendedOffsetTable,
      }
    }
  } else if (element) {
    if (element.encapsulatedPixelData || element.hadUndefinedLength) {
      pixelData = { kind: 'encapsulated', bytes: byteArray, start: element.dataOffset }
    } else {
      const end = Math.min(element.dataOffset + element.length, byteArray.length)
      pixelData = { kind: 'native', bytes: byteArray.subarray(element.dataOffset, end), vr: element.vr }
    }
  }
  return { dataSet, transferSyntaxUid, reader, pixelData }
}
