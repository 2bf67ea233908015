import { dcmjs } from '../dcmjs.js'
import { DicomParseError, type DicomParseErrorCode } from '../errors.js'
import { describeTag, formatTag } from '../tags.js'
import type { DatasetEncoding } from '../transfer-syntax.js'
import { IMPLICIT_LE } from '../transfer-syntax.js'

/*
 * A structural walk of a dataset over the raw bytes, before the library sees them. dcmjs trusts declared
 * lengths (a truncated file reads as if it were whole, an odd-sized US desynchronises the rest, a broken
 * offset table throws from deep inside); this walk checks every header, length, item and delimiter
 * against the bytes that contain it, with no allocation proportional to any declared length, so that
 * what reaches dcmjs is consistent and every failure is a DicomParseError with the element at fault.
 * It mirrors dcmjs's reading rules (dictionary VR for implicit data, dictionary VR for explicit UN) so
 * that both see the same structure.
 */

export type DicomParseWarning = {
  code:
    | 'NON_ZERO_PREAMBLE'
    | 'ODD_LENGTH'
    | 'INVALID_VALUE'
    | 'TRAILING_PADDING'
    | 'GROUP_LENGTH_MISMATCH'
    | 'NO_GROUP_LENGTH'
    | 'UNKNOWN_TRANSFER_SYNTAX'
    | 'OFFSET_TABLE_IGNORED'
    | 'FRAGMENTS_AS_FRAMES'
    | 'UID_MISMATCH'
    | 'TAG_ORDER'
  message: string
  tag?: string
  offset?: number
}

export type Fragment = { offset: number; length: number }

/** A top-level element as found in the bytes. Offsets are into the scanned buffer. */
export type ScannedElement = {
  tag: number
  /** VR that governs the value (explicit VR, or the dictionary's for implicit data / UN). */
  vr: string
  headerStart: number
  valueStart: number
  /** `undefined` for undefined length (0xFFFFFFFF). */
  length: number | undefined
  /** First byte after the element (after its delimiter for undefined length). */
  end: number
  /** Encapsulated values: the items after the Basic Offset Table, in order. */
  fragments?: Fragment[]
  /** Encapsulated values: the Basic Offset Table item. */
  offsetTable?: Fragment
}

export type ScanOptions = {
  encoding: DatasetEncoding
  fileName?: string | undefined
  /** Added to positions in errors and warnings, so they are offsets in the original file. */
  reportOffset?: number
  /** Says what offsets count from, in messages (default: the file). */
  offsetsIn?: string
  maxDepth?: number
  /** Collects warnings (capped); omit to ignore them. */
  warnings?: DicomParseWarning[]
  /** Stop (without consuming) at the first top-level element whose group differs: used for the meta group. */
  onlyGroup?: number
  /** Reject top-level tags that are not strictly ascending (used when sniffing a dataset without meta). */
  requireAscending?: boolean
}

/** `end`: where the elements end (before any trailing zero padding). */
export type ScanResult = { elements: ScannedElement[]; end: number }

const UNDEFINED_LENGTH = 0xffffffff
const ITEM = 0xfffee000
const ITEM_DELIMITER = 0xfffee00d
const SEQUENCE_DELIMITER = 0xfffee0dd
const MAX_WARNINGS = 50

