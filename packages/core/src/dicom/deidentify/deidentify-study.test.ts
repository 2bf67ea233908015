import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DcmjsDataset, type DcmjsElement, dcmjs } from '../dcmjs.js'
import { BASIC_PROFILE_TABLE, type BasicProfileEntry } from './basic-profile-table.js'
import { DEIDENTIFICATION_METHOD } from './deidentify-dataset.js'
import {
  DEIDENTIFY_IMPLEMENTATION_CLASS_UID,
  DEIDENTIFY_IMPLEMENTATION_VERSION_NAME,
  deidentifyFile,
} from './deidentify-file.js'
import { type DeidentifyStudyReturnType, deidentifyStudy } from './deidentify-study.js'
import { DUMMY_VALUES } from './dummy-values.js'
import { createUidRemapper } from './uid-remapper.js'

/*
 * A study built from the real fixtures (CT, MR in three encodings, two RGB secondary captures, an SR with deep
 * content) with distinctive PHI seeded into every Table E.1-1 attribute — at the top level, one and two sequence
 * levels down, inside the SR content tree — plus private groups, curves, overlays, file meta and preamble. The
 * de-identified copy is checked by a byte scan, by re-parsing, by dcmdump (dcmtk) and for UID consistency.
 */

const FIXTURES = new URL('../../../../../fixtures/dicom/valid/', import.meta.url)
const SECRET = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff)
const UID_ROOT = '1.3.6.1.4.1.54321.777'

const CT_CLASS = '1.2.840.10008.5.1.4.1.1.2'
const MR_CLASS = '1.2.840.10008.5.1.4.1.1.4'

// Shared identities of the generated study.
const STUDY_UID = `${UID_ROOT}.1.1`
const FRAME_OF_REFERENCE_UID = `${UID_ROOT}.4.1`
const CT_SERIES_UID = `${UID_ROOT}.2.1`
const MR_SERIES_UID = `${UID_ROOT}.2.2`
const SC_SERIES_UID = `${UID_ROOT}.2.3`
const SR_SERIES_UID = `${UID_ROOT}.2.4`

type Part = {
  name: string
  fixture: string
  series: string
  sop: string
  frameOfReference?: string
  burnedIn?: 'YES'
}

const PARTS: Part[] = [
  {
    name: 'ct',
    fixture: 'CT_small.dcm',
    series: CT_SERIES_UID,
    sop: `${UID_ROOT}.3.1`,
    frameOfReference: FRAME_OF_REFERENCE_UID,
  },
  {
    name: 'ct-burned-in',
    fixture: 'CT_small.dcm',
    series: CT_SERIES_UID,
    sop: `${UID_ROOT}.3.2`,
    frameOfReference: FRAME_OF_REFERENCE_UID,
    burnedIn: 'YES',
  },
  {
    name: 'mr',
    fixture: 'MR_small.dcm',
    series: MR_SERIES_UID,
    sop: `${UID_ROOT}.3.3`,
    frameOfReference: FRAME_OF_REFERENCE_UID,
  },
  {
    name: 'mr-implicit',
    fixture: 'MR_small_implicit.dcm',
    series: MR_SERIES_UID,
    sop: `${UID_ROOT}.3.4`,
    frameOfReference: FRAME_OF_REFERENCE_UID,
  },
  {
    name: 'mr-big-endian',
    fixture: 'MR_small_bigendian.dcm',
    series: MR_SERIES_UID,
    sop: `${UID_ROOT}.3.5`,
    frameOfReference: FRAME_OF_REFERENCE_UID,
  },
  { name: 'sc-rle', fixture: 'SC_rgb_rle.dcm', series: SC_SERIES_UID, sop: `${UID_ROOT}.3.6` },
  { name: 'sc-jpeg', fixture: 'SC_rgb_jpeg_dcmtk.dcm', series: SC_SERIES_UID, sop: `${UID_ROOT}.3.7` },
  { name: 'sr', fixture: 'test-SR.dcm', series: SR_SERIES_UID, sop: `${UID_ROOT}.3.8` },
]
const CT_SOP = PARTS[0]?.sop ?? ''
const MR_SOP = PARTS[2]?.sop ?? ''

// ---------------------------------------------------------------------------------------------------------
// Seeding

/** Strings that must appear nowhere in the output, and PN values whose name forms are scanned too. */
const forbidden = new Set<string>()
const forbiddenNames = new Set<string>()
/**
 * Values of table attributes in the untouched fixtures: they must go too, unless the same text is legitimately
 * kept in an attribute the profile does not list (TOSHIBA is both an Institution Name and the Manufacturer).
 */
const harvested = new Set<string>()
const retainedText: string[] = []
/** Fake UIDs seeded into `U` rows: must be gone, and remapped consistently. */
let uidCounter = 0
function fakeUid(): string {
  uidCounter++
  return `${UID_ROOT}.9.${uidCounter}`
}

const DATE = '19470623'
const TIME = '134711.123456'
const DATE_TIME = '19470623134711.123456'
forbidden.add(DATE).add(TIME).add(DATE_TIME)

function token(prefix: string, tag: string): string {
  return `${prefix}${tag}Z`
}

function vrOf(tag: string): string | undefined {
  const entry = dcmjs.data.DicomMetaDictionary.dictionary[`(${tag.slice(0, 4)},${tag.slice(4)})`]
  const vr = entry?.vr
  if (!vr) return undefined
  return ({ ox: 'OW', xs: 'US', lt: 'OW', up: 'UL' } as Record<string, string>)[vr] ?? vr
}

function bytesOf(text: string, multiple: number): ArrayBuffer {
  const encoded = new TextEncoder().encode(text)
  const length = Math.ceil(encoded.length / multiple) * multiple
  const out = new Uint8Array(length).fill(0x20)
  out.set(encoded)
  return out.buffer
}

