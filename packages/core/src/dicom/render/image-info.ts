import { DicomDecodeError } from './errors.js'

/** One VOI window from (0028,1050)/(0028,1051), or chosen by a caller. */
export type VoiWindow = { center: number; width: number }

/** A PALETTE COLOR lookup table (PS3.3 C.7.6.3.1.5–6), entries scaled to 8 bits. */
export type PaletteColorLut = {
  /** Pixel value mapped to the first entry. */
  firstMapped: number
  red: Uint8Array
  green: Uint8Array
  blue: Uint8Array
}

/** The Image Pixel, Modality LUT and VOI LUT attributes that decoding and rendering need. */
export type ImageInfo = {
  transferSyntaxUid: string
  rows: number
  columns: number
  samplesPerPixel: number
  bitsAllocated: number
  bitsStored: number
  highBit: number
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: 0 | 1
  photometricInterpretation: string
  /** 0 colour-by-pixel (RGBRGB…), 1 colour-by-plane (RRR…GGG…BBB…). */
  planarConfiguration: 0 | 1
  numberOfFrames: number
  rescaleSlope: number
  rescaleIntercept: number
  /** Windows stored in the dataset, first one is the default. */
  windows: VoiWindow[]
  voiLutFunction: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID'
  palette?: PaletteColorLut | undefined
}

/**
 * Reads attribute values by DICOM keyword. Implemented over dicom-parser datasets and over dcmjs
 * naturalized datasets, so both produce the same {@link ImageInfo}.
 */
export type AttributeReader = {
  number(keyword: string, index?: number): number | undefined
  string(keyword: string): string | undefined
  /** Raw value bytes in the dataset's byte order, plus whether that order is little endian. */
  bytes(keyword: string): { bytes: Uint8Array; littleEndian: boolean } | undefined
  count(keyword: string): number
}

/**
 * A dcmjs naturalized dataset (`DicomMetaDictionary.naturalizeDataset`) or any object with the same
 * keyword-named attributes.
 */
export type NaturalizedImageDataset = {
  Rows?: unknown
  Columns?: unknown
  PixelData?: unknown
  [keyword: string]: unknown
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim())
    return Number.isFinite(n) ? n : undefined
  }
  return undefined
}

function toBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof ArrayBuffer) return new Uint8Array(value)
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  return undefined
}

/** An {@link AttributeReader} over a dcmjs naturalized dataset. */
export function naturalizedReader(dataset: NaturalizedImageDataset): AttributeReader {
  const values = (keyword: string): unknown[] => {
    const value = dataset[keyword]
    if (value === undefined || value === null) return []
    if (Array.isArray(value)) return value
    if (typeof value === 'string' && value.includes('\\')) return value.split('\\')
    return [value]
  }
  return {
    number(keyword, index = 0) {
      return toNumber(values(keyword)[index])
    },
    string(keyword) {
      const value = values(keyword)[0]
      return typeof value === 'string' ? value.trim() : undefined
    },
    bytes(keyword) {
      const list = values(keyword)
      if (list.length === 0) return undefined
      const parts = list.map(toBytes).filter((b): b is Uint8Array => b !== undefined)
      if (parts.length === 0) return undefined
      if (parts.length === 1 && parts[0]) return { bytes: parts[0], littleEndian: true }
      const total = parts.reduce((n, p) => n + p.length, 0)
      const out = new Uint8Array(total)
      let offset = 0
      for (const p of parts) {
        out.set(p, offset)
        offset += p.length
      }
      // dcmjs converts values to the host (little-endian) order when it reads a big-endian file.
      return { bytes: out, littleEndian: true }
    },
    count(keyword) {
      return values(keyword).length
    },
  }
}

function requirePositiveInt(reader: AttributeReader, keyword: string, fallback?: number): number {
  const value = reader.number(keyword) ?? fallback
  if (value === undefined || !Number.isInteger(value) || value < 1) {
    throw new DicomDecodeError('Invalid image attributes', {
      code: 'DICOM_INVALID_IMAGE_ATTRIBUTES',
      details: `${keyword} is ${value === undefined ? 'missing' : `not a positive integer (${value})`}`,
    })
  }
  return value
}

