import type { DcmjsElement } from '../dcmjs.js'

/**
 * Dummy values for action `D` (PS3.15 E.1.1: "a non-zero length value that may be a dummy value and consistent
 * with the VR"). Dates and times are replaced, not shifted: the set keeps no calendar information. All are
 * plain ASCII, so they encode the same in every Specific Character Set.
 */
export const DUMMY_VALUES = {
  /** PN */
  personName: 'ANONYMOUS',
  /** AE, CS, LO, LT, SH, ST, UC, UR, UT (fits the 16-character AE/CS/SH limit). */
  text: 'ANONYMIZED',
  /** DA */
  date: '19000101',
  /** TM */
  time: '000000',
  /** DT */
  dateTime: '19000101000000',
  /** AS */
  age: '000Y',
  /** DS, IS, binary numbers (US, SS, UL, SL, FL, FD, AT, UV, SV) */
  number: 0,
  /** OB, OD, OF, OL, OV, OW, UN: eight zero bytes (a whole number of values for every binary VR). */
  binaryLength: 8,
} as const

/** VRs whose values are free text, names, dates or times: what a `D` sequence replaces in its items. */
export const TEXTUAL_VRS = new Set([
  'AE',
  'AS',
  'DA',
  'DT',
  'LO',
  'LT',
  'PN',
  'SH',
  'ST',
  'TM',
  'UC',
  'UR',
  'UT',
])
export const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN'])
export const DATE_TIME_VRS = new Set(['DA', 'DT', 'TM'])

/** The dummy element for `vr` (never for SQ or UI, which the caller handles). */
export function dummyElement(vr: string): DcmjsElement {
  switch (vr) {
    case 'PN':
      return { vr, Value: [{ Alphabetic: DUMMY_VALUES.personName }] }
    case 'DA':
      return { vr, Value: [DUMMY_VALUES.date] }
    case 'TM':
      return { vr, Value: [DUMMY_VALUES.time] }
    case 'DT':
      return { vr, Value: [DUMMY_VALUES.dateTime] }
    case 'AS':
      return { vr, Value: [DUMMY_VALUES.age] }
    case 'DS':
    case 'IS':
    case 'US':
    case 'SS':
    case 'UL':
    case 'SL':
    case 'FL':
    case 'FD':
    case 'AT':
      return { vr, Value: [DUMMY_VALUES.number] }
    case 'UV':
    case 'SV':
      return { vr, Value: [BigInt(DUMMY_VALUES.number)] }
    default:
      if (BINARY_VRS.has(vr)) return { vr, Value: [new ArrayBuffer(DUMMY_VALUES.binaryLength)] }
      return { vr, Value: [DUMMY_VALUES.text] }
  }
}

/** The zero-length element for `vr` (action `Z`). */
export function emptyElement(vr: string): DcmjsElement {
  // dcmjs writes a binary element from its first value, so a zero-length buffer rather than no value.
  if (BINARY_VRS.has(vr)) return { vr, Value: [new ArrayBuffer(0)] }
  return { vr, Value: [] }
}

/** Whether an element carries anything: a non-blank string, a name, a number, bytes or sequence items. */
export function hasValue(element: DcmjsElement): boolean {
  const values = element.Value
  if (!Array.isArray(values)) return false
  return values.some((value) => {
    if (value === null || value === undefined) return false
    if (typeof value === 'string') return value.replace(/[\0 ]/g, '') !== ''
    if (typeof value === 'number' || typeof value === 'bigint') return true
    if (value instanceof ArrayBuffer) return value.byteLength > 0
    if (ArrayBuffer.isView(value)) return value.byteLength > 0
    if (typeof value === 'object') {
      // A PN value ({ Alphabetic, Ideographic, Phonetic }) or a sequence item (tag-keyed elements).
      const entries = Object.values(value as Record<string, unknown>)
      if (element.vr === 'PN') return entries.some((part) => typeof part === 'string' && part.trim() !== '')
      return true
    }
    return true
  })
}