/** A seeded element for a table row, or undefined for rows whose VR cannot be set (none, in practice). */
function seedElement(entry: BasicProfileEntry, prefix: string, vr: string): DcmjsElement | undefined {
  const t = token(prefix, entry.tag)
  switch (vr) {
    case 'PN': {
      const family = `Müller${prefix}${entry.tag}`
      const given = `Zoë${prefix}${entry.tag}`
      forbiddenNames.add(`${family}^${given}`)
      return { vr, Value: [{ Alphabetic: `${family}^${given}^Q^Dr^III` }] }
    }
    case 'DA':
      return { vr, Value: [DATE] }
    case 'TM':
      return { vr, Value: [TIME] }
    case 'DT':
      return { vr, Value: [DATE_TIME] }
    case 'AS':
      return { vr, Value: ['077Y'] }
    case 'DS':
      forbidden.add('97531.8642')
      return { vr, Value: ['97531.8642'] }
    case 'IS':
      forbidden.add('8642097')
      return { vr, Value: ['8642097'] }
    case 'UI': {
      const uid = fakeUid()
      forbidden.add(uid)
      return { vr, Value: [uid] }
    }
    case 'US':
    case 'SS':
    case 'UL':
    case 'SL':
    case 'FL':
    case 'FD':
    case 'AT':
      return { vr, Value: [4242] }
    case 'UV':
    case 'SV':
      return { vr, Value: [4242n] }
    case 'OB':
    case 'OW':
    case 'UN':
    case 'OF':
    case 'OL':
    case 'OD':
    case 'OV':
      forbidden.add(t)
      return { vr, Value: [bytesOf(t, 8)] }
    case 'SQ':
      return { vr, Value: [nestedItem(entry, prefix)] }
    case 'CS':
    case 'AE':
    case 'SH':
    case 'LO':
    case 'ST':
    case 'LT':
    case 'UT':
    case 'UC':
    case 'UR':
      forbidden.add(t)
      return { vr, Value: [t] }
    default:
      return undefined
  }
}

/** The item seeded into a table sequence: profile attributes (and, for `D` sequences, free text). */
function nestedItem(entry: BasicProfileEntry, prefix: string): DcmjsDataset {
  const name = `Nested${prefix}${entry.tag}`
  forbiddenNames.add(`${name}^Given${prefix}${entry.tag}`)
  const institution = token(`I${prefix}`, entry.tag)
  forbidden.add(institution)
  const item: DcmjsDataset = {
    '00100010': { vr: 'PN', Value: [{ Alphabetic: `${name}^Given${prefix}${entry.tag}` }] },
    '00080080': { vr: 'LO', Value: [institution] },
    '00080020': { vr: 'DA', Value: [DATE] },
    '00081150': { vr: 'UI', Value: [CT_CLASS] },
    '00081155': { vr: 'UI', Value: [CT_SOP] },
  }
  if (entry.action === 'D') {
    const text = token(`T${prefix}`, entry.tag)
    forbidden.add(text)
    item['0040A160'] = { vr: 'UT', Value: [text] }
  }
  return item
}

type SeedReport = { seeded: Map<string, DcmjsElement>; skipped: string[] }

/** Every Table E.1-1 row with a settable VR, except the identity UIDs the study structure needs. */
function seedTable(target: DcmjsDataset, prefix: string): SeedReport {
  const seeded = new Map<string, DcmjsElement>()
  const skipped: string[] = []
  for (const entry of BASIC_PROFILE_TABLE.values()) {
    if (entry.tag.startsWith('0002')) continue // file meta: seeded into the meta group instead
    if (['00080018', '0020000D', '0020000E', '00200052'].includes(entry.tag) && prefix === 'A') continue
    const vr = vrOf(entry.tag) ?? 'LO'
    const element = seedElement(entry, prefix, vr)
    if (!element) {
      skipped.push(`${entry.tag} ${vr}`)
      continue
    }
    target[entry.tag] = element
    seeded.set(entry.tag, element)
  }
  return { seeded, skipped }
}

function uidElement(uid: string): DcmjsElement {
  return { vr: 'UI', Value: [uid] }
}

function codeItem(value: string, meaning: string): DcmjsDataset {
  return {
    '00080100': { vr: 'SH', Value: [value] },
    '00080102': { vr: 'SH', Value: ['99PCMIMS'] },
    '00080104': { vr: 'LO', Value: [meaning] },
  }
}

function readDicom(bytes: Uint8Array): { meta: DcmjsDataset; dict: DcmjsDataset } {
  return dcmjs.data.DicomMessage.readFile(bytes.slice().buffer)
}

/** Text of the attributes the profile keeps (not listed, not private, no curve or overlay). */
function collectRetained(dataset: DcmjsDataset): void {
  for (const [tag, element] of Object.entries(dataset)) {
    const group = Number.parseInt(tag.slice(0, 4), 16)
    if (group % 2 === 1 || (group & 0xff00) === 0x5000 || (group & 0xff00) === 0x6000) continue
    if (element.vr === 'SQ') {
      for (const item of (element.Value ?? []) as DcmjsDataset[]) collectRetained(item)
      continue
    }
    if (BASIC_PROFILE_TABLE.has(tag)) continue
    for (const value of element.Value ?? []) {
      if (typeof value === 'string') retainedText.push(value)
      if (value && typeof value === 'object' && 'Alphabetic' in value)
        retainedText.push(String(value.Alphabetic))
    }
  }
}

