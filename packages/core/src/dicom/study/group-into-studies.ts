import { DicomStudyError } from '../errors.js'
import type { InstanceMetadata } from '../metadata/extract-instance-metadata.js'

/** Either the metadata itself or anything carrying it (a parse result plus its bytes, say). */
export type GroupableInstance = InstanceMetadata | { metadata: InstanceMetadata }

export type DicomPatient = {
  name?: string | undefined
  id?: string | undefined
  birthDate?: string | undefined
  sex?: string | undefined
}

export type DicomSeriesGroup<T> = {
  seriesInstanceUid: string
  seriesNumber?: number | undefined
  modality?: string | undefined
  seriesDescription?: string | undefined
  /** Sorted by Instance Number, then SOP Instance UID. */
  instances: T[]
}

export type DicomStudyGroup<T> = {
  studyInstanceUid: string
  patient: DicomPatient
  studyDate?: string | undefined
  studyTime?: string | undefined
  accessionNumber?: string | undefined
  studyDescription?: string | undefined
  referringPhysicianName?: string | undefined
  /** Sorted by Series Number, then Series Instance UID. */
  series: DicomSeriesGroup<T>[]
}

function metadataOf(instance: GroupableInstance): InstanceMetadata {
  return 'metadata' in instance && typeof instance.metadata === 'object' && instance.metadata !== null
    ? instance.metadata
    : (instance as InstanceMetadata)
}

/** Case, padding and trailing empty components do not make a different name. */
function normalizeName(name: string | undefined): string {
  return (name ?? '')
    .trim()
    .replace(/[\^=\s]+$/, '')
    .replace(/\^+(=|$)/g, '$1')
    .toUpperCase()
}

/**
 * Groups instances into studies, series and instances. Refuses (with {@link DicomStudyError}) a study whose
 * instances name different patients (Patient ID or Patient Name differ; Birth Date and Sex when both are
 * given), an instance without Study, Series or SOP Instance UID, the same SOP Instance UID twice, and a
 * series that appears in two studies. Never guesses which patient is right.
 */
export function groupIntoStudies<T extends GroupableInstance>(instances: readonly T[]): DicomStudyGroup<T>[] {
  const studies = new Map<string, { study: DicomStudyGroup<T>; series: Map<string, DicomSeriesGroup<T>> }>()
  const seriesStudy = new Map<string, string>()
  const seen = new Set<string>()

  for (const instance of instances) {
    const m = metadataOf(instance)
    const missing = [
      ['Study Instance UID', m.studyInstanceUid],
      ['Series Instance UID', m.seriesInstanceUid],
      ['SOP Instance UID', m.sopInstanceUid],
    ].filter(([, uid]) => !uid)
    if (missing.length > 0) {
      throw new DicomStudyError(
        'DICOM_MISSING_UID',
        `an instance has no ${missing.map(([name]) => name).join(', ')}`,
        {
          details: m.sopInstanceUid ? `SOP Instance UID ${m.sopInstanceUid}` : undefined,
        },
      )
    }
    const studyUid = m.studyInstanceUid!
    const seriesUid = m.seriesInstanceUid!
    const sopUid = m.sopInstanceUid!
    if (seen.has(sopUid)) {
      throw new DicomStudyError(
        'DICOM_DUPLICATE_INSTANCE',
        `SOP Instance UID ${sopUid} appears more than once`,
      )
    }
    seen.add(sopUid)
    const owner = seriesStudy.get(seriesUid)
    if (owner !== undefined && owner !== studyUid) {
      throw new DicomStudyError('DICOM_SERIES_CONFLICT', `series ${seriesUid} appears in two studies`, {
        details: `studies ${owner} and ${studyUid}`,
      })
    }
    seriesStudy.set(seriesUid, studyUid)

    let entry = studies.get(studyUid)
    if (!entry) {
      entry = {
        study: compact({
          studyInstanceUid: studyUid,
          patient: compact({
            name: m.patientName,
            id: m.patientId,
            birthDate: m.patientBirthDate,
            sex: m.patientSex,
          }),
          studyDate: m.studyDate,
          studyTime: m.studyTime,
          accessionNumber: m.accessionNumber,
          studyDescription: m.studyDescription,
          referringPhysicianName: m.referringPhysicianName,
          series: [],
        }),
        series: new Map(),
      }
      studies.set(studyUid, entry)
    } else {
      checkSamePatient(entry.study, m)
      fillMissing(entry.study, m)
    }

    let series = entry.series.get(seriesUid)
    if (!series) {
      series = compact({
        seriesInstanceUid: seriesUid,
        seriesNumber: m.seriesNumber,
        modality: m.modality,
        seriesDescription: m.seriesDescription,
        instances: [] as T[],
      })
      entry.series.set(seriesUid, series)
      entry.study.series.push(series)
    }
    series.instances.push(instance)
  }

  const result = [...studies.values()].map(({ study }) => {
    for (const series of study.series) {
      series.instances.sort((a, b) => {
        const ma = metadataOf(a)
        const mb = metadataOf(b)
        return byNumberThenText(ma.instanceNumber, mb.instanceNumber, ma.sopInstanceUid!, mb.sopInstanceUid!)
      })
    }
    study.series.sort((a, b) =>
      byNumberThenText(a.seriesNumber, b.seriesNumber, a.seriesInstanceUid, b.seriesInstanceUid),
    )
    return study
  })
  result.sort((a, b) => {
    const ka = `${a.studyDate ?? ''}${a.studyTime ?? ''}`
    const kb = `${b.studyDate ?? ''}${b.studyTime ?? ''}`
    return ka === kb ? compareText(a.studyInstanceUid, b.studyInstanceUid) : compareText(ka, kb)
  })
  return result
}