function readPalette(reader: AttributeReader, pixelRepresentation: 0 | 1): PaletteColorLut | undefined {
  const channels: Uint8Array[] = []
  let firstMapped = 0
  for (const colour of ['Red', 'Green', 'Blue']) {
    const descriptorKey = `${colour}PaletteColorLookupTableDescriptor`
    let entries = reader.number(descriptorKey, 0)
    const first = reader.number(descriptorKey, 1)
    const bits = reader.number(descriptorKey, 2)
    const data = reader.bytes(`${colour}PaletteColorLookupTableData`)
    if (entries === undefined || first === undefined || bits === undefined || !data) return undefined
    if (entries === 0) entries = 65536
    // The second descriptor value is US or SS as the pixel values are; a reader gives it unsigned.
    firstMapped = pixelRepresentation === 1 && first > 32767 ? first - 65536 : first
    const lut = new Uint8Array(entries)
    const view = new DataView(data.bytes.buffer, data.bytes.byteOffset, data.bytes.byteLength)
    if (bits <= 8 && data.bytes.length === entries) {
      lut.set(data.bytes.subarray(0, entries))
    } else {
      if (data.bytes.length < entries * 2) {
        throw new DicomDecodeError('Invalid image attributes', {
          code: 'DICOM_INVALID_IMAGE_ATTRIBUTES',
          details: `${colour} palette has ${data.bytes.length} bytes for ${entries} entries`,
        })
      }
      const shift = bits > 8 ? bits - 8 : 0
      for (let i = 0; i < entries; i++) lut[i] = (view.getUint16(i * 2, data.littleEndian) >> shift) & 0xff
    }
    channels.push(lut)
  }
  const [red, green, blue] = channels
  if (!red || !green || !blue) return undefined
  return { firstMapped, red, green, blue }
}

/**
 * Builds the {@link ImageInfo} of a dataset from its attributes.
 *
 * @throws DicomDecodeError `DICOM_INVALID_IMAGE_ATTRIBUTES` when a required attribute is missing or
 * the values contradict each other.
 */
export function readImageInfo(reader: AttributeReader, transferSyntaxUid: string): ImageInfo {
  const rows = requirePositiveInt(reader, 'Rows')
  const columns = requirePositiveInt(reader, 'Columns')
  const samplesPerPixel = requirePositiveInt(reader, 'SamplesPerPixel', 1)
  const bitsAllocated = requirePositiveInt(reader, 'BitsAllocated')
  const bitsStored = requirePositiveInt(reader, 'BitsStored', bitsAllocated)
  const highBit = reader.number('HighBit') ?? bitsStored - 1
  const pixelRepresentation = reader.number('PixelRepresentation') === 1 ? 1 : 0
  const photometricInterpretation =
    reader.string('PhotometricInterpretation')?.toUpperCase() ??
    (samplesPerPixel === 1 ? 'MONOCHROME2' : 'RGB')
  const planarConfiguration = reader.number('PlanarConfiguration') === 1 ? 1 : 0
  const numberOfFrames = reader.number('NumberOfFrames') ?? 1
  if (
    bitsStored > bitsAllocated ||
    highBit < bitsStored - 1 ||
    highBit >= bitsAllocated ||
    ![1, 8, 16, 32].includes(bitsAllocated) ||
    samplesPerPixel > 4 ||
    !Number.isInteger(numberOfFrames) ||
    numberOfFrames < 1
  ) {
    throw new DicomDecodeError('Invalid image attributes', {
      code: 'DICOM_INVALID_IMAGE_ATTRIBUTES',
      details: `BitsAllocated ${bitsAllocated}, BitsStored ${bitsStored}, HighBit ${highBit}, SamplesPerPixel ${samplesPerPixel}, NumberOfFrames ${numberOfFrames}`,
    })
  }
  const slope = reader.number('RescaleSlope')
  const intercept = reader.number('RescaleIntercept')
  const windows: VoiWindow[] = []
  const windowCount = Math.min(reader.count('WindowCenter'), reader.count('WindowWidth'))
  for (let i = 0; i < windowCount; i++) {
    const center = reader.number('WindowCenter', i)
    const width = reader.number('WindowWidth', i)
    if (center !== undefined && width !== undefined && width > 0) windows.push({ center, width })
  }
  const fn = reader.string('VOILUTFunction')?.toUpperCase()
  const voiLutFunction = fn === 'LINEAR_EXACT' || fn === 'SIGMOID' ? fn : 'LINEAR'
  const palette =
    photometricInterpretation === 'PALETTE COLOR' ? readPalette(reader, pixelRepresentation) : undefined
  return {
    transferSyntaxUid,
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation,
    photometricInterpretation,
    planarConfiguration,
    numberOfFrames,
    rescaleSlope: slope !== undefined && slope !== 0 ? slope : 1,
    rescaleIntercept: intercept ?? 0,
    windows,
    voiLutFunction,
    palette,
  }
}