/** Table attributes of the untouched fixtures: their original values must go as well. */
function harvestOriginals(dataset: DcmjsDataset): void {
  for (const [tag, element] of Object.entries(dataset)) {
    if (element.vr === 'SQ') {
      for (const item of (element.Value ?? []) as DcmjsDataset[]) harvestOriginals(item)
      continue
    }
    if (!BASIC_PROFILE_TABLE.has(tag)) continue
    for (const value of element.Value ?? []) {
      if (typeof value === 'string' && value.trim().length >= 6) harvested.add(value.trim())
      if (value && typeof value === 'object' && 'Alphabetic' in value) {
        const name = String((value as { Alphabetic: string }).Alphabetic)
        for (const part of name.split(/[\^=]/)) if (part.length >= 6) harvested.add(part)
      }
    }
  }
}

type Built = { name: string; bytes: Uint8Array; input: DcmjsDataset; top: SeedReport }

function buildStudy(): Built[] {
  return PARTS.map((part) => {
    const original = readDicom(new Uint8Array(readFileSync(new URL(part.fixture, FIXTURES))))
    harvestOriginals(original.dict)
    forbidden.add(String(original.dict['00080018']?.Value?.[0]))
    const dict = original.dict
    const fixtureContent = dict['0040A730']
    const fixtureObservers = dict['0040A073']

    // Top level: every table row.
    const top = seedTable(dict, 'A')
    dict['00080005'] = { vr: 'CS', Value: ['ISO_IR 192'] }
    dict['0020000D'] = uidElement(STUDY_UID)
    dict['0020000E'] = uidElement(part.series)
    dict['00080018'] = uidElement(part.sop)
    if (part.frameOfReference) dict['00200052'] = uidElement(part.frameOfReference)
    else delete dict['00200052']
    if (part.burnedIn) dict['00280301'] = { vr: 'CS', Value: [part.burnedIn] }
    else delete dict['00280301']
    // One seeded row per file holds a real reference, so consistency can be checked through the U sequences.
    dict['00081140'] = {
      vr: 'SQ',
      Value: [
        {
          '00081150': uidElement(CT_CLASS),
          '00081155': uidElement(part.name.startsWith('sc') ? MR_SOP : CT_SOP),
        },
      ],
    }
    dict['00082112'] = {
      vr: 'SQ',
      Value: [{ '00081150': uidElement(MR_CLASS), '00081155': uidElement(MR_SOP) }],
    }

    // One and two levels down, in sequences the profile keeps (Anatomic Region Sequence and its modifiers).
    const level1: DcmjsDataset = { ...codeItem('T-D0050', 'Tissue') }
    seedTable(level1, 'B')
    const level2: DcmjsDataset = { ...codeItem('G-A100', 'Right') }
    seedTable(level2, 'C')
    level1['00082220'] = { vr: 'SQ', Value: [level2] }
    dict['00082218'] = { vr: 'SQ', Value: [level1] }

    // Private groups with creators, at the top level and nested, one private sequence holding public PHI.
    const privateText = token('P', '00091001')
    const privateCreator = 'PHI CREATOR QP0009Z'
    forbidden.add(privateText).add(privateCreator).add(token('P', '00291010')).add(token('P', '00191001'))
    dict['00090010'] = { vr: 'LO', Value: [privateCreator] }
    dict['00091001'] = { vr: 'LO', Value: [privateText] }
    dict['00091002'] = { vr: 'PN', Value: [{ Alphabetic: 'PrivateFamilyQ^PrivateGivenQ' }] }
    forbiddenNames.add('PrivateFamilyQ^PrivateGivenQ')
    dict['00290010'] = { vr: 'LO', Value: ['ACME 1.1'] }
    dict['00291010'] = { vr: 'OB', Value: [bytesOf(token('P', '00291010'), 2)] }
    dict['00110010'] = { vr: 'LO', Value: ['ACME SEQ'] }
    dict['00111001'] = {
      vr: 'SQ',
      Value: [{ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'PrivSeqFamilyQ^PrivSeqGivenQ' }] } }],
    }
    forbiddenNames.add('PrivSeqFamilyQ^PrivSeqGivenQ')
    level1['00190010'] = { vr: 'LO', Value: ['ACME NESTED'] }
    level1['00191001'] = { vr: 'LO', Value: [token('P', '00191001')] }

    // Curves and overlays.
    for (const tag of ['50000022', '60000022', '60001500', '60004000']) forbidden.add(token('G', tag))
    forbidden.add(token('G', '50003000')).add(token('G', '60003000'))
    dict['50000005'] = { vr: 'US', Value: [1] }
    dict['50000022'] = { vr: 'LO', Value: [token('G', '50000022')] }
    dict['50003000'] = { vr: 'OW', Value: [bytesOf(token('G', '50003000'), 2)] }
    dict['60000010'] = { vr: 'US', Value: [4] }
    dict['60000011'] = { vr: 'US', Value: [4] }
    dict['60000022'] = { vr: 'LO', Value: [token('G', '60000022')] }
    dict['60001500'] = { vr: 'LO', Value: [token('G', '60001500')] }
    dict['60003000'] = { vr: 'OW', Value: [bytesOf(token('G', '60003000'), 2)] }
    dict['60004000'] = { vr: 'LT', Value: [token('G', '60004000')] }

    if (part.name === 'sr') seedStructuredReport(dict, fixtureContent, fixtureObservers)
    else dict['0040A730'] = { vr: 'SQ', Value: [contentItems()[0] as DcmjsDataset] }

    // File meta with identifying extras, and a preamble full of text.
    const meta: DcmjsDataset = {
      ...original.meta,
      '00020003': uidElement(part.sop),
      '00020016': { vr: 'AE', Value: ['SRCAEQ0002Z'] },
      '00020100': uidElement(`${UID_ROOT}.8.1`),
      '00020102': { vr: 'OB', Value: [bytesOf('PRIVATEINFOQ0002Z', 2)] },
    }
    forbidden.add('SRCAEQ0002Z').add(`${UID_ROOT}.8.1`).add('PRIVATEINFOQ0002Z').add('PREAMBLEPHIQ')
    const writer = new dcmjs.data.DicomDict(meta)
    writer.dict = dict
    collectRetained(dict)
    const bytes = new Uint8Array(writer.write({ allowInvalidVRLength: true }))
    bytes.set(new TextEncoder().encode('PREAMBLEPHIQ'.repeat(10)), 0)
    return { name: part.name, bytes, input: dict, top }
  })
}

