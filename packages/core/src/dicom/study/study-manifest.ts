import { z } from 'zod'
import type { InstanceMetadata } from '../metadata/extract-instance-metadata.js'
import type { DicomStudyGroup, GroupableInstance } from './group-into-studies.js'

export const STUDY_MANIFEST_TYPE = 'pcmims/dicom-study'
/** Bounds so a hostile manifest cannot make a reader allocate without limit. */
export const STUDY_MANIFEST_LIMITS = { maxSeries: 10_000, maxInstances: 100_000, maxText: 1024 }

const text = z.string().max(STUDY_MANIFEST_LIMITS.maxText)
// PS3.5 allows 64 characters; real files exceed it now and then, and reading them is better than refusing.
const uid = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[0-9.]+$/)
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
const numbers = z.array(z.number()).max(64)

const instanceSchema = z.strictObject({
  sopInstanceUid: uid,
  sopClassUid: uid.optional(),
  instanceNumber: z.number().int().optional(),
  transferSyntaxUid: uid.optional(),
  rows: count.optional(),
  columns: count.optional(),
  numberOfFrames: count.optional(),
  bitsAllocated: count.optional(),
  bitsStored: count.optional(),
  photometricInterpretation: text.optional(),
  windowCenter: numbers.optional(),
  windowWidth: numbers.optional(),
  rescaleSlope: z.number().optional(),
  rescaleIntercept: z.number().optional(),
  burnedInAnnotation: text.optional(),
  /** Where the instance's file is in the record (relative path), when the caller says. */
  path: text.optional(),
})

const seriesSchema = z.strictObject({
  seriesInstanceUid: uid,
  seriesNumber: z.number().int().optional(),
  modality: text.optional(),
  seriesDescription: text.optional(),
  instances: z.array(instanceSchema).min(1).max(STUDY_MANIFEST_LIMITS.maxInstances),
})

/** Validates a {@link StudyManifest} read back from storage (strict: unknown keys are refused). */
export const studyManifestSchema = z.strictObject({
  type: z.literal(STUDY_MANIFEST_TYPE),
  studyInstanceUid: uid,
  patient: z.strictObject({
    name: text.optional(),
    id: text.optional(),
    birthDate: text.optional(),
    sex: text.optional(),
  }),
  studyDate: text.optional(),
  studyTime: text.optional(),
  accessionNumber: text.optional(),
  studyDescription: text.optional(),
  referringPhysicianName: text.optional(),
  modalities: z.array(text).max(64),
  numberOfSeries: count,
  numberOfInstances: count,
  series: z.array(seriesSchema).min(1).max(STUDY_MANIFEST_LIMITS.maxSeries),
})

/** The study / series / instance hierarchy of one study as a plain, JSON- and CBOR-safe object. */
export type StudyManifest = z.infer<typeof studyManifestSchema>
export type StudyManifestSeries = StudyManifest['series'][number]
export type StudyManifestInstance = StudyManifestSeries['instances'][number]

export type ToStudyManifestParameters<T> = {
  /** Relative path of an instance's file inside the record, recorded as `path`. */
  path?: ((instance: T) => string | undefined) | undefined
}

const INSTANCE_KEYS = [
  'sopClassUid',
  'instanceNumber',
  'transferSyntaxUid',
  'rows',
  'columns',
  'numberOfFrames',
  'bitsAllocated',
  'bitsStored',
  'photometricInterpretation',
  'windowCenter',
  'windowWidth',
  'rescaleSlope',
  'rescaleIntercept',
  'burnedInAnnotation',
] as const satisfies readonly (keyof InstanceMetadata)[]

/** Describes a grouped study (from `groupIntoStudies`) for the record manifest. */
export function toStudyManifest<T extends GroupableInstance>(
  study: DicomStudyGroup<T>,
  parameters: ToStudyManifestParameters<T> = {},
): StudyManifest {
  const modalities = [...new Set(study.series.map((s) => s.modality).filter((m): m is string => !!m))].sort()
  const manifest: StudyManifest = {
    type: STUDY_MANIFEST_TYPE,
    studyInstanceUid: study.studyInstanceUid,
    patient: defined({ ...study.patient }),
    ...defined({
      studyDate: study.studyDate,
      studyTime: study.studyTime,
      accessionNumber: study.accessionNumber,
      studyDescription: study.studyDescription,
      referringPhysicianName: study.referringPhysicianName,
    }),
    modalities,
    numberOfSeries: study.series.length,
    numberOfInstances: study.series.reduce((sum, s) => sum + s.instances.length, 0),
    series: study.series.map((series) => ({
      seriesInstanceUid: series.seriesInstanceUid,
      ...defined({
        seriesNumber: series.seriesNumber,
        modality: series.modality,
        seriesDescription: series.seriesDescription,
      }),
      instances: series.instances.map((instance) => {
        const m =
          'metadata' in instance ? (instance.metadata as InstanceMetadata) : (instance as InstanceMetadata)
        const out: StudyManifestInstance = { sopInstanceUid: m.sopInstanceUid! }
        for (const key of INSTANCE_KEYS) {
          const value = m[key]
          if (value !== undefined) (out as Record<string, unknown>)[key] = value
        }
        const path = parameters.path?.(instance)
        if (path !== undefined) out.path = path
        return out
      }),
    })),
  }
  return manifest
}

function defined<O extends Record<string, unknown>>(object: O): { [K in keyof O]: Exclude<O[K], undefined> } {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(object)) if (value !== undefined) out[key] = value
  return out as { [K in keyof O]: Exclude<O[K], undefined> }
}
