import type { DicomJsonDataset, StudyManifestInstance, StudyManifestSeries } from '@pcmims/core'
import { BadRequestError } from '../http/errors.js'
import type { IndexedStudy } from './study-index.js'

/** QIDO-RS study search keys (PS3.18 10.6.1.2), as they come from the query string. */
export type StudyQuery = {
  PatientName?: string | undefined
  PatientID?: string | undefined
  StudyDate?: string | undefined
  ModalitiesInStudy?: string | undefined
  AccessionNumber?: string | undefined
  StudyInstanceUID?: string | undefined
  fuzzymatching?: string | undefined
}

/** Single value matching with `*` and `?` wildcards (PS3.4 C.2.2.2.4); an empty key matches anything. */
export function wildcardMatch(pattern: string, value: string | undefined, caseInsensitive = false): boolean {
  if (pattern === '' || pattern === '*') return true
  if (value === undefined) return false
  const source = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('')
  return new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's').test(value)
}

/**
 * Person name matching: wildcards, case-insensitive (as most archives do for PN). With fuzzy matching,
 * every word of the key must begin a word of the name, in any order ("john do" finds "Doe^John").
 */
export function personNameMatch(pattern: string, name: string | undefined, fuzzy: boolean): boolean {
  if (pattern === '' || pattern === '*') return true
  if (name === undefined) return false
  if (wildcardMatch(pattern, name, true)) return true
  if (!fuzzy) return false
  const words = (text: string) =>
    text
      .toLowerCase()
      .split(/[\s^=,]+/)
      .filter((w) => w !== '')
  const nameWords = words(name)
  return words(pattern).every((key) => nameWords.some((word) => wildcardMatch(`${key}*`, word)))
}

/** DA range matching: `YYYYMMDD`, `a-b`, `-b`, `a-` (PS3.4 C.2.2.2.5). */
export function dateMatch(key: string, value: string | undefined): boolean {
  if (key === '') return true
  const clean = key.replaceAll('.', '')
  const range = /^(\d{8})?-(\d{8})?$/.exec(clean)
  if (!range && !/^\d{8}$/.test(clean)) throw new BadRequestError('StudyDate must be YYYYMMDD or a range a-b')
  if (value === undefined || !/^\d{8}$/.test(value)) return false
  if (!range) return value === clean
  const [, from, to] = range
  if (from === undefined && to === undefined) throw new BadRequestError('StudyDate range needs a bound')
  return (from === undefined || value >= from) && (to === undefined || value <= to)
}

/** UID list matching: UIDs separated by `,` or `\`. */
export function uidListMatch(key: string, value: string): boolean {
  if (key === '') return true
  return key
    .split(/[,\\]/)
    .map((u) => u.trim())
    .includes(value)
}

export function matchesStudy(entry: IndexedStudy, query: StudyQuery): boolean {
  const { study } = entry
  const fuzzy = query.fuzzymatching === 'true'
  if (!personNameMatch(query.PatientName ?? '', study.patient.name, fuzzy)) return false
  if (!wildcardMatch(query.PatientID ?? '', study.patient.id)) return false
  if (!dateMatch(query.StudyDate ?? '', study.studyDate)) return false
  if (!wildcardMatch(query.AccessionNumber ?? '', study.accessionNumber)) return false
  if (!uidListMatch(query.StudyInstanceUID ?? '', study.studyInstanceUid)) return false
  const modalities = (query.ModalitiesInStudy ?? '')
    .split(/[,\\]/)
    .map((m) => m.trim())
    .filter((m) => m !== '')
  if (modalities.length > 0 && !modalities.some((m) => study.modalities.some((s) => wildcardMatch(m, s)))) {
    return false
  }
  return true
}

/** Attributes beyond the required ones, returned with `includefield=all` or by keyword or tag. */
const OPTIONAL_STUDY_FIELDS: Record<string, string> = {
  PatientBirthDate: '00100030',
  PatientSex: '00100040',
  StudyTime: '00080030',
  ReferringPhysicianName: '00080090',
}

