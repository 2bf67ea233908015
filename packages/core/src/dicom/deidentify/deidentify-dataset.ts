import type { DcmjsDataset, DcmjsElement } from '../dcmjs.js'
import {
  BASIC_PROFILE_EDITION,
  BASIC_PROFILE_TABLE,
  type DeidentifyAction,
  repeatingGroupAction,
} from './basic-profile-table.js'
import {
  BINARY_VRS,
  DATE_TIME_VRS,
  dummyElement,
  emptyElement,
  hasValue,
  TEXTUAL_VRS,
} from './dummy-values.js'
import { createUidRemapper, type UidRemapper } from './uid-remapper.js'

/**
 * Code Sequence Macro attributes (PS3.3 Table 8.8-1). PS3.15 E.1.1 Note 10: coded entries, private codes
 * included, are safe to keep, except codes for providers and staff. So when a `D` sequence has its content
 * replaced (an SR Content Sequence, say), its coded concepts are kept and only free text, names, dates and
 * times are replaced, unless the sequence identifies people or organizations (see IDENTITY_CODE_SEQUENCES).
 */
const CODE_MACRO_TAGS = new Set([
  '00080100', // Code Value
  '00080101', // Extended Code Value
  '00080102', // Coding Scheme Designator
  '00080103', // Coding Scheme Version
  '00080104', // Code Meaning
  '00080105', // Mapping Resource
  '00080108', // Extended Code Meaning
  '0008010B', // Context Group Extension Flag
  '0008010C', // Coding Scheme UID
  '0008010D', // Context Group Extension Creator UID
  '0008010F', // Context Identifier
  '00080117', // Context UID
  '00080118', // Mapping Resource UID
  '00080119', // Long Code Value
  '00080120', // URN Code Value
  '00080122', // Mapping Resource Name
])

/** Code sequences whose codes name a person or an organization ("codes for providers and staff"). */
const IDENTITY_CODE_SEQUENCES = new Set([
  '00401101', // Person Identification Code Sequence
  '00080082', // Institution Code Sequence
  '00081041', // Institutional Department Type Code Sequence
  '0040A088', // Verifying Observer Identification Code Sequence
  '00700086', // Content Creator's Identification Code Sequence
])

/**
 * Attributes removed beyond Table E.1-1: Encrypted Attributes Sequence (0400,0500) carries the original values
 * for re-identification by whoever holds the key; a third-party copy gets none of it.
 */
const ALSO_REMOVED = new Set(['04000500'])

/**
 * How an item's attributes are treated:
 * - `profile`: Table E.1-1 applies, everything it does not list is kept (dates and times replaced, Note 4);
 * - `replace`: inside a `D` sequence: its content is replaced too (PS3.15: "in the case of Sequences, the
 *   action is applicable to the Sequence and all of its contents"): listed attributes get their action, and
 *   every other text, name, date, time and byte value gets a dummy; codes, code strings, numbers and UIDs of
 *   the registry are kept;
 * - `replace-codes`: `replace` inside an identity code sequence, where codes are replaced as well.
 */
type Mode = 'profile' | 'replace' | 'replace-codes'

export type DeidentifyDatasetParameters = {
  /** Per-set secret for UID remapping (at least 16 bytes); the same secret gives the same UIDs. */
  secret: Uint8Array
  /** Receives original → new UID mappings as they are made. Links the copy to its source: keep it private. */
  uidMap?: Map<string, string> | undefined
}

