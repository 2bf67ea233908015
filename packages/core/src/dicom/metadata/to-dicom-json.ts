import { base64pad } from 'multiformats/bases/base64'
import type { DcmjsDataset, DcmjsElement } from '../dcmjs.js'
import { Tags } from '../tags.js'
import { isEncapsulatedTransferSyntax } from '../transfer-syntax.js'
import { readNumber } from './values.js'

/** One attribute of the DICOM JSON model (PS3.18 F.2.2). */
export type DicomJsonElement = {
  vr: string
  Value?: unknown[]
  InlineBinary?: string
  BulkDataURI?: string
}

/** A dataset in the DICOM JSON model: `application/dicom+json` is an array of these. */
export type DicomJsonDataset = Record<string, DicomJsonElement>

export type BulkDataInfo = {
  /** 8-digit upper-case hex tag of the attribute. */
  tag: string
  /** Tags and item indexes from the top level, e.g. `['00540016', '0', '00181072']`; the last is `tag`. */
  path: string[]
  vr: string
  byteLength: number
  /** The value is encapsulated pixel data (frames), not a plain byte string. */
  encapsulated: boolean
}

export type ToDicomJsonParameters = {
  /**
   * Names where a binary value can be fetched (WADO-RS bulk data). Called for pixel data and for binary
   * values longer than `inlineBinaryMaxBytes`; return undefined to inline the value instead.
   */
  bulkDataUri?: ((info: BulkDataInfo) => string | undefined) | undefined
  /** Binary values up to this size are always inlined as base64 (default 1024). */
  inlineBinaryMaxBytes?: number | undefined
  /**
   * Transfer syntax of the dataset, to know whether pixel data is encapsulated (never inlined). Taken from a
   * parse result; without it, pixel data is taken as encapsulated when it is several frames or shorter
   * than Rows x Columns x Samples x Bits Allocated x Frames says native data would be.
   */
  transferSyntaxUid?: string | undefined
}

const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN'])
const PIXEL_TAGS = new Set(['7FE00010', '7FE00008', '7FE00009'])
const NUMBER_STRING_VRS = new Set(['IS', 'DS'])
const IS = /^[+-]?\d{1,12}$/
const DS = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/

/**
 * The DICOM JSON model (PS3.18 Annex F) of a dataset, as DICOMweb metadata responses carry it and
 * OHIF / Cornerstone3D read it: tags in ascending order, group lengths left out, IS/DS as numbers, PN as
 * `{ Alphabetic, Ideographic, Phonetic }`, AT as `GGGGEEEE`, empty values without `Value`, binary values as
 * `InlineBinary` (base64) or `BulkDataURI`. Encapsulated pixel data is only ever given by `BulkDataURI`
 * (without a `bulkDataUri` callback it has just its `vr`).
 */
export function toDicomJson(
  source: DcmjsDataset | { dataset: DcmjsDataset; transferSyntaxUid?: string | undefined },
  parameters: ToDicomJsonParameters = {},
): DicomJsonDataset {
  const parsed = isParsed(source) ? source : undefined
  const dataset = parsed ? parsed.dataset : (source as DcmjsDataset)
  const transferSyntaxUid = parameters.transferSyntaxUid ?? parsed?.transferSyntaxUid
  return convert(dataset, [], { ...parameters, transferSyntaxUid })
}

function isParsed(source: object): source is { dataset: DcmjsDataset; transferSyntaxUid?: string } {
  const candidate = (source as { dataset?: unknown }).dataset
  return typeof candidate === 'object' && candidate !== null && !('vr' in candidate)
}

function convert(dataset: DcmjsDataset, path: string[], parameters: ToDicomJsonParameters): DicomJsonDataset {
  const out: DicomJsonDataset = {}
  for (const tag of Object.keys(dataset).sort()) {
    if (!/^[0-9A-F]{8}$/i.test(tag) || tag.endsWith('0000')) continue
    const element = dataset[tag]!
    const key = tag.toUpperCase()
    out[key] = convertElement(key, element, [...path, key], parameters, dataset)
  }
  return out
}

function convertElement(
  tag: string,
  element: DcmjsElement,
  path: string[],
  parameters: ToDicomJsonParameters,
  dataset: DcmjsDataset,
): DicomJsonElement {
  const vr = element.vr
  const result: DicomJsonElement = { vr }
  if (element.BulkDataURI !== undefined) return { vr, BulkDataURI: element.BulkDataURI }
  if (element.InlineBinary !== undefined) return { vr, InlineBinary: element.InlineBinary }
  const values = element.Value ?? []
  if (vr === 'SQ') {
    const items = values.map((item, index) =>
      convert((item ?? {}) as DcmjsDataset, [...path, String(index)], parameters),
    )
    if (items.length > 0) result.Value = items
    return result
  }
  if (BINARY_VRS.has(vr) || values.some((v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v))) {
    return binary(tag, vr, values, path, parameters, dataset)
  }
  let converted: unknown[]
  if (vr === 'PN') converted = values.map(personName)
  else if (vr === 'AT') converted = values.map(attributeTag)
  else if (NUMBER_STRING_VRS.has(vr)) converted = numberStrings(element)
  else if (vr === 'FL' || vr === 'FD')
    converted = values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null))
  else if (vr === 'SV' || vr === 'UV') converted = values.map(bigNumber)
  else if (vr === 'SL' || vr === 'SS' || vr === 'UL' || vr === 'US')
    converted = values.map((v) => (typeof v === 'number' ? v : null))
  else
    converted = values.map((v) =>
      typeof v === 'string' ? (v === '' ? null : v) : v == null ? null : String(v),
    )
  if (converted.some((v) => v !== null)) result.Value = converted
  return result
}

