import { type DcmjsDataset, type DcmjsElement, dcmjs } from '../dcmjs.js'
import { DicomParseError } from '../errors.js'
import { Tags } from '../tags.js'
import {
  type DatasetEncoding,
  EXPLICIT_BE,
  EXPLICIT_LE,
  encodingOf,
  IMPLICIT_LE,
  isKnownTransferSyntax,
  TransferSyntax,
} from '../transfer-syntax.js'
import { InflateLimitError, inflateRawBounded } from './inflate-bounded.js'
import { frameBytes, layoutFrames } from './pixel-frames.js'
import { type DicomParseWarning, type ScannedElement, type ScanResult, scanDataset } from './scan-dataset.js'

/** One element in the DICOM JSON model shape (PS3.18 F.2), as dcmjs keeps it. */
export type DicomElement = DcmjsElement
/** A dataset keyed by 8-digit upper-case hex tag, e.g. `dataset['00100010']`. */
export type DicomDataset = DcmjsDataset
export type { DicomParseWarning }

/** Default cap on the input size: larger inputs are refused before any parsing. */
export const DEFAULT_MAX_DICOM_BYTES = 1024 * 1024 * 1024
/** Default cap on the inflated size of a Deflated Explicit VR Little Endian dataset. */
export const DEFAULT_MAX_INFLATED_BYTES = 256 * 1024 * 1024

export type ParseDicomFileParameters = {
  /** Refuse inputs larger than this many bytes (default 1 GiB). */
  maxBytes?: number | undefined
  /** Refuse deflated datasets that inflate to more than this (default 256 MiB). */
  maxInflatedBytes?: number | undefined
  /** Deepest sequence nesting accepted (default 32). */
  maxDepth?: number | undefined
  /** Used in error messages and returned; never used as a path. */
  fileName?: string | undefined
}

export type DicomPixelDataInfo = {
  /** True when stored as fragments (compressed transfer syntaxes). */
  encapsulated: boolean
  vr: string
  /** Bytes of pixel data as stored (without item headers). */
  byteLength: number
  /** Frames in `dataset['7FE00010'].Value` (one buffer for native data, like dcmjs). */
  frameCount: number
  fragmentCount: number
  /** Encapsulated data: whether the Basic Offset Table was used to find the frames. */
  usedOffsetTable: boolean
}

export type ParseDicomFileReturnType = {
  fileName: string | undefined
  /** The dataset; native pixel data is little endian; encapsulated pixel data is one buffer per frame. */
  dataset: DicomDataset
  /** The file meta information group (empty when the file had none). */
  meta: DicomDataset
  transferSyntaxUid: string
  /** `file-meta`: read from (0002,0010); `sniffed`: the file had no meta and one encoding alone fit. */
  transferSyntaxSource: 'file-meta' | 'sniffed'
  sopClassUid: string | undefined
  sopInstanceUid: string | undefined
  /** The 128-byte preamble and `DICM` prefix were present. */
  hadPreamble: boolean
  /** Any preamble byte was non-zero (possibly an executable polyglot: zero it before storing). */
  preambleNonZero: boolean
  hadFileMeta: boolean
  byteLength: number
  /** Size of the dataset once inflated, for Deflated Explicit VR Little Endian. */
  inflatedByteLength: number | undefined
  pixelData: DicomPixelDataInfo | undefined
  /** Things that were wrong but did not stop the reading (capped at 50). */
  warnings: DicomParseWarning[]
}

const PIXEL_DATA = 0x7fe00010
const SNIFF_CANDIDATES: { uid: string; encoding: DatasetEncoding; name: string }[] = [
  { uid: TransferSyntax.ExplicitVRLittleEndian, encoding: EXPLICIT_LE, name: 'explicit VR little endian' },
  { uid: TransferSyntax.ImplicitVRLittleEndian, encoding: IMPLICIT_LE, name: 'implicit VR little endian' },
  { uid: TransferSyntax.ExplicitVRBigEndian, encoding: EXPLICIT_BE, name: 'explicit VR big endian' },
]

/**
 * Reads a DICOM Part 10 file (or a bare dataset whose encoding is unambiguous) defensively: size cap
 * first, every length checked against the bytes that hold it, bounded inflate, and only then dcmjs.
 * Throws {@link DicomParseError} (and nothing else) for anything it will not read.
 */
