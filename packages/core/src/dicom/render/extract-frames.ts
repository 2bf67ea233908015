import { parsePart10 } from './dicom-parser-reader.js'
import { groupFragmentsIntoFrames, type PixelDataFragment, readEncapsulatedItems } from './encapsulated.js'
import { DicomDecodeError } from './errors.js'
import {
  type ImageInfo,
  type NaturalizedImageDataset,
  naturalizedReader,
  readImageInfo,
} from './image-info.js'
import { pixelEncodingOf, TransferSyntax } from './transfer-syntax.js'

export type ExtractFramesParameters = {
  /**
   * Transfer syntax of the pixel data. Required for a naturalized dataset (it has no file meta
   * information); for Part 10 bytes it overrides (0002,0010).
   */
  transferSyntaxUid?: string | undefined
}

export type ExtractFramesReturnType = {
  imageInfo: ImageInfo
  /**
   * One entry per frame: the compressed bitstream of an encapsulated frame (its fragments joined),
   * or the native bytes of the frame in the transfer syntax's byte order. 1-bit frames are realigned
   * so the frame's first pixel is bit 0 of byte 0.
   */
  frames: Uint8Array[]
}

function noPixelData(): DicomDecodeError {
  return new DicomDecodeError('The dataset has no Pixel Data', { code: 'DICOM_NO_PIXEL_DATA' })
}

/** Bits in one native frame; YBR_FULL_422 stores two samples per pixel (PS3.3 C.7.6.3.1.2). */
export function nativeFrameBits(info: ImageInfo): number {
  const samples =
    info.photometricInterpretation === 'YBR_FULL_422' && info.samplesPerPixel === 3 ? 2 : info.samplesPerPixel
  // rows, columns ≤ 65535, samples ≤ 4, bits ≤ 32: at most 5.5e11, exact in a double.
  return info.rows * info.columns * samples * info.bitsAllocated
}

/** Cuts native Pixel Data into frames, checking that every frame lies inside the value. */
export function sliceNativeFrames(pixelData: Uint8Array, info: ImageInfo): Uint8Array[] {
  const frameBits = nativeFrameBits(info)
  const availableBits = pixelData.length * 8
  // Compare by division so NumberOfFrames × frame size cannot overflow the safe-integer range.
  if (info.numberOfFrames > Math.floor(availableBits / frameBits)) {
    throw new DicomDecodeError('Pixel Data is truncated', {
      code: 'DICOM_PIXEL_DATA_TRUNCATED',
      details: `${info.numberOfFrames} frame(s) of ${frameBits / 8} bytes need more than the ${pixelData.length} bytes present`,
      transferSyntaxUid: info.transferSyntaxUid,
    })
  }
  const frames: Uint8Array[] = []
  for (let i = 0; i < info.numberOfFrames; i++) {
    const startBit = i * frameBits
    if (startBit % 8 === 0 && frameBits % 8 === 0) {
      frames.push(pixelData.subarray(startBit / 8, (startBit + frameBits) / 8))
      continue
    }
    // 1-bit frames (segmentations) need not start on a byte boundary: shift the bits down.
    const out = new Uint8Array(Math.ceil(frameBits / 8))
    for (let bit = 0; bit < frameBits; bit++) {
      const source = startBit + bit
      if (((pixelData[source >> 3] ?? 0) >> (source & 7)) & 1)
        out[bit >> 3] = (out[bit >> 3] ?? 0) | (1 << (bit & 7))
    }
    frames.push(out)
  }
  return frames
}

function toBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof ArrayBuffer) return new Uint8Array(value)
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  return undefined
}

function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0]) return parts[0]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