/**
 * Applies the PS3.15 Basic Application Level Confidentiality Profile to a dcmjs dataset (tag-keyed, the dataset
 * part of a Part 10 file, without the file meta group) and returns a new dataset; the input is not modified.
 *
 * - Table E.1-1 ({@link BASIC_PROFILE_TABLE}) is applied at every nesting level, with combined codes resolved
 *   as {@link resolveBasicProfileAction} says;
 * - private attributes (odd groups, creators included), curves (50xx), overlays (60xx), group lengths, command
 *   elements (0000,xxxx) and the Encrypted Attributes Sequence are removed;
 * - UIDs of `U` rows are replaced by {@link createUidRemapper} (consistent across a set for one secret);
 * - DA, DT and TM values not listed in the table are replaced by dummies as well (E.1.1 Note 4);
 * - Patient Identity Removed (0012,0062) = YES, De-identification Method (0012,0063) and
 *   De-identification Method Code Sequence (0012,0064) with (113100, DCM, "Basic Application Confidentiality
 *   Profile") are set, and Longitudinal Temporal Information Modified (0028,0303) = REMOVED.
 *
 * Everything else is kept as is. Burned-in annotation is not looked at here (see `deidentifyStudy`).
 */
export function deidentifyDataset(dataset: DcmjsDataset, params: DeidentifyDatasetParameters): DcmjsDataset {
  const remapper = createUidRemapper({ secret: params.secret, uidMap: params.uidMap })
  return deidentifyDatasetWith(dataset, remapper)
}

/** {@link deidentifyDataset} with a remapper shared across the files of a set. */
export function deidentifyDatasetWith(dataset: DcmjsDataset, remapper: UidRemapper): DcmjsDataset {
  const out = transformItem(dataset, 'profile', remapper, 0)
  markDeidentified(out)
  return out
}

const MAX_DEPTH = 64

function transformItem(item: DcmjsDataset, mode: Mode, remapper: UidRemapper, depth: number): DcmjsDataset {
  if (depth > MAX_DEPTH) {
    // Deeper than any real object nests: drop the content rather than keep what was not looked at.
    return {}
  }
  const out: DcmjsDataset = {}
  for (const key of Object.keys(item)) {
    const element = item[key]
    if (element === undefined) continue
    const tag = key.toUpperCase()
    if (!/^[0-9A-F]{8}$/.test(tag)) continue
    const group = Number.parseInt(tag.slice(0, 4), 16)
    const elementNumber = Number.parseInt(tag.slice(4), 16)
    if (group % 2 === 1) continue // private attributes and creators; also the illegal odd groups 0001-0007, FFFF
    if (group === 0x0000 || group === 0x0002) continue // command and file meta elements do not belong in a dataset
    if (elementNumber === 0x0000) continue // group lengths (retired), wrong once anything changed
    if (repeatingGroupAction(group) === 'X') continue
    if (ALSO_REMOVED.has(tag)) continue
    const entry = BASIC_PROFILE_TABLE.get(tag)
    const result = entry
      ? applyAction(entry.action, tag, element, mode, remapper, depth)
      : applyUnlisted(tag, element, mode, remapper, depth)
    if (result) out[tag] = result
  }
  return out
}

function applyAction(
  action: DeidentifyAction,
  tag: string,
  element: DcmjsElement,
  mode: Mode,
  remapper: UidRemapper,
  depth: number,
): DcmjsElement | undefined {
  const vr = element.vr
  switch (action) {
    case 'X':
      return undefined
    case 'Z':
      return emptyElement(vr)
    case 'D': {
      if (vr === 'SQ') {
        const itemMode: Mode =
          mode === 'replace-codes' || IDENTITY_CODE_SEQUENCES.has(tag) ? 'replace-codes' : 'replace'
        return transformSequence(element, itemMode, remapper, depth)
      }
      if (vr === 'UI') return remapUids(element, remapper)
      // An empty value stays empty: it carries nothing, and it was as conformant before as it is now.
      return hasValue(element) ? dummyElement(vr) : emptyElement(vr)
    }
    case 'U': {
      if (vr === 'SQ') return transformSequence(element, nextMode(tag, mode), remapper, depth)
      if (vr === 'UI') return remapUids(element, remapper)
      return hasValue(element) ? dummyElement(vr) : emptyElement(vr)
    }
  }
}