export function parseDicomFile(
  input: Uint8Array | ArrayBuffer,
  parameters: ParseDicomFileParameters = {},
): ParseDicomFileReturnType {
  const { fileName } = parameters
  const maxBytes = parameters.maxBytes ?? DEFAULT_MAX_DICOM_BYTES
  const maxInflated = parameters.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input)
  if (bytes.byteLength > maxBytes) {
    throw new DicomParseError(
      'DICOM_TOO_LARGE',
      `${bytes.byteLength} bytes is more than the limit of ${maxBytes}`,
      {
        fileName,
      },
    )
  }
  try {
    return parse(bytes, fileName, maxInflated, parameters.maxDepth ?? 32)
  } catch (error) {
    if (error instanceof DicomParseError) throw error
    // Defence in depth: whatever slipped past the walk (a library bug, an allocation failure) is still a
    // parse error, never a crash of the caller.
    throw new DicomParseError('DICOM_UNREADABLE', 'the DICOM library could not read this file', {
      fileName,
      details: error instanceof Error ? error.message : String(error),
      cause: error,
    })
  }
}

function parse(bytes: Uint8Array, fileName: string | undefined, maxInflated: number, maxDepth: number) {
  const warnings: DicomParseWarning[] = []
  const length = bytes.byteLength
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)

  const hadPreamble = length >= 132 && ascii(bytes, 128, 4) === 'DICM'
  let preambleNonZero = false
  if (hadPreamble) {
    preambleNonZero = bytes.subarray(0, 128).some((b) => b !== 0)
    if (preambleNonZero) {
      warnings.push({ code: 'NON_ZERO_PREAMBLE', message: 'the 128-byte preamble is not zero', offset: 0 })
    }
  }
  const metaStart = hadPreamble ? 132 : 0

  // File meta information: always explicit VR little endian (PS3.10 7.1).
  let metaElements: ScannedElement[] = []
  let datasetStart = metaStart
  let transferSyntaxUid: string | undefined
  const startsWithMeta = length - metaStart >= 8 && view.getUint16(metaStart, true) === 0x0002
  if (startsWithMeta) {
    if (!isVrBytes(bytes, metaStart + 4)) {
      throw new DicomParseError(
        'DICOM_BAD_META',
        'the file meta information is not in explicit VR little endian',
        {
          fileName,
          offset: metaStart,
        },
      )
    }
    const meta = scanDataset(bytes, metaStart, length, {
      encoding: EXPLICIT_LE,
      onlyGroup: 0x0002,
      fileName,
      warnings,
      maxDepth,
    })
    metaElements = meta.elements
    datasetStart = meta.end
    checkGroupLength(view, metaElements, meta.end, warnings)
    const ts = metaElements.find((e) => e.tag === 0x00020010)
    transferSyntaxUid = ts && ts.length !== undefined ? uidText(bytes, ts.valueStart, ts.length) : undefined
    if (!transferSyntaxUid) {
      throw new DicomParseError(
        'DICOM_NO_TRANSFER_SYNTAX',
        'the file meta information has no Transfer Syntax UID (0002,0010)',
        { fileName, tag: '(0002,0010)' },
      )
    }
    if (!/^[0-9.]{1,64}$/.test(transferSyntaxUid)) {
      throw new DicomParseError('DICOM_BAD_META', 'the Transfer Syntax UID (0002,0010) is not a UID', {
        fileName,
        tag: '(0002,0010)',
      })
    }
  } else if (!hadPreamble && length >= 8 && view.getUint16(0, true) === 0x0002) {
    throw new DicomParseError('DICOM_BAD_META', 'the file meta information is cut off', {
      fileName,
      offset: 0,
    })
  }

  // The dataset, inflated if need be.
  let datasetBytes = bytes
  let datasetEnd = length
  let inflatedByteLength: number | undefined
  let transferSyntaxSource: 'file-meta' | 'sniffed' = 'file-meta'
  let scan: ScanResult
  let encoding: DatasetEncoding
  if (transferSyntaxUid === undefined) {
    const sniffed = sniff(bytes, datasetStart, fileName, hadPreamble, maxDepth)
    transferSyntaxUid = sniffed.uid
    encoding = sniffed.encoding
    scan = sniffed.scan
    warnings.push(...sniffed.warnings)
    transferSyntaxSource = 'sniffed'
  } else {
    if (transferSyntaxUid === TransferSyntax.DeflatedExplicitVRLittleEndian) {
      try {
        datasetBytes = inflateRawBounded(bytes.subarray(datasetStart), maxInflated)
      } catch (error) {
        if (error instanceof InflateLimitError) {
          throw new DicomParseError(
            'DICOM_INFLATE_TOO_LARGE',
            `the deflated dataset inflates to more than ${maxInflated} bytes (refused as a decompression bomb)`,
            { fileName, cause: error },
          )
        }
        throw new DicomParseError('DICOM_BAD_DEFLATE', 'the deflated dataset is not a valid DEFLATE stream', {
          fileName,
          details: error instanceof Error ? error.message : String(error),
          cause: error,
        })
      }
      inflatedByteLength = datasetBytes.byteLength
      datasetStart = 0
      datasetEnd = datasetBytes.byteLength
    } else if (!isKnownTransferSyntax(transferSyntaxUid)) {
      warnings.push({
        code: 'UNKNOWN_TRANSFER_SYNTAX',
        message: 'unknown transfer syntax: read as explicit VR little endian',
      })
    }
    encoding = encodingOf(transferSyntaxUid)
    scan = scanDataset(datasetBytes, datasetStart, datasetEnd, {
      encoding,
      fileName,
      warnings,
      maxDepth,
      ...(inflatedByteLength !== undefined ? { offsetsIn: 'the inflated dataset' } : {}),
    })
  }

  const pixel = scan.elements.find((e) => e.tag === PIXEL_DATA)
  if (transferSyntaxSource === 'sniffed' && pixel?.fragments) {
    throw new DicomParseError(
      'DICOM_NO_TRANSFER_SYNTAX',
      'a dataset without file meta holds compressed pixel data, whose transfer syntax cannot be known',
      { fileName, tag: '(7FE0,0010)' },
    )
  }

  // dcmjs reads a normalised copy: zero preamble, a meta group with a correct group length and the
  // syntax it will find (explicit little endian once inflated), and the dataset without its pixel data,
  // which is cut from the bytes directly (it is most of the file, and dcmjs would copy it twice).
  const libraryInput = buildLibraryInput(
    bytes,
    metaElements,
    transferSyntaxUid === TransferSyntax.DeflatedExplicitVRLittleEndian
      ? TransferSyntax.ExplicitVRLittleEndian
      : transferSyntaxUid,
    datasetBytes,
    datasetStart,
    scan.end,
    pixel,
  )
  const read = readWithLibrary(libraryInput, fileName, warnings)
  const expected = new Set(scan.elements.filter((e) => e.tag !== PIXEL_DATA).map((e) => e.tag)).size
  if (Object.keys(read.dict).length !== expected) {
    throw new DicomParseError(
      'DICOM_UNREADABLE',
      'the DICOM library read a different number of elements than the file holds',
      {
        fileName,
        details: `${Object.keys(read.dict).length} read, ${expected} in the file`,
      },
    )
  }

  const dataset = read.dict
  const meta = transferSyntaxSource === 'sniffed' ? {} : read.meta
  if (meta[Tags.TransferSyntaxUID]) meta[Tags.TransferSyntaxUID] = { vr: 'UI', Value: [transferSyntaxUid] }

  let pixelData: DicomPixelDataInfo | undefined
  if (pixel) {
    pixelData = attachPixelData(dataset, datasetBytes, pixel, encoding, warnings)
  }

  const sopClassUid = firstUid(dataset, Tags.SOPClassUID) ?? firstUid(meta, Tags.MediaStorageSOPClassUID)
  const sopInstanceUid =
    firstUid(dataset, Tags.SOPInstanceUID) ?? firstUid(meta, Tags.MediaStorageSOPInstanceUID)
  for (const [inDataset, inMeta, name] of [
    [Tags.SOPClassUID, Tags.MediaStorageSOPClassUID, 'SOP Class UID'],
    [Tags.SOPInstanceUID, Tags.MediaStorageSOPInstanceUID, 'SOP Instance UID'],
  ] as const) {
    const a = firstUid(dataset, inDataset)
    const b = firstUid(meta, inMeta)
    if (a && b && a !== b) {
      warnings.push({
        code: 'UID_MISMATCH',
        message: `the ${name} differs between the file meta and the dataset`,
      })
    }
  }

  return {
    fileName,
    dataset,
    meta,
    transferSyntaxUid,
    transferSyntaxSource,
    sopClassUid,
    sopInstanceUid,
    hadPreamble,
    preambleNonZero,
    hadFileMeta: startsWithMeta,
    byteLength: length,
    inflatedByteLength,
    pixelData,
    warnings: warnings.slice(0, 50),
  } satisfies ParseDicomFileReturnType
}