/** SR content items carrying PHI: text, a person, a date, a UID reference and an image reference. */
function contentItems(): DcmjsDataset[] {
  forbidden.add('SRTEXTQ0040A160Z').add('DeepTextQ0040A160Z')
  forbiddenNames.add('ContentFamilyQ^ContentGivenQ')
  return [
    {
      '0040A010': { vr: 'CS', Value: ['CONTAINS'] },
      '0040A040': { vr: 'CS', Value: ['TEXT'] },
      '0040A043': { vr: 'SQ', Value: [codeItem('121106', 'Comment')] },
      '0040A160': { vr: 'UT', Value: ['SRTEXTQ0040A160Z'] },
    },
    {
      '0040A010': { vr: 'CS', Value: ['HAS OBS CONTEXT'] },
      '0040A040': { vr: 'CS', Value: ['PNAME'] },
      '0040A043': { vr: 'SQ', Value: [codeItem('121008', 'Person Observer Name')] },
      '0040A123': { vr: 'PN', Value: [{ Alphabetic: 'ContentFamilyQ^ContentGivenQ' }] },
    },
    {
      '0040A010': { vr: 'CS', Value: ['HAS OBS CONTEXT'] },
      '0040A040': { vr: 'CS', Value: ['DATE'] },
      '0040A043': { vr: 'SQ', Value: [codeItem('111060', 'Study Date')] },
      '0040A121': { vr: 'DA', Value: [DATE] },
    },
    {
      '0040A010': { vr: 'CS', Value: ['HAS OBS CONTEXT'] },
      '0040A040': { vr: 'CS', Value: ['UIDREF'] },
      '0040A043': { vr: 'SQ', Value: [codeItem('110180', 'Study Instance UID')] },
      '0040A124': uidElement(STUDY_UID),
    },
    {
      '0040A010': { vr: 'CS', Value: ['CONTAINS'] },
      '0040A040': { vr: 'CS', Value: ['IMAGE'] },
      '0040A043': { vr: 'SQ', Value: [codeItem('121112', 'Source of Measurement')] },
      '00081199': { vr: 'SQ', Value: [{ '00081150': uidElement(CT_CLASS), '00081155': uidElement(CT_SOP) }] },
    },
    {
      '0040A010': { vr: 'CS', Value: ['CONTAINS'] },
      '0040A040': { vr: 'CS', Value: ['CONTAINER'] },
      '0040A043': { vr: 'SQ', Value: [codeItem('111028', 'Image Library')] },
      '0040A730': {
        vr: 'SQ',
        Value: [
          {
            '0040A010': { vr: 'CS', Value: ['CONTAINS'] },
            '0040A040': { vr: 'CS', Value: ['TEXT'] },
            '0040A043': { vr: 'SQ', Value: [codeItem('121106', 'Comment')] },
            '0040A160': { vr: 'UT', Value: ['DeepTextQ0040A160Z'] },
          },
        ],
      },
    },
  ]
}

function seedStructuredReport(
  dict: DcmjsDataset,
  fixtureContent: DcmjsElement | undefined,
  fixtureObservers: DcmjsElement | undefined,
): void {
  // Keep the fixture's content tree (and its verifying observers) and add PHI-bearing items beside it,
  // including one container whose item holds every table row.
  const tree = ((fixtureContent?.Value ?? []) as DcmjsDataset[]).slice()
  const everything: DcmjsDataset = {
    '0040A010': { vr: 'CS', Value: ['CONTAINS'] },
    '0040A040': { vr: 'CS', Value: ['CONTAINER'] },
    '0040A043': { vr: 'SQ', Value: [codeItem('111028', 'Image Library')] },
  }
  seedTable(everything, 'S')
  dict['0040A730'] = { vr: 'SQ', Value: [...tree, ...contentItems(), everything] }
  const observers = ((fixtureObservers?.Value ?? []) as DcmjsDataset[]).slice()
  dict['0040A073'] = { vr: 'SQ', Value: observers }
  // Evidence: what a viewer follows from the report to the images.
  dict['0040A375'] = {
    vr: 'SQ',
    Value: [
      {
        '0020000D': uidElement(STUDY_UID),
        '00081115': {
          vr: 'SQ',
          Value: [
            {
              '0020000E': uidElement(CT_SERIES_UID),
              '00081199': {
                vr: 'SQ',
                Value: [{ '00081150': uidElement(CT_CLASS), '00081155': uidElement(CT_SOP) }],
              },
            },
          ],
        },
      },
    ],
  }
}

// ---------------------------------------------------------------------------------------------------------
// Checks

function scanVariants(): Array<{ label: string; needle: Uint8Array }> {
  const texts = new Set<string>()
  for (const value of forbidden) texts.add(value)
  for (const value of harvested) if (!retainedText.some((text) => text.includes(value))) texts.add(value)
  for (const name of forbiddenNames) {
    const parts = name.split(/[\^=]/).filter((part) => part.length >= 4)
    for (const part of parts) texts.add(part)
    const [family = '', given = ''] = name.split('^')
    texts.add(name).add(`${given} ${family}`).add(`${family}, ${given}`).add(`${family} ${given}`)
  }
  const needles: Array<{ label: string; needle: Uint8Array }> = []
  for (const text of texts) {
    if (text.trim().length < 6) continue
    for (const variant of new Set([text, text.toUpperCase(), text.toLowerCase()])) {
      needles.push({ label: `utf8:${variant}`, needle: new TextEncoder().encode(variant) })
      if ([...variant].every((ch) => (ch.codePointAt(0) ?? 0) <= 0xff) && /[^\x20-\x7e]/.test(variant)) {
        needles.push({
          label: `latin1:${variant}`,
          needle: Uint8Array.from([...variant].map((ch) => ch.charCodeAt(0))),
        })
      }
    }
  }
  return needles
}