/** The `includefield` values: `all`, keywords or tags, comma-separated. */
export function includedFields(value: string | undefined): Set<string> {
  const out = new Set<string>()
  for (const part of (value ?? '').split(',')) {
    const key = part.trim()
    if (key === '') continue
    if (key === 'all') for (const tag of Object.values(OPTIONAL_STUDY_FIELDS)) out.add(tag)
    else out.add(OPTIONAL_STUDY_FIELDS[key] ?? key.toUpperCase())
  }
  return out
}

const str = (vr: string, value: string | undefined) =>
  value === undefined || value === '' ? { vr } : { vr, Value: [value] }
const pn = (value: string | undefined) =>
  value === undefined || value === '' ? { vr: 'PN' } : { vr: 'PN', Value: [{ Alphabetic: value }] }
const num = (vr: string, value: number | undefined) => (value === undefined ? { vr } : { vr, Value: [value] })

/** The study-level attributes of a QIDO-RS answer (PS3.18 Table 10.6.3-3). */
export function studyAttributes(
  entry: IndexedStudy,
  base: string,
  include: Set<string> = new Set(),
): DicomJsonDataset {
  const { study } = entry
  const out: DicomJsonDataset = {
    '00080020': str('DA', study.studyDate),
    '00080050': str('SH', study.accessionNumber),
    '00080061': study.modalities.length > 0 ? { vr: 'CS', Value: [...study.modalities] } : { vr: 'CS' },
    '00081030': str('LO', study.studyDescription),
    '00081190': { vr: 'UR', Value: [`${base}/studies/${study.studyInstanceUid}`] },
    '00100010': pn(study.patient.name),
    '00100020': str('LO', study.patient.id),
    '0020000D': { vr: 'UI', Value: [study.studyInstanceUid] },
    '00201206': num('IS', study.numberOfSeries),
    '00201208': num('IS', study.numberOfInstances),
  }
  const optional: DicomJsonDataset = {
    '00080030': str('TM', study.studyTime),
    '00080090': pn(study.referringPhysicianName),
    '00100030': str('DA', study.patient.birthDate),
    '00100040': str('CS', study.patient.sex),
  }
  for (const [tag, element] of Object.entries(optional)) if (include.has(tag)) out[tag] = element
  return sortTags(out)
}

export function seriesAttributes(
  entry: IndexedStudy,
  series: StudyManifestSeries,
  base: string,
): DicomJsonDataset {
  const study = entry.study.studyInstanceUid
  return sortTags({
    '00080060': str('CS', series.modality),
    '0008103E': str('LO', series.seriesDescription),
    '00081190': { vr: 'UR', Value: [`${base}/studies/${study}/series/${series.seriesInstanceUid}`] },
    '0020000D': { vr: 'UI', Value: [study] },
    '0020000E': { vr: 'UI', Value: [series.seriesInstanceUid] },
    '00200011': num('IS', series.seriesNumber),
    '00201209': num('IS', series.instances.length),
  })
}

export function instanceAttributes(
  entry: IndexedStudy,
  series: StudyManifestSeries,
  instance: StudyManifestInstance,
  base: string,
): DicomJsonDataset {
  const study = entry.study.studyInstanceUid
  const url = `${base}/studies/${study}/series/${series.seriesInstanceUid}/instances/${instance.sopInstanceUid}`
  return sortTags({
    '00080016': str('UI', instance.sopClassUid),
    '00080018': { vr: 'UI', Value: [instance.sopInstanceUid] },
    '00081190': { vr: 'UR', Value: [url] },
    '00083002': str('UI', instance.transferSyntaxUid),
    '0020000D': { vr: 'UI', Value: [study] },
    '0020000E': { vr: 'UI', Value: [series.seriesInstanceUid] },
    '00200013': num('IS', instance.instanceNumber),
    '00280008': num('IS', instance.numberOfFrames),
    '00280010': num('US', instance.rows),
    '00280011': num('US', instance.columns),
  })
}

function sortTags(dataset: DicomJsonDataset): DicomJsonDataset {
  return Object.fromEntries(Object.entries(dataset).sort(([a], [b]) => a.localeCompare(b)))
}

/** `limit` and `offset` of a QIDO-RS query (limit capped so one answer stays small). */
export function page<T>(items: T[], limit: string | undefined, offset: string | undefined, max = 1000): T[] {
  const start = offset === undefined ? 0 : Number(offset)
  const count = limit === undefined ? max : Math.min(Number(limit), max)
  return items.slice(start, start + count)
}