/** A dataset with no file meta: accepted only when exactly one encoding reads it whole, tags ascending. */
function sniff(
  bytes: Uint8Array,
  start: number,
  fileName: string | undefined,
  hadPreamble: boolean,
  maxDepth: number,
) {
  const fits: { uid: string; encoding: DatasetEncoding; scan: ScanResult; warnings: DicomParseWarning[] }[] =
    []
  const reasons: string[] = []
  for (const candidate of SNIFF_CANDIDATES) {
    const warnings: DicomParseWarning[] = []
    try {
      if (bytes.byteLength - start < 8) throw new Error('fewer than 8 bytes')
      const view = new DataView(bytes.buffer, bytes.byteOffset + start, 8)
      const group = view.getUint16(0, candidate.encoding.littleEndian)
      if (group < 0x0008 || group % 2 === 1 || group === 0xfffe) {
        throw new Error(`first tag group 0x${group.toString(16).padStart(4, '0')} cannot start a dataset`)
      }
      const scan = scanDataset(bytes, start, bytes.byteLength, {
        encoding: candidate.encoding,
        requireAscending: true,
        warnings,
        maxDepth,
      })
      if (scan.elements.length === 0) throw new Error('no elements')
      fits.push({ ...candidate, scan, warnings })
    } catch (error) {
      reasons.push(
        `${candidate.name}: ${error instanceof DicomParseError ? error.problem : error instanceof Error ? error.message : String(error)}`,
      )
    }
  }
  if (fits.length === 1) return fits[0]!
  const where = hadPreamble
    ? 'a DICM prefix but no file meta information'
    : "no 'DICM' prefix and no file meta information"
  if (fits.length > 1) {
    throw new DicomParseError(
      'DICOM_AMBIGUOUS',
      `${where}, and the dataset reads in more than one transfer syntax`,
      {
        fileName,
        details: fits.map((f) => f.uid).join(', '),
      },
    )
  }
  throw new DicomParseError(
    'DICOM_NOT_DICOM',
    `not DICOM: ${where}, and the bytes are not a dataset in any transfer syntax`,
    {
      fileName,
      details: reasons.join('; '),
    },
  )
}