function binary(
  tag: string,
  vr: string,
  values: unknown[],
  path: string[],
  parameters: ToDicomJsonParameters,
  dataset: DcmjsDataset,
): DicomJsonElement {
  const buffers = values
    .filter((v): v is ArrayBuffer | ArrayBufferView => v instanceof ArrayBuffer || ArrayBuffer.isView(v))
    .map((v) =>
      v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
    )
  const byteLength = buffers.reduce((sum, b) => sum + b.byteLength, 0)
  const isPixel = PIXEL_TAGS.has(tag)
  const encapsulated = isPixel && isEncapsulated(buffers, byteLength, dataset, parameters.transferSyntaxUid)
  const threshold = parameters.inlineBinaryMaxBytes ?? 1024
  if (isPixel || byteLength > threshold) {
    const uri = parameters.bulkDataUri?.({ tag, path, vr, byteLength, encapsulated })
    if (uri !== undefined) return { vr, BulkDataURI: uri }
  }
  if (encapsulated) return { vr }
  if (byteLength === 0) return { vr }
  const joined = buffers.length === 1 ? buffers[0]! : concat(buffers, byteLength)
  return { vr, InlineBinary: base64pad.baseEncode(joined) }
}

/** dcmjs gives native pixel data as one buffer and encapsulated pixel data as one buffer per frame. */
function isEncapsulated(
  buffers: Uint8Array[],
  byteLength: number,
  dataset: DcmjsDataset,
  ts: string | undefined,
) {
  if (ts !== undefined) return isEncapsulatedTransferSyntax(ts)
  if (buffers.length > 1) return true
  const rows = readNumber(dataset, Tags.Rows) ?? 0
  const columns = readNumber(dataset, Tags.Columns) ?? 0
  const samples = readNumber(dataset, Tags.SamplesPerPixel) ?? 1
  const bits = readNumber(dataset, Tags.BitsAllocated) ?? 8
  const frames = readNumber(dataset, Tags.NumberOfFrames) ?? 1
  const native = Math.ceil((rows * columns * samples * frames * bits) / 8)
  return byteLength < native
}

function concat(buffers: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total)
  let at = 0
  for (const b of buffers) {
    out.set(b, at)
    at += b.byteLength
  }
  return out
}

function personName(value: unknown): unknown {
  if (typeof value === 'string') {
    if (value === '') return null
    const [alphabetic, ideographic, phonetic] = value.split('=')
    return pnObject(alphabetic, ideographic, phonetic)
  }
  if (value && typeof value === 'object') {
    const pn = value as { Alphabetic?: unknown; Ideographic?: unknown; Phonetic?: unknown }
    return pnObject(pn.Alphabetic, pn.Ideographic, pn.Phonetic)
  }
  return null
}

function pnObject(alphabetic: unknown, ideographic: unknown, phonetic: unknown) {
  const out: { Alphabetic?: string; Ideographic?: string; Phonetic?: string } = {}
  if (typeof alphabetic === 'string' && alphabetic !== '') out.Alphabetic = alphabetic
  if (typeof ideographic === 'string' && ideographic !== '') out.Ideographic = ideographic
  if (typeof phonetic === 'string' && phonetic !== '') out.Phonetic = phonetic
  return Object.keys(out).length > 0 ? out : null
}

function attributeTag(value: unknown): string | null {
  if (typeof value === 'number') return (value >>> 0).toString(16).toUpperCase().padStart(8, '0')
  if (typeof value === 'string') return value.replace(/[^0-9a-f]/gi, '').toUpperCase() || null
  return null
}

/** IS/DS from the text in the file: dcmjs's lenient parse would turn `1A` into 1. */
function numberStrings(element: DcmjsElement): (number | null)[] {
  const raw = element._rawValue
  const texts = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split('\\') : (element.Value ?? [])
  const pattern = element.vr === 'IS' ? IS : DS
  return texts.map((value) => {
    if (typeof value === 'number') return Number.isFinite(value) ? value : null
    if (typeof value !== 'string') return null
    const text = value.replace(/\0/g, '').trim()
    return pattern.test(text) ? Number(text) : null
  })
}

function bigNumber(value: unknown): number | string | null {
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString()
  }
  return null
}