/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])
const ALL_VRS = new Set([
  ...LONG_VRS,
  ...['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'PN', 'SH', 'SL', 'SS', 'ST'],
  ...['TM', 'UI', 'UL', 'US'],
])
/** Binary VRs whose value is a whole number of fixed-size numbers: dcmjs reads by that size. */
const VALUE_SIZE: Record<string, number> = {
  AT: 4,
  FD: 8,
  FL: 4,
  OD: 8,
  OF: 4,
  OL: 4,
  OV: 8,
  OW: 2,
  SL: 4,
  SS: 2,
  SV: 8,
  UL: 4,
  US: 2,
  UV: 8,
}

const IS_VALUE = /^[+-]?\d{1,12}$/
const DS_VALUE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/

class Walker {
  readonly view: DataView
  readonly warnings: DicomParseWarning[] | undefined
  readonly fileName: string | undefined
  readonly reportOffset: number
  readonly maxDepth: number
  readonly offsetsIn: string

  constructor(
    readonly bytes: Uint8Array,
    options: ScanOptions,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.warnings = options.warnings
    this.fileName = options.fileName
    this.reportOffset = options.reportOffset ?? 0
    this.maxDepth = options.maxDepth ?? 32
    this.offsetsIn = options.offsetsIn ? ` of ${options.offsetsIn}` : ''
  }

  fail(code: DicomParseErrorCode, problem: string, at: number, tag?: number): never {
    throw new DicomParseError(code, `${problem} (at byte ${this.reportOffset + at}${this.offsetsIn})`, {
      fileName: this.fileName,
      offset: this.reportOffset + at,
      tag: tag === undefined ? undefined : formatTag(tag),
    })
  }

  warn(code: DicomParseWarning['code'], message: string, at: number, tag?: number) {
    if (!this.warnings || this.warnings.length >= MAX_WARNINGS) return
    const warning: DicomParseWarning = { code, message, offset: this.reportOffset + at }
    if (tag !== undefined) warning.tag = formatTag(tag)
    this.warnings.push(warning)
  }

  u16(at: number, le: boolean) {
    return this.view.getUint16(at, le)
  }
  u32(at: number, le: boolean) {
    return this.view.getUint32(at, le)
  }
  tagAt(at: number, le: boolean) {
    return ((this.u16(at, le) << 16) | this.u16(at + 2, le)) >>> 0
  }

  /** Reads an element header; `limit` is the end of the container. */
  header(at: number, limit: number, enc: DatasetEncoding, what: string) {
    if (limit - at < 8) this.fail('DICOM_TRUNCATED', `${what} header cut off: ${limit - at} bytes left`, at)
    const le = enc.littleEndian
    const tag = this.tagAt(at, le)
    if (tag >>> 16 === 0xfffe) {
      return { tag, vr: '', length: this.u32(at + 4, le), headerLength: 8 }
    }
    if (!enc.explicitVr) {
      return { tag, vr: implicitVr(tag, this.u32(at + 4, le)), length: this.u32(at + 4, le), headerLength: 8 }
    }
    const c0 = this.bytes[at + 4]!
    const c1 = this.bytes[at + 5]!
    const written = String.fromCharCode(c0, c1)
    if (!ALL_VRS.has(written)) {
      this.fail(
        'DICOM_BAD_VR',
        `element ${describeTag(tag)} has an invalid value representation (bytes 0x${hex2(c0)} 0x${hex2(c1)})`,
        at,
        tag,
      )
    }
    if (LONG_VRS.has(written)) {
      if (limit - at < 12) this.fail('DICOM_TRUNCATED', `header of ${describeTag(tag)} cut off`, at, tag)
      let vr = written
      // dcmjs re-reads UN with the dictionary's VR when it knows the tag (the value itself is unchanged).
      if (vr === 'UN') vr = dictionaryVr(tag) ?? 'UN'
      return { tag, vr, written, length: this.u32(at + 8, le), headerLength: 12 }
    }
    return { tag, vr: written, written, length: this.u16(at + 6, le), headerLength: 8 }
  }

  /**
   * Walks the elements in [at, end). With `untilItemDelimiter` the run ends at an Item Delimitation
   * Item (undefined-length item) and `end` is only the container's limit.
   */
  elements(
    at: number,
    end: number,
    enc: DatasetEncoding,
    depth: number,
    untilItemDelimiter: boolean,
    top?: { out: ScannedElement[]; onlyGroup?: number | undefined; requireAscending?: boolean | undefined },
  ): number {
    let pos = at
    let previousTag = -1
    let orderWarned = false
    const seen = new Set<number>()
    for (;;) {
      if (pos === end) {
        if (untilItemDelimiter) this.fail('DICOM_TRUNCATED', 'item with undefined length is not closed', pos)
        return pos
      }
      if (top && end - pos < 8 && !untilItemDelimiter) {
        if (this.bytes.subarray(pos, end).every((b) => b === 0)) {
          this.warn('TRAILING_PADDING', `${end - pos} zero bytes after the last element`, pos)
          return pos
        }
      }
      if (top?.onlyGroup !== undefined) {
        if (end - pos < 4) this.fail('DICOM_TRUNCATED', 'element header cut off', pos)
        if (this.tagAt(pos, enc.littleEndian) >>> 16 !== top.onlyGroup) return pos
      }
      const h = this.header(pos, end, enc, 'element')
      const valueStart = pos + h.headerLength
      if (h.tag === ITEM_DELIMITER) {
        if (!untilItemDelimiter) this.fail('DICOM_BAD_SEQUENCE', 'item delimiter outside an item', pos, h.tag)
        // A non-zero delimiter length is not skippable data: readers disagree on it, so it is refused.
        if (h.length !== 0) this.fail('DICOM_BAD_LENGTH', 'item delimiter with a non-zero length', pos, h.tag)
        return valueStart
      }
      if (h.tag >>> 16 === 0xfffe) {
        this.fail('DICOM_BAD_SEQUENCE', `unexpected ${formatTag(h.tag)} where an element must be`, pos, h.tag)
      }
      if (seen.has(h.tag)) {
        // Readers disagree on which copy counts (dcmtk keeps the first, dcmjs the last): refuse.
        this.fail(
          'DICOM_DUPLICATE_ELEMENT',
          `element ${describeTag(h.tag)} appears twice in one dataset`,
          pos,
          h.tag,
        )
      }
      seen.add(h.tag)
      if (h.tag < previousTag) {
        if (top?.requireAscending) {
          this.fail('DICOM_NOT_DICOM', `tags not in ascending order at ${formatTag(h.tag)}`, pos, h.tag)
        }
        if (!orderWarned)
          this.warn('TAG_ORDER', `elements not in ascending tag order at ${formatTag(h.tag)}`, pos, h.tag)
        orderWarned = true
      }
      previousTag = h.tag
      const element = this.value(h, pos, valueStart, end, enc, depth, top !== undefined)
      top?.out.push(element)
      pos = element.end
    }
  }

  value(
    h: { tag: number; vr: string; written?: string; length: number; headerLength: number },
    headerStart: number,
    valueStart: number,
    limit: number,
    enc: DatasetEncoding,
    depth: number,
    topLevel: boolean,
  ): ScannedElement {
    const { tag, vr } = h
    if (tag === 0x00080005 && vr !== 'CS') {
      // dcmjs decodes every later string with it and fails on anything but text.
      this.fail('DICOM_BAD_VR', `element ${describeTag(tag)} must be CS, not ${vr}`, headerStart, tag)
    }
    const element: ScannedElement = { tag, vr, headerStart, valueStart, length: undefined, end: valueStart }
    if (h.length === UNDEFINED_LENGTH) {
      if (vr === 'SQ' || h.written === 'UN' || (!enc.explicitVr && vr === 'UN')) {
        // CP-246: an explicit UN of undefined length holds an implicit little endian sequence.
        const content = h.written === 'UN' ? IMPLICIT_LE : enc
        element.end = this.sequence(valueStart, limit, undefined, content, depth + 1, tag)
        return element
      }
      if (vr === 'OB' || vr === 'OW') {
        this.fragments(element, limit, enc, topLevel)
        return element
      }
      this.fail(
        'DICOM_BAD_LENGTH',
        `element ${describeTag(tag)} (${vr}) has undefined length`,
        headerStart,
        tag,
      )
    }
    const length = h.length
    if (length > limit - valueStart) {
      this.fail(
        'DICOM_TRUNCATED',
        `element ${describeTag(tag)} declares ${length} bytes but only ${limit - valueStart} remain`,
        headerStart,
        tag,
      )
    }
    element.length = length
    element.end = valueStart + length
    if (vr === 'SQ') {
      this.sequence(valueStart, valueStart + length, length, enc, depth + 1, tag)
      return element
    }
    const size = VALUE_SIZE[vr]
    if (size !== undefined && length % size !== 0) {
      this.fail(
        'DICOM_BAD_LENGTH',
        `element ${describeTag(tag)} (${vr}) has length ${length}, not a multiple of ${size}`,
        headerStart,
        tag,
      )
    }
    if (length % 2 === 1)
      this.warn('ODD_LENGTH', `element ${describeTag(tag)} has odd length ${length}`, headerStart, tag)
    if (vr === 'IS' || vr === 'DS' || vr === 'UI') this.checkText(tag, vr, valueStart, length, headerStart)
    return element
  }

  checkText(tag: number, vr: string, start: number, length: number, at: number) {
    if (!this.warnings || this.warnings.length >= MAX_WARNINGS) return
    let text = ''
    for (let i = start; i < start + length; i++) text += String.fromCharCode(this.bytes[i]!)
    if (vr === 'UI') {
      const trimmed = text.replace(/[\0 ]+$/, '')
      if (!/^[0-9.]*$/.test(trimmed)) {
        this.warn(
          'INVALID_VALUE',
          `${formatTag(tag)} UI value has characters other than digits and '.'`,
          at,
          tag,
        )
      }
      return
    }
    const pattern = vr === 'IS' ? IS_VALUE : DS_VALUE
    for (const part of text.split('\\')) {
      const value = part.trim()
      if (value !== '' && !pattern.test(value)) {
        this.warn('INVALID_VALUE', `${formatTag(tag)} ${vr} value is not a valid ${vr} string`, at, tag)
        return
      }
    }
  }

  /** Items of a sequence; `length` undefined means "until the Sequence Delimitation Item". */
  sequence(
    at: number,
    limit: number,
    length: number | undefined,
    enc: DatasetEncoding,
    depth: number,
    owner: number,
  ): number {
    if (depth > this.maxDepth) {
      this.fail('DICOM_TOO_DEEP', `sequences nested deeper than ${this.maxDepth} levels`, at, owner)
    }
    let pos = at
    for (;;) {
      if (length !== undefined && pos === limit) return pos
      if (length === undefined && pos >= limit) {
        this.fail('DICOM_TRUNCATED', `sequence ${formatTag(owner)} is not closed`, pos, owner)
      }
      const h = this.header(pos, limit, enc, `item of ${formatTag(owner)}`)
      const itemStart = pos + 8
      if (h.tag === SEQUENCE_DELIMITER) {
        if (length !== undefined) {
          this.fail(
            'DICOM_BAD_SEQUENCE',
            `sequence delimiter inside defined-length ${formatTag(owner)}`,
            pos,
            owner,
          )
        }
        if (h.length !== 0)
          this.fail('DICOM_BAD_LENGTH', 'sequence delimiter with a non-zero length', pos, owner)
        return itemStart
      }
      if (h.tag !== ITEM) {
        this.fail(
          'DICOM_BAD_SEQUENCE',
          `${formatTag(h.tag)} where an item of ${formatTag(owner)} must be`,
          pos,
          owner,
        )
      }
      if (h.length === UNDEFINED_LENGTH) {
        pos = this.elements(itemStart, limit, enc, depth, true)
      } else {
        if (h.length > limit - itemStart) {
          this.fail(
            'DICOM_TRUNCATED',
            `item of ${formatTag(owner)} declares ${h.length} bytes but only ${limit - itemStart} remain`,
            pos,
            owner,
          )
        }
        pos = this.elements(itemStart, itemStart + h.length, enc, depth, false)
      }
    }
  }

  /** Encapsulated value (PS3.5 A.4): Basic Offset Table item, fragment items, Sequence Delimitation Item. */
  fragments(element: ScannedElement, limit: number, enc: DatasetEncoding, record: boolean) {
    const owner = element.tag
    const found: Fragment[] = []
    let pos = element.valueStart
    let first = true
    for (;;) {
      const h = this.header(pos, limit, enc, `fragment of ${formatTag(owner)}`)
      const start = pos + 8
      if (h.tag === SEQUENCE_DELIMITER) {
        if (first)
          this.fail('DICOM_BAD_SEQUENCE', `encapsulated ${formatTag(owner)} has no offset table`, pos, owner)
        if (h.length !== 0)
          this.fail('DICOM_BAD_LENGTH', 'sequence delimiter with a non-zero length', pos, owner)
        element.end = start
        break
      }
      if (h.tag !== ITEM) {
        this.fail(
          'DICOM_BAD_SEQUENCE',
          `${formatTag(h.tag)} where a fragment of ${formatTag(owner)} must be`,
          pos,
          owner,
        )
      }
      if (h.length === UNDEFINED_LENGTH) {
        this.fail('DICOM_BAD_LENGTH', `fragment of ${formatTag(owner)} has undefined length`, pos, owner)
      }
      if (h.length > limit - start) {
        this.fail(
          'DICOM_TRUNCATED',
          `fragment of ${formatTag(owner)} declares ${h.length} bytes but only ${limit - start} remain`,
          pos,
          owner,
        )
      }
      if (first) {
        if (h.length % 4 !== 0) {
          this.fail(
            'DICOM_BAD_LENGTH',
            `offset table of ${formatTag(owner)} is not a multiple of 4 bytes`,
            pos,
            owner,
          )
        }
        if (record) element.offsetTable = { offset: start, length: h.length }
        first = false
      } else {
        if (h.length % 2 === 1)
          this.warn('ODD_LENGTH', `fragment of ${formatTag(owner)} has odd length`, pos, owner)
        if (record) found.push({ offset: start, length: h.length })
      }
      pos = start + h.length
    }
    if (record) element.fragments = found
  }
}

function hex2(n: number) {
  return n.toString(16).padStart(2, '0')
}

/** The dictionary VR as dcmjs resolves it, or undefined for tags it does not know. */
function dictionaryVr(tag: number): string | undefined {
  const entry = dcmjs.data.DicomMetaDictionary.dictionary[formatTag(tag).toUpperCase()]
  if (!entry) return undefined
  if (entry.vr === 'xs') return 'US'
  if (entry.vr === 'ox') return 'OW'
  return ALL_VRS.has(entry.vr) ? entry.vr : 'UN'
}

/** Same choice dcmjs makes for implicit VR data. */
function implicitVr(tag: number, length: number): string {
  const known = dictionaryVr(tag)
  if (known) return known
  if (length === UNDEFINED_LENGTH) return 'SQ'
  if (tag === 0x7fe00010) return 'OW'
  const group = tag >>> 16
  const element = tag & 0xffff
  if (group % 2 === 1 && element >= 0x10 && element <= 0xff) return 'LO'
  return 'UN'
}

/**
 * Walks a whole dataset (or, with `onlyGroup`, one leading group of it) in `bytes[start, end)` and returns its
 * top-level elements. Throws {@link DicomParseError} on the first structural problem.
 */
export function scanDataset(bytes: Uint8Array, start: number, end: number, options: ScanOptions): ScanResult {
  const walker = new Walker(bytes, options)
  const elements: ScannedElement[] = []
  const stop = walker.elements(start, end, options.encoding, 0, false, {
    out: elements,
    onlyGroup: options.onlyGroup,
    requireAscending: options.requireAscending,
  })
  return { elements, end: stop }
}