function checkGroupLength(
  view: DataView,
  elements: ScannedElement[],
  end: number,
  warnings: DicomParseWarning[],
) {
  const groupLength = elements[0]
  if (groupLength?.tag !== 0x00020000 || groupLength.length !== 4 || groupLength.vr !== 'UL') {
    warnings.push({ code: 'NO_GROUP_LENGTH', message: 'the file meta information has no group length' })
    return
  }
  const declared = view.getUint32(groupLength.valueStart, true)
  if (groupLength.end + declared !== end) {
    warnings.push({
      code: 'GROUP_LENGTH_MISMATCH',
      message: `the file meta group length says ${declared} bytes, the group holds ${end - groupLength.end}`,
      tag: '(0002,0000)',
    })
  }
}

function buildLibraryInput(
  fileBytes: Uint8Array,
  metaElements: ScannedElement[],
  transferSyntaxForLibrary: string,
  datasetBytes: Uint8Array,
  datasetStart: number,
  datasetEnd: number,
  pixel: ScannedElement | undefined,
): ArrayBuffer {
  const metaParts: Uint8Array[] = [shortElement(0x00020010, 'UI', uidBytes(transferSyntaxForLibrary))]
  for (const element of metaElements) {
    if (element.tag === 0x00020000 || element.tag === 0x00020010) continue
    metaParts.push(fileBytes.subarray(element.headerStart, element.end))
  }
  const metaLength = metaParts.reduce((sum, p) => sum + p.byteLength, 0)
  const groupLength = new Uint8Array(4)
  new DataView(groupLength.buffer).setUint32(0, metaLength, true)
  const datasetParts = pixel
    ? [datasetBytes.subarray(datasetStart, pixel.headerStart), datasetBytes.subarray(pixel.end, datasetEnd)]
    : [datasetBytes.subarray(datasetStart, datasetEnd)]
  const parts = [
    new Uint8Array(128),
    new Uint8Array([0x44, 0x49, 0x43, 0x4d]),
    shortElement(0x00020000, 'UL', groupLength),
    ...metaParts,
    ...datasetParts,
  ]
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.byteLength
  }
  return out.buffer
}

