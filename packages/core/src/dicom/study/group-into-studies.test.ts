import { readFile } from 'node:fs/promises'
import * as dagCbor from '@ipld/dag-cbor'
import { describe, expect, test } from 'vitest'
import { DicomStudyError } from '../errors.js'
import { extractInstanceMetadata, type InstanceMetadata } from '../metadata/extract-instance-metadata.js'
import { parseDicomFile } from '../parse/parse-dicom-file.js'
import { groupIntoStudies } from './group-into-studies.js'
import { studyManifestSchema, toStudyManifest } from './study-manifest.js'

const FIXTURES = new URL('../../../../../fixtures/dicom/valid/', import.meta.url)
const metadataOf = async (name: string) =>
  extractInstanceMetadata(
    parseDicomFile(new Uint8Array(await readFile(new URL(name, FIXTURES))), { fileName: name }),
  )

function instance(overrides: Partial<InstanceMetadata>): InstanceMetadata {
  return {
    patientName: 'Doe^Jane',
    patientId: 'MRN1',
    patientBirthDate: '19800101',
    patientSex: 'F',
    studyInstanceUid: '1.2.1',
    seriesInstanceUid: '1.2.1.1',
    sopInstanceUid: `1.2.1.1.${Math.random().toString().slice(2, 10)}`,
    modality: 'CT',
    ...overrides,
  }
}

function studyError(fn: () => unknown) {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(DicomStudyError)
    return error as DicomStudyError
  }
  throw new Error('expected a DicomStudyError')
}

describe('groupIntoStudies', () => {
  test('studies, series and instances, sorted by series number then instance number', () => {
    const items = [
      instance({ seriesInstanceUid: 'S2', seriesNumber: 2, instanceNumber: 2, sopInstanceUid: '9.2' }),
      instance({ seriesInstanceUid: 'S1', seriesNumber: 10, instanceNumber: 1, sopInstanceUid: '9.3' }),
      instance({ seriesInstanceUid: 'S2', seriesNumber: 2, instanceNumber: 1, sopInstanceUid: '9.1' }),
      instance({ seriesInstanceUid: 'S2', seriesNumber: 2, sopInstanceUid: '9.0' }),
      instance({ seriesInstanceUid: 'S3', sopInstanceUid: '9.4' }),
      instance({
        studyInstanceUid: '1.2.0',
        studyDate: '20200101',
        seriesInstanceUid: 'T1',
        sopInstanceUid: '8.1',
      }),
    ].map((metadata, i) => ({ metadata, id: i }))
    const studies = groupIntoStudies(items)
    expect(studies.map((s) => s.studyInstanceUid)).toEqual(['1.2.1', '1.2.0'])
    const [first] = studies
    expect(first!.series.map((s) => s.seriesInstanceUid)).toEqual(['S2', 'S1', 'S3'])
    expect(first!.series[0]!.instances.map((i) => i.metadata.sopInstanceUid)).toEqual(['9.1', '9.2', '9.0'])
    expect(first!.series[0]!.instances[0]!.id).toBe(2)
    expect(first!.patient).toEqual({ name: 'Doe^Jane', id: 'MRN1', birthDate: '19800101', sex: 'F' })
  })

  test('real files: two NM instances of one study in one series; the SR of another patient apart', async () => {
    const files = ['JPEG-lossy.dcm', 'JPEG2000.dcm', 'test-SR.dcm', 'CT_small.dcm']
    const studies = groupIntoStudies(await Promise.all(files.map(metadataOf)))
    const byModality = new Map(studies.map((s) => [s.series[0]!.modality, s]))
    expect(studies).toHaveLength(3)
    const nm = byModality.get('NM')!
    expect(nm.series.flatMap((s) => s.instances)).toHaveLength(2)
    expect(nm.patient.name).toBe('CompressedSamples^NM1')
  })

  test('the same instance in several transfer syntaxes is a duplicate, not two instances', async () => {
    const copies = await Promise.all(
      ['MR_small.dcm', 'MR_small_implicit.dcm', 'MR_small_RLE.dcm'].map(metadataOf),
    )
    expect(studyError(() => groupIntoStudies(copies)).code).toBe('DICOM_DUPLICATE_INSTANCE')
  })

  test.each([
    ['Patient ID', { patientId: 'MRN2' }],
    ["Patient's Name", { patientName: 'Doe^John' }],
    ["Patient's Birth Date", { patientBirthDate: '19800102' }],
    ["Patient's Sex", { patientSex: 'M' }],
    ['Patient ID', { patientId: undefined }],
  ])('mixed patients in one study are refused (%s differs), without PHI in the message', (what, change) => {
    const error = studyError(() => groupIntoStudies([instance({}), instance(change)]))
    expect(error.code).toBe('DICOM_MIXED_PATIENTS')
    expect(error.message).toContain(what)
    expect(error.message).toContain('1.2.1')
    expect(error.message).not.toMatch(/Doe|MRN|1980/)
  })

  test('names differing only in case, padding or empty trailing components are the same patient', () => {
    const studies = groupIntoStudies([
      instance({ patientName: 'DOE^JANE' }),
      instance({ patientName: 'Doe^Jane^^^' }),
      instance({ patientName: ' doe^jane ', patientBirthDate: undefined, patientSex: undefined }),
    ])
    expect(studies).toHaveLength(1)
  })

  test('instances missing a UID, and a series split across studies, are refused', () => {
    expect(studyError(() => groupIntoStudies([instance({ seriesInstanceUid: undefined })])).code).toBe(
      'DICOM_MISSING_UID',
    )
    expect(
      studyError(() =>
        groupIntoStudies([
          instance({}),
          instance({ studyInstanceUid: '1.2.9', seriesInstanceUid: '1.2.1.1' }),
        ]),
      ).code,
    ).toBe('DICOM_SERIES_CONFLICT')
  })
})

describe('toStudyManifest', () => {
  test('a plain, schema-valid, CBOR-encodable description of the hierarchy', async () => {
    const files = ['JPEG-lossy.dcm', 'JPEG2000.dcm']
    const items = await Promise.all(files.map(async (name) => ({ name, metadata: await metadataOf(name) })))
    const [study] = groupIntoStudies(items)
    const manifest = toStudyManifest(study!, { path: (i) => `instances/${i.name}` })
    expect(studyManifestSchema.parse(manifest)).toEqual(manifest)
    expect(dagCbor.decode(dagCbor.encode(manifest))).toEqual(manifest)
    expect(manifest).toMatchObject({
      type: 'pcmims/dicom-study',
      modalities: ['NM'],
      numberOfSeries: study!.series.length,
      numberOfInstances: 2,
      patient: { name: 'CompressedSamples^NM1' },
    })
    const all = manifest.series.flatMap((s) => s.instances)
    expect(all.map((i) => i.path).sort()).toEqual(['instances/JPEG-lossy.dcm', 'instances/JPEG2000.dcm'])
    expect(all[0]).toMatchObject({
      rows: 1024,
      columns: 256,
      transferSyntaxUid: expect.stringMatching(/^1\.2\.840\.10008\.1\.2\.4\./),
    })
    expect(() => studyManifestSchema.parse({ ...manifest, extra: 1 })).toThrow()
  })
})