function applyUnlisted(
  tag: string,
  element: DcmjsElement,
  mode: Mode,
  remapper: UidRemapper,
  depth: number,
): DcmjsElement | undefined {
  const vr = element.vr
  if (vr === 'SQ') return transformSequence(element, nextMode(tag, mode), remapper, depth)
  if (mode === 'profile') {
    if (DATE_TIME_VRS.has(vr) && hasValue(element)) return dummyElement(vr)
    return copyElement(element)
  }
  if (mode === 'replace' && CODE_MACRO_TAGS.has(tag)) return copyElement(element)
  if ((TEXTUAL_VRS.has(vr) || BINARY_VRS.has(vr)) && hasValue(element)) return dummyElement(vr)
  return copyElement(element)
}

function nextMode(tag: string, mode: Mode): Mode {
  if (mode === 'replace' && IDENTITY_CODE_SEQUENCES.has(tag)) return 'replace-codes'
  return mode
}

function transformSequence(
  element: DcmjsElement,
  mode: Mode,
  remapper: UidRemapper,
  depth: number,
): DcmjsElement {
  const items = Array.isArray(element.Value) ? element.Value : []
  return {
    vr: 'SQ',
    Value: items.map((item) =>
      item && typeof item === 'object' ? transformItem(item as DcmjsDataset, mode, remapper, depth + 1) : {},
    ),
  }
}

function remapUids(element: DcmjsElement, remapper: UidRemapper): DcmjsElement {
  const values = Array.isArray(element.Value) ? element.Value : []
  return {
    vr: 'UI',
    Value: values.map((value) => (typeof value === 'string' ? remapper.remap(value) : '')),
  }
}

/** A shallow copy: kept elements keep dcmjs's raw values, so they are written back exactly as they were read. */
function copyElement(element: DcmjsElement): DcmjsElement {
  return { ...element, ...(Array.isArray(element.Value) ? { Value: [...element.Value] } : {}) }
}

/** (113100, DCM, "Basic Application Confidentiality Profile"), PS3.16 CID 7050. */
export const BASIC_PROFILE_METHOD_CODE = {
  codeValue: '113100',
  codingSchemeDesignator: 'DCM',
  codeMeaning: 'Basic Application Confidentiality Profile',
} as const

export const DEIDENTIFICATION_METHOD = `${BASIC_PROFILE_EDITION} Basic Application Confidentiality Profile`

function markDeidentified(dataset: DcmjsDataset): void {
  dataset['00120062'] = { vr: 'CS', Value: ['YES'] }

  const methods = stringValues(dataset['00120063'])
  if (!methods.includes(DEIDENTIFICATION_METHOD)) methods.push(DEIDENTIFICATION_METHOD)
  dataset['00120063'] = { vr: 'LO', Value: methods }

  const codes = Array.isArray(dataset['00120064']?.Value)
    ? [...(dataset['00120064'].Value as DcmjsDataset[])]
    : []
  const present = codes.some(
    (item) =>
      stringValues(item['00080100'])[0] === BASIC_PROFILE_METHOD_CODE.codeValue &&
      stringValues(item['00080102'])[0] === BASIC_PROFILE_METHOD_CODE.codingSchemeDesignator,
  )
  if (!present) {
    codes.push({
      '00080100': { vr: 'SH', Value: [BASIC_PROFILE_METHOD_CODE.codeValue] },
      '00080102': { vr: 'SH', Value: [BASIC_PROFILE_METHOD_CODE.codingSchemeDesignator] },
      '00080104': { vr: 'LO', Value: [BASIC_PROFILE_METHOD_CODE.codeMeaning] },
    })
  }
  dataset['00120064'] = { vr: 'SQ', Value: codes }

  // Dates and times were replaced, not shifted (PS3.3 C.12.1: UNMODIFIED | MODIFIED | REMOVED).
  dataset['00280303'] = { vr: 'CS', Value: ['REMOVED'] }
}

function stringValues(element: DcmjsElement | undefined): string[] {
  if (!element || !Array.isArray(element.Value)) return []
  return element.Value.filter((value): value is string => typeof value === 'string' && value.trim() !== '')
}