function readWithLibrary(input: ArrayBuffer, fileName: string | undefined, warnings: DicomParseWarning[]) {
  try {
    return dcmjs.data.DicomMessage.readFile(input, { ignoreErrors: false })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    if (!/character set/i.test(message)) throw error
    // dcmjs refuses character sets it cannot decode and multi-valued (ISO 2022) ones; the structure is
    // already known to be sound, so read again with its first character set and say so.
    warnings.push({
      code: 'INVALID_VALUE',
      message: `character set not fully supported (${message}); text was decoded with the first one`,
      tag: '(0008,0005)',
    })
    try {
      return dcmjs.data.DicomMessage.readFile(input, { ignoreErrors: true })
    } catch (retryError) {
      throw new DicomParseError(
        'DICOM_UNSUPPORTED_CHARSET',
        'the Specific Character Set (0008,0005) cannot be decoded',
        {
          fileName,
          details: message,
          cause: retryError,
        },
      )
    }
  }
}

function attachPixelData(
  dataset: DicomDataset,
  bytes: Uint8Array,
  pixel: ScannedElement,
  encoding: DatasetEncoding,
  warnings: DicomParseWarning[],
): DicomPixelDataInfo {
  if (pixel.fragments) {
    const numberOfFrames = Math.max(
      1,
      Number.parseInt(String(dataset[Tags.NumberOfFrames]?.Value?.[0] ?? '1'), 10) || 1,
    )
    const layout = layoutFrames(bytes, pixel, numberOfFrames, warnings)
    dataset[Tags.PixelData] = {
      vr: pixel.vr === 'OW' ? 'OW' : 'OB',
      Value: layout.frames.map((f) => frameBytes(bytes, f)),
    }
    return {
      encapsulated: true,
      vr: pixel.vr,
      byteLength: pixel.fragments.reduce((sum, f) => sum + f.length, 0),
      frameCount: layout.frames.length,
      fragmentCount: pixel.fragments.length,
      usedOffsetTable: layout.usedOffsetTable,
    }
  }
  const length = pixel.length ?? 0
  const value = bytes.slice(pixel.valueStart, pixel.valueStart + length)
  const wordSize = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 }[pixel.vr]
  if (!encoding.littleEndian && wordSize) swapBytes(value, wordSize)
  dataset[Tags.PixelData] = { vr: pixel.vr, Value: [value.buffer] }
  return {
    encapsulated: false,
    vr: pixel.vr,
    byteLength: length,
    frameCount: 1,
    fragmentCount: 0,
    usedOffsetTable: false,
  }
}

function swapBytes(data: Uint8Array, size: number) {
  for (let i = 0; i + size <= data.length; i += size) data.subarray(i, i + size).reverse()
}

function firstUid(dataset: DicomDataset, key: string): string | undefined {
  const value = dataset[key]?.Value?.[0]
  if (typeof value !== 'string') return undefined
  const trimmed = value.replace(/[\0\s]+/g, '')
  return trimmed === '' ? undefined : trimmed
}

function ascii(bytes: Uint8Array, start: number, length: number) {
  let text = ''
  for (let i = start; i < start + length && i < bytes.length; i++) text += String.fromCharCode(bytes[i]!)
  return text
}

function uidText(bytes: Uint8Array, start: number, length: number): string {
  return ascii(bytes, start, length).replace(/[\0\s]+/g, '')
}

function isVrBytes(bytes: Uint8Array, at: number) {
  const a = bytes[at]
  const b = bytes[at + 1]
  return a !== undefined && b !== undefined && a >= 0x41 && a <= 0x5a && b >= 0x41 && b <= 0x5a
}

function uidBytes(uid: string): Uint8Array {
  const padded = uid.length % 2 === 1 ? `${uid}\0` : uid
  return Uint8Array.from(padded, (c) => c.charCodeAt(0))
}

/** An explicit VR little endian element with a 2-byte length. */
function shortElement(tag: number, vr: string, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + value.byteLength)
  const view = new DataView(out.buffer)
  view.setUint16(0, tag >>> 16, true)
  view.setUint16(2, tag & 0xffff, true)
  out[4] = vr.charCodeAt(0)
  out[5] = vr.charCodeAt(1)
  view.setUint16(6, value.byteLength, true)
  out.set(value, 8)
  return out
}