/**
 * Where `needle` occurs; a number (date, time, numeric string) only counts when no digit touches it, since the
 * new 2.25 UIDs are 39 random digits in which any short digit run turns up now and then.
 */
function indexOfValue(buffer: Buffer, needle: Uint8Array): number {
  const numeric = needle.every((byte) => (byte >= 0x30 && byte <= 0x39) || byte === 0x2e)
  const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39
  for (let at = buffer.indexOf(needle); at !== -1; at = buffer.indexOf(needle, at + 1)) {
    if (!numeric || (!isDigit(buffer[at - 1]) && !isDigit(buffer[at + needle.length]))) return at
  }
  return -1
}

function findNeedles(haystack: Uint8Array, needles: Array<{ label: string; needle: Uint8Array }>): string[] {
  const buffer = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength)
  const hits: string[] = []
  for (const { label, needle } of needles) {
    const at = indexOfValue(buffer, needle)
    if (at === -1) continue
    const context = buffer.subarray(Math.max(0, at - 24), at + needle.length + 8).toString('latin1')
    hits.push(`${label} @${at} …${context.replace(/[^\x20-\x7e]/g, '.')}…`)
  }
  return hits
}

function firstValue(element: DcmjsElement | undefined): unknown {
  return Array.isArray(element?.Value) ? element.Value[0] : undefined
}

function isEmpty(element: DcmjsElement): boolean {
  const values = element.Value ?? []
  return values.every(
    (value) =>
      value === '' ||
      value === null ||
      (value instanceof ArrayBuffer && value.byteLength === 0) ||
      (typeof value === 'object' && value !== null && !(value instanceof ArrayBuffer) && element.vr === 'PN'
        ? Object.values(value).every((part) => !part)
        : false),
  )
}

const NEW_UID = /^2\.25\.(0|[1-9]\d{0,38})$/

/** Checks every seeded table row in `dataset` against its action; returns the problems found. */
function checkActions(dataset: DcmjsDataset, seeded: Map<string, DcmjsElement>, where: string): string[] {
  const problems: string[] = []
  const remapper = createUidRemapper({ secret: SECRET })
  for (const [tag, input] of seeded) {
    const entry = BASIC_PROFILE_TABLE.get(tag)
    if (!entry) continue
    const output = dataset[tag]
    const label = `${where} ${tag} ${entry.name} (${entry.code})`
    // Command elements (0000,xxxx) have no place in a dataset: removed whatever their row says.
    if (entry.action === 'X' || tag.startsWith('0000')) {
      if (output) problems.push(`${label}: still present`)
      continue
    }
    if (!output) {
      problems.push(`${label}: missing`)
      continue
    }
    if (entry.action === 'Z') {
      if (input.vr === 'SQ' ? (output.Value ?? []).length !== 0 : !isEmpty(output))
        problems.push(`${label}: not empty`)
      continue
    }
    if (input.vr === 'UI') {
      const expected = remapper.remap(String(firstValue(input)))
      if (firstValue(output) !== expected || !NEW_UID.test(String(firstValue(output)))) {
        problems.push(`${label}: UID not remapped consistently`)
      }
      continue
    }
    if (input.vr === 'SQ') {
      if ((output.Value ?? []).length === 0) problems.push(`${label}: sequence emptied`)
      continue
    }
    if (entry.action === 'D') {
      const value = firstValue(output)
      const dummy =
        input.vr === 'PN'
          ? (value as { Alphabetic?: string })?.Alphabetic === DUMMY_VALUES.personName
          : value === DUMMY_VALUES.text ||
            value === DUMMY_VALUES.date ||
            value === DUMMY_VALUES.time ||
            value === DUMMY_VALUES.dateTime ||
            value === DUMMY_VALUES.age ||
            value === 0 ||
            (value instanceof ArrayBuffer && new Uint8Array(value).every((byte) => byte === 0))
      if (!dummy) problems.push(`${label}: not a dummy (${String(value)})`)
    }
  }
  return problems
}