function checkSamePatient(study: DicomStudyGroup<unknown>, m: InstanceMetadata) {
  const p = study.patient
  const differs: string[] = []
  if ((p.id ?? '').trim() !== (m.patientId ?? '').trim()) differs.push('Patient ID')
  if (normalizeName(p.name) !== normalizeName(m.patientName)) differs.push("Patient's Name")
  if (p.birthDate && m.patientBirthDate && p.birthDate !== m.patientBirthDate)
    differs.push("Patient's Birth Date")
  if (p.sex && m.patientSex && p.sex.toUpperCase() !== m.patientSex.toUpperCase())
    differs.push("Patient's Sex")
  if (differs.length > 0) {
    // No names or IDs in the message: they are PHI and messages end up in logs.
    throw new DicomStudyError(
      'DICOM_MIXED_PATIENTS',
      `study ${study.studyInstanceUid} holds instances of different patients (${differs.join(', ')} differ)`,
      { details: `SOP Instance UID ${m.sopInstanceUid}` },
    )
  }
}

/** Study-level attributes missing on the first instance are taken from a later one. */
function fillMissing(study: DicomStudyGroup<unknown>, m: InstanceMetadata) {
  const take = <K extends keyof DicomStudyGroup<unknown>>(
    key: K,
    value: DicomStudyGroup<unknown>[K] | undefined,
  ) => {
    if (study[key] === undefined && value !== undefined) study[key] = value
  }
  take('studyDate', m.studyDate)
  take('studyTime', m.studyTime)
  take('accessionNumber', m.accessionNumber)
  take('studyDescription', m.studyDescription)
  take('referringPhysicianName', m.referringPhysicianName)
  if (study.patient.birthDate === undefined && m.patientBirthDate !== undefined)
    study.patient.birthDate = m.patientBirthDate
  if (study.patient.sex === undefined && m.patientSex !== undefined) study.patient.sex = m.patientSex
}

function byNumberThenText(a: number | undefined, b: number | undefined, ta: string, tb: string): number {
  if (a !== undefined && b !== undefined && a !== b) return a - b
  if (a === undefined && b !== undefined) return 1
  if (a !== undefined && b === undefined) return -1
  return compareText(ta, tb)
}

function compareText(a: string, b: string) {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Drops undefined properties so results stay plain and comparable. */
function compact<O extends object>(object: O): O {
  for (const key of Object.keys(object) as (keyof O)[]) {
    if (object[key] === undefined) delete object[key]
  }
  return object
}