function framesFromNaturalized(dataset: NaturalizedImageDataset, info: ImageInfo): Uint8Array[] {
  const pixelData = dataset.PixelData
  if (pixelData === undefined || pixelData === null) throw noPixelData()
  const entries = Array.isArray(pixelData) ? pixelData : [pixelData]
  // dcmjs gives a frame as one buffer, or as a list of fragment buffers when read with noCopy.
  const parts = entries.map((entry) =>
    Array.isArray(entry)
      ? join(entry.map(toBytes).filter((b): b is Uint8Array => b !== undefined))
      : toBytes(entry),
  )
  if (parts.some((p) => p === undefined) || parts.length === 0) {
    throw new DicomDecodeError('Invalid Pixel Data value', {
      code: 'DICOM_INVALID_IMAGE_ATTRIBUTES',
      details: 'PixelData is not an ArrayBuffer or a list of them',
    })
  }
  const buffers = parts as Uint8Array[]
  const encoding = pixelEncodingOf(info.transferSyntaxUid)
  if (encoding === 'native') return sliceNativeFrames(join(buffers), info)
  if (encoding === undefined) throw unsupported(info.transferSyntaxUid)
  if (buffers.length === info.numberOfFrames) return buffers
  // dcmjs returns fragments when there was no Basic Offset Table: rebuild their item offsets.
  let offset = 0
  const fragments: PixelDataFragment[] = buffers.map((bytes) => {
    const fragment = { offset, bytes }
    offset += 8 + bytes.length
    return fragment
  })
  const eotBytes = toBytes(
    Array.isArray(dataset.ExtendedOffsetTable) ? dataset.ExtendedOffsetTable[0] : dataset.ExtendedOffsetTable,
  )
  let extendedOffsetTable: number[] | undefined
  if (eotBytes) {
    const view = new DataView(eotBytes.buffer, eotBytes.byteOffset, eotBytes.byteLength)
    extendedOffsetTable = []
    for (let i = 0; i + 8 <= eotBytes.length; i += 8)
      extendedOffsetTable.push(Number(view.getBigUint64(i, true)))
  }
  return groupFragmentsIntoFrames(
    { basicOffsetTable: [], fragments },
    { numberOfFrames: info.numberOfFrames, encoding, extendedOffsetTable },
  )
}

function unsupported(transferSyntaxUid: string): DicomDecodeError {
  return new DicomDecodeError('Unsupported transfer syntax', {
    code: 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX',
    details: `no pixel decoder for ${transferSyntaxUid}`,
    transferSyntaxUid,
  })
}

function swapBytePairs(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length)
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    out[i] = bytes[i + 1] ?? 0
    out[i + 1] = bytes[i] ?? 0
  }
  return out
}

/**
 * The frames of an image: encapsulated frames per PS3.5 A.4 (Extended Offset Table, Basic Offset
 * Table, multi-fragment frames) or native frames sliced by Rows × Columns × samples × BitsAllocated.
 *
 * @param source Part 10 bytes, or a dcmjs naturalized dataset (then `transferSyntaxUid` is required).
 * @throws DicomDecodeError `DICOM_NO_PIXEL_DATA`, `DICOM_PIXEL_DATA_TRUNCATED`, `DICOM_UNREADABLE`,
 * `DICOM_INVALID_IMAGE_ATTRIBUTES` or `DICOM_UNSUPPORTED_TRANSFER_SYNTAX`.
 */
export function extractFrames(
  source: Uint8Array | ArrayBuffer | NaturalizedImageDataset,
  params: ExtractFramesParameters = {},
): ExtractFramesReturnType {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : source
    const parsed = parsePart10(bytes)
    const transferSyntaxUid = params.transferSyntaxUid ?? parsed.transferSyntaxUid
    if (!parsed.pixelData) throw noPixelData()
    const imageInfo = readImageInfo(parsed.reader, transferSyntaxUid)
    const encoding = pixelEncodingOf(transferSyntaxUid)
    if (encoding === undefined) throw unsupported(transferSyntaxUid)
    const location = parsed.pixelData
    if (location.kind === 'native') {
      let pixelBytes = location.bytes
      // Big endian OW holds 8-bit samples in byte-swapped 16-bit words.
      if (
        transferSyntaxUid === TransferSyntax.ExplicitVRBigEndian &&
        location.vr === 'OW' &&
        imageInfo.bitsAllocated === 8
      ) {
        pixelBytes = swapBytePairs(pixelBytes)
      }
      return { imageInfo, frames: sliceNativeFrames(pixelBytes, imageInfo) }
    }
    if (encoding === 'native') {
      throw new DicomDecodeError('Invalid Pixel Data value', {
        code: 'DICOM_INVALID_IMAGE_ATTRIBUTES',
        details: `encapsulated Pixel Data in the uncompressed transfer syntax ${transferSyntaxUid}`,
        transferSyntaxUid,
      })
    }
    const items = readEncapsulatedItems(location.bytes, location.start)
    const frames = groupFragmentsIntoFrames(items, {
      numberOfFrames: imageInfo.numberOfFrames,
      encoding,
      extendedOffsetTable: location.extendedOffsetTable,
    })
    return { imageInfo, frames }
  }
  const transferSyntaxUid = params.transferSyntaxUid
  if (!transferSyntaxUid) {
    throw new DicomDecodeError('Transfer syntax unknown', {
      code: 'DICOM_UNREADABLE',
      details: 'a naturalized dataset needs params.transferSyntaxUid',
    })
  }
  const imageInfo = readImageInfo(naturalizedReader(source), transferSyntaxUid)
  return { imageInfo, frames: framesFromNaturalized(source, imageInfo) }
}