function dcmdump(
  path: string,
  extra: string[] = [],
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('dcmdump', ['-ll', 'warn', ...extra, path], { encoding: 'utf8' })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** Pixel data as dcmtk sees it: dcmdump +W writes each pixel data value (or fragment) to a .raw file. */
function pixelDumps(dir: string, path: string, label: string): Buffer[] {
  const out = join(dir, `pix-${label}`)
  mkdirSync(out, { recursive: true })
  const result = spawnSync('dcmdump', ['-q', '+W', out, path], { encoding: 'utf8' })
  expect(result.status).toBe(0)
  return readdirSync(out)
    .filter((file) => file.endsWith('.raw'))
    .sort((a, b) => Number(a.split('.').at(-2)) - Number(b.split('.').at(-2)))
    .map((file) => readFileSync(join(out, file)))
}

// ---------------------------------------------------------------------------------------------------------

describe('deidentifyStudy: a seeded study', () => {
  let built: Built[]
  let result: DeidentifyStudyReturnType
  let withBurnedIn: DeidentifyStudyReturnType
  let dir: string
  const uidMap = new Map<string, string>()

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pcmims-deid-'))
    built = buildStudy()
    result = await deidentifyStudy(
      built.map((b) => b.bytes),
      { secret: SECRET, uidMap },
    )
    withBurnedIn = await deidentifyStudy(
      built.map((b) => b.bytes),
      { secret: SECRET, includeBurnedIn: true },
    )
  })

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('seeds every Table E.1-1 row (the test covers the whole table)', () => {
    const sample = built[0]?.top
    expect(sample?.skipped).toEqual([])
    // All rows but the file meta one and the four identity UIDs set by the study structure.
    expect(sample?.seeded.size).toBe(BASIC_PROFILE_TABLE.size - 1 - 4)
    // And the seeded input really carries the PHI the scan looks for.
    const needles = scanVariants()
    const hits = findNeedles(built[0]?.bytes ?? new Uint8Array(), needles)
    expect(hits.length).toBeGreaterThan(600)
  })

  it('holds back burned-in images by default and includes them when asked', () => {
    const byIndex = new Map(result.held.map((h) => [h.index, h.reason]))
    expect(byIndex.get(1)).toBe('burned-in-annotation')
    expect(byIndex.get(5)).toBe('burned-in-annotation-unknown')
    expect(byIndex.get(6)).toBe('burned-in-annotation-unknown')
    expect(result.held).toHaveLength(3)
    expect(result.files.map((f) => f.index)).toEqual([0, 2, 3, 4, 7])
    expect(withBurnedIn.held).toEqual([])
    expect(withBurnedIn.files).toHaveLength(PARTS.length)
  })

  it('leaves none of the seeded values in any output file (byte scan, name forms, case variants)', () => {
    const needles = scanVariants()
    expect(needles.length).toBeGreaterThan(1000)
    const leaks: string[] = []
    for (const file of withBurnedIn.files) {
      for (const hit of findNeedles(file.bytes, needles)) leaks.push(`${PARTS[file.index]?.name}: ${hit}`)
    }
    expect(leaks).toEqual([])
  })

  it('applies the action of every row, at the top level and two sequence levels down', () => {
    const problems: string[] = []
    for (const file of withBurnedIn.files) {
      const { dict } = readDicom(file.bytes)
      const source = built[file.index]
      if (!source) throw new Error('no source')
      const name = source.name
      problems.push(...checkActions(dict, source.top.seeded, `${name} top`))
      const level1 = firstValue(dict['00082218']) as DcmjsDataset
      const level1In = firstValue(source.input['00082218']) as DcmjsDataset
      problems.push(...checkActions(level1, seededOf(level1In), `${name} depth1`))
      const level2 = firstValue(level1['00082220']) as DcmjsDataset
      const level2In = firstValue(level1In['00082220']) as DcmjsDataset
      problems.push(...checkActions(level2, seededOf(level2In), `${name} depth2`))
      for (const tag of Object.keys(dict)) {
        const group = Number.parseInt(tag.slice(0, 4), 16)
        if (group % 2 === 1) problems.push(`${name}: private ${tag} left`)
        if ((group & 0xff00) === 0x5000 || (group & 0xff00) === 0x6000) problems.push(`${name}: ${tag} left`)
      }
      expect(level1['00191001']).toBeUndefined()
    }
    expect(problems).toEqual([])
  })

  it('replaces the SR content tree values but keeps its structure and coded concepts', () => {
    const sr = withBurnedIn.files.find((f) => f.index === 7)
    const { dict } = readDicom(sr?.bytes ?? new Uint8Array())
    const items = (dict['0040A730']?.Value ?? []) as DcmjsDataset[]
    const source = built[7]?.input['0040A730']?.Value ?? []
    expect(items).toHaveLength(source.length)
    const texts: unknown[] = []
    const walk = (list: DcmjsDataset[]) => {
      for (const item of list) {
        if (item['0040A160']) texts.push(firstValue(item['0040A160']))
        walk((item['0040A730']?.Value ?? []) as DcmjsDataset[])
      }
    }
    walk(items)
    expect(texts.length).toBeGreaterThan(5)
    expect(new Set(texts)).toEqual(new Set([DUMMY_VALUES.text]))
    // Coded concepts stay (PS3.15 E.1.1 Note 10); value types and relationships too.
    const first = items[0] as DcmjsDataset
    expect(firstValue(first['0040A040'])).toBe('UIDREF')
    expect(firstValue((firstValue(first['0040A043']) as DcmjsDataset)['00080104'])).toBe('Some UID')
    // The verifying observer is replaced, its identification codes emptied.
    const observer = firstValue(dict['0040A073']) as DcmjsDataset
    expect((firstValue(observer['0040A075']) as { Alphabetic: string }).Alphabetic).toBe(
      DUMMY_VALUES.personName,
    )
    expect(firstValue(observer['0040A027'])).toBe(DUMMY_VALUES.text)
    expect(observer['0040A088']?.Value).toEqual([])
  })

  it('keeps UIDs consistent: same original → same new UID everywhere, references follow', () => {
    const out = new Map(withBurnedIn.files.map((f) => [PARTS[f.index]?.name ?? '', readDicom(f.bytes)]))
    const ct = out.get('ct')?.dict ?? {}
    const mr = out.get('mr')?.dict ?? {}
    const sc = out.get('sc-rle')?.dict ?? {}
    const sr = out.get('sr')?.dict ?? {}
    const newCtSop = String(firstValue(ct['00080018']))
    const newMrSop = String(firstValue(mr['00080018']))
    expect(newCtSop).toMatch(NEW_UID)
    expect(newCtSop).toBe(uidMap.get(CT_SOP))

    // One study, the series structure kept, a frame of reference shared by CT and MR.
    const studies = new Set([...out.values()].map((f) => firstValue(f.dict['0020000D'])))
    expect(studies.size).toBe(1)
    expect([...studies][0]).toBe(uidMap.get(STUDY_UID))
    expect(withBurnedIn.uids.studyInstanceUids).toEqual([...studies])
    const series = new Set([...out.values()].map((f) => firstValue(f.dict['0020000E'])))
    expect(series.size).toBe(new Set(PARTS.map((p) => p.series)).size)
    const frames = new Set(
      ['ct', 'ct-burned-in', 'mr', 'mr-implicit', 'mr-big-endian'].map((n) =>
        firstValue(out.get(n)?.dict['00200052']),
      ),
    )
    expect(frames.size).toBe(1)
    expect([...frames][0]).toBe(uidMap.get(FRAME_OF_REFERENCE_UID))
    const patientIds = new Set([...out.values()].map((f) => JSON.stringify(f.dict['00100020']?.Value)))
    expect(patientIds.size).toBe(1)

    // References inside sequences point at the new instances.
    const mrRef = firstValue(mr['00081140']) as DcmjsDataset
    expect(firstValue(mrRef['00081155'])).toBe(newCtSop)
    const scRef = firstValue(sc['00082112']) as DcmjsDataset
    expect(firstValue(scRef['00081155'])).toBe(newMrSop)
    const evidence = firstValue(sr['0040A375']) as DcmjsDataset
    expect(firstValue(evidence['0020000D'])).toBe([...studies][0])
    const evidenceSeries = firstValue(evidence['00081115']) as DcmjsDataset
    expect(firstValue(evidenceSeries['0020000E'])).toBe(firstValue(ct['0020000E']))
    expect(firstValue((firstValue(evidenceSeries['00081199']) as DcmjsDataset)['00081155'])).toBe(newCtSop)
    const imageItem = ((sr['0040A730']?.Value ?? []) as DcmjsDataset[]).find(
      (item) =>
        firstValue((firstValue(item['0040A043']) as DcmjsDataset | undefined)?.['00080100']) === '121112',
    )
    expect(firstValue((firstValue(imageItem?.['00081199']) as DcmjsDataset)['00081155'])).toBe(newCtSop)
    // The fixture's own predecessor reference (to an instance outside the set) is remapped too.
    const predecessor = firstValue(sr['0040A360']) as DcmjsDataset
    expect(firstValue(predecessor['0020000D'])).toMatch(NEW_UID)

    // Each file's meta names its new instance.
    for (const file of withBurnedIn.files) {
      const { meta, dict } = readDicom(file.bytes)
      expect(firstValue(meta['00020003'])).toBe(firstValue(dict['00080018']))
      expect(firstValue(meta['00020002'])).toBe(firstValue(dict['00080016']))
      expect(file.sopInstanceUid).toBe(firstValue(dict['00080018']))
    }
  })

  it('marks the copies de-identified and replaces file meta and preamble', () => {
    for (const file of withBurnedIn.files) {
      const { meta, dict } = readDicom(file.bytes)
      expect(firstValue(dict['00120062'])).toBe('YES')
      expect(dict['00120063']?.Value).toContain(DEIDENTIFICATION_METHOD)
      const code = firstValue(dict['00120064']) as DcmjsDataset
      expect([firstValue(code['00080100']), firstValue(code['00080102'])]).toEqual(['113100', 'DCM'])
      expect(firstValue(dict['00280303'])).toBe('REMOVED')
      expect(Object.keys(meta).sort()).toEqual([
        '00020001',
        '00020002',
        '00020003',
        '00020010',
        '00020012',
        '00020013',
      ])
      expect(firstValue(meta['00020012'])).toBe(DEIDENTIFY_IMPLEMENTATION_CLASS_UID)
      expect(firstValue(meta['00020013'])).toBe(DEIDENTIFY_IMPLEMENTATION_VERSION_NAME)
      expect(file.bytes.subarray(0, 128).every((byte) => byte === 0)).toBe(true)
      expect(new TextDecoder().decode(file.bytes.subarray(128, 132))).toBe('DICM')
    }
  })

  it('writes files dcmtk reads, with the same transfer syntax and byte-identical pixel data', () => {
    for (const file of withBurnedIn.files) {
      const name = PARTS[file.index]?.name ?? String(file.index)
      const source = built[file.index]
      const inputPath = join(dir, `${name}-in.dcm`)
      const outputPath = join(dir, `${name}-out.dcm`)
      writeFileSync(inputPath, source?.bytes ?? new Uint8Array())
      writeFileSync(outputPath, file.bytes)
      const dump = dcmdump(outputPath)
      expect(dump.status, `${name}: ${dump.stderr}`).toBe(0)
      expect(dump.stderr, name).not.toMatch(/^E:/m)
      expect(file.transferSyntaxUid).toBe(
        firstValue(readDicom(source?.bytes ?? new Uint8Array()).meta['00020010']),
      )
      if (name === 'sr') {
        expect(file.pixelData).toBe('none')
        continue
      }
      expect(file.pixelData, name).toBe('verbatim')
      const before = pixelDumps(dir, inputPath, `${name}-in`)
      const after = pixelDumps(dir, outputPath, `${name}-out`)
      expect(before.length, name).toBeGreaterThan(0)
      expect(after.length).toBe(before.length)
      for (const [i, chunk] of after.entries()) {
        expect(Buffer.compare(chunk, before[i] ?? Buffer.alloc(0)), `${name} #${i}`).toBe(0)
      }
    }
  })

  it('reads the deflated transfer syntax and writes explicit little endian', async () => {
    const deflated = join(dir, 'mr-deflated.dcm')
    writeFileSync(join(dir, 'mr-plain.dcm'), built[2]?.bytes ?? new Uint8Array())
    const converted = spawnSync('dcmconv', ['+td', join(dir, 'mr-plain.dcm'), deflated], { encoding: 'utf8' })
    expect(converted.status, converted.stderr).toBe(0)
    const input = new Uint8Array(readFileSync(deflated))
    expect(firstValue(readDicom(input).meta['00020010'])).toBe('1.2.840.10008.1.2.1.99')
    const copy = await deidentifyStudy([input], { secret: SECRET })
    const file = copy.files[0]
    expect(file?.transferSyntaxUid).toBe('1.2.840.10008.1.2.1')
    expect(file?.pixelData).toBe('re-encoded')
    expect(file?.sopInstanceUid).toBe(uidMap.get(MR_SOP))
    expect(findNeedles(file?.bytes ?? new Uint8Array(), scanVariants())).toEqual([])
    const path = join(dir, 'mr-deflated-out.dcm')
    writeFileSync(path, file?.bytes ?? new Uint8Array())
    expect(dcmdump(path).status).toBe(0)
    const before = pixelDumps(dir, join(dir, 'mr-plain.dcm'), 'mr-plain')
    const after = pixelDumps(dir, path, 'mr-deflated-out')
    expect(after).toEqual(before)
  })

  it('reports unreadable files as held, never passing them through', async () => {
    const truncated = built[0]?.bytes.subarray(0, 600) ?? new Uint8Array()
    const garbage = new TextEncoder().encode('not a dicom file at all')
    const mixed = await deidentifyStudy([truncated, garbage, built[2]?.bytes ?? new Uint8Array()], {
      secret: SECRET,
    })
    expect(mixed.files.map((f) => f.index)).toEqual([2])
    expect(mixed.held.map((h) => [h.index, h.reason])).toEqual([
      [0, 'unreadable'],
      [1, 'unreadable'],
    ])
  })

  it('stops when aborted', async () => {
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await expect(
      deidentifyStudy([built[0]?.bytes ?? new Uint8Array()], { secret: SECRET, signal: controller.signal }),
    ).rejects.toThrow('stop')
  })
})

function seededOf(item: DcmjsDataset): Map<string, DcmjsElement> {
  const map = new Map<string, DcmjsElement>()
  for (const [tag, element] of Object.entries(item)) if (BASIC_PROFILE_TABLE.has(tag)) map.set(tag, element)
  return map
}

describe('deidentifyStudy: properties', () => {
  const mr = new Uint8Array(readFileSync(new URL('MR_small.dcm', FIXTURES)))
  const phi = fc
    .tuple(
      fc.stringMatching(/^[A-Za-z]{6,12}$/),
      fc.stringMatching(/^[A-Za-z]{6,12}$/),
      fc.stringMatching(/^[0-9]{6,10}$/),
    )
    .map(([family, given, id]) => ({
      family: `Fam${family}`,
      given: `Giv${given}`,
      id: `ID${id}`,
      institution: `Inst${given}${family}`,
    }))
  const secret = fc.uint8Array({ minLength: 16, maxLength: 48 })

  function seeded(values: { family: string; given: string; id: string; institution: string }): Uint8Array {
    const { meta, dict } = readDicom(mr)
    dict['00100010'] = { vr: 'PN', Value: [{ Alphabetic: `${values.family}^${values.given}` }] }
    dict['00100020'] = { vr: 'LO', Value: [values.id] }
    dict['00080080'] = { vr: 'LO', Value: [values.institution] }
    dict['00081030'] = { vr: 'LO', Value: [`${values.given} study`] }
    const writer = new dcmjs.data.DicomDict(meta)
    writer.dict = dict
    return new Uint8Array(writer.write())
  }

  it('is deterministic for one secret and leaves none of the random PHI', async () => {
    await fc.assert(
      fc.asyncProperty(phi, secret, async (values, key) => {
        const input = seeded(values)
        const first = await deidentifyStudy([input], { secret: key })
        const second = await deidentifyStudy([input], { secret: key })
        const a = first.files[0]?.bytes ?? new Uint8Array()
        expect(Buffer.compare(a, second.files[0]?.bytes ?? new Uint8Array())).toBe(0)
        const haystack = Buffer.from(a)
        for (const text of [values.family, values.given, values.id, values.institution]) {
          for (const variant of [text, text.toUpperCase(), text.toLowerCase()])
            expect(haystack.includes(variant)).toBe(false)
        }
      }),
      { numRuns: 25 },
    )
  })

  it('gives unlinkable UIDs for different secrets', async () => {
    const originals = new Set<string>()
    const uidsOf = (bytes: Uint8Array): Set<string> => {
      const found = new Set<string>()
      const walk = (dataset: DcmjsDataset) => {
        for (const element of Object.values(dataset)) {
          if (element.vr === 'UI') for (const value of element.Value ?? []) found.add(String(value))
          if (element.vr === 'SQ') for (const item of (element.Value ?? []) as DcmjsDataset[]) walk(item)
        }
      }
      walk(readDicom(bytes).dict)
      return found
    }
    for (const uid of uidsOf(mr)) if (!uid.startsWith('1.2.840.10008.')) originals.add(uid)
    expect(originals.size).toBeGreaterThan(2)
    await fc.assert(
      fc.asyncProperty(secret, secret, async (keyA, keyB) => {
        fc.pre(Buffer.compare(keyA, keyB) !== 0)
        const a = uidsOf((await deidentifyStudy([mr], { secret: keyA })).files[0]?.bytes ?? new Uint8Array())
        const b = uidsOf((await deidentifyStudy([mr], { secret: keyB })).files[0]?.bytes ?? new Uint8Array())
        const remappedA = [...a].filter((uid) => uid.startsWith('2.25.'))
        expect(remappedA.length).toBe(originals.size)
        for (const uid of remappedA) expect(b.has(uid)).toBe(false)
        for (const uid of originals) expect(a.has(uid) || b.has(uid)).toBe(false)
      }),
      { numRuns: 25 },
    )
  })

  it('deidentifyFile: the same file with the same secret gives the same UIDs as within a study', () => {
    const alone = deidentifyFile(mr, { secret: SECRET })
    expect(alone.status).toBe('deidentified')
    const remapper = createUidRemapper({ secret: SECRET })
    const original = String(firstValue(readDicom(mr).dict['00080018']))
    if (alone.status === 'deidentified') expect(alone.sopInstanceUid).toBe(remapper.remap(original))
  })
})
