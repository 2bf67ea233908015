import type { Address } from 'viem'
import { DicomParseError } from '../dicom/errors.js'
import { dicomDateToIso } from '../dicom/metadata/dicom-date-to-iso.js'
import type { InstanceMetadata } from '../dicom/metadata/extract-instance-metadata.js'
import { extractInstanceMetadata } from '../dicom/metadata/extract-instance-metadata.js'
import { parseDicomFile } from '../dicom/parse/parse-dicom-file.js'
import { zeroPreamble } from '../dicom/parse/zero-preamble.js'
import { groupIntoStudies } from '../dicom/study/group-into-studies.js'
import { toStudyManifest } from '../dicom/study/study-manifest.js'
import type { RecordKind } from '../records/schema-helpers.js'
import type { PcmimsClient } from './pcmims-client.js'
import {
  type UploadFile,
  type UploadProgress,
  type UploadRecordReturnType,
  uploadRecord,
} from './upload-record.js'

export type UploadDicomStudiesParameters = {
  patient: Address
  /** DICOM Part 10 files (any order, any number of studies). */
  files: UploadFile[]
  appointment?: string | undefined
  description?: string | undefined
  /** Largest instance accepted (default 1 GiB): checked before parsing. */
  maxInstanceBytes?: number | undefined
  waitForAnchor?: boolean | undefined
  signal?: AbortSignal | undefined
  onProgress?: ((progress: UploadProgress & { study: number; studies: number }) => void) | undefined
}

export type UploadedStudy = UploadRecordReturnType & {
  studyInstanceUid: string
  kind: RecordKind
  series: number
  instances: number
}

type ReadInstance = { bytes: Uint8Array; metadata: InstanceMetadata; path: string }

/**
 * Uploads DICOM files as one record per study: every file is parsed (bounded, hostile-input safe) and
 * refused with the file's name if it is not sound DICOM, preambles are zeroed, instances are grouped
 * by study / series, and each instance is encrypted as its own file so a viewer can fetch one image
 * alone. The study hierarchy and the attributes needed for search and display go in the sealed manifest.
 * Nothing is uploaded until every file has been read and grouped.
 */
export async function uploadDicomStudies(
  client: PcmimsClient,
  params: UploadDicomStudiesParameters,
): Promise<UploadedStudy[]> {
  const maxBytes = params.maxInstanceBytes ?? 1024 ** 3
  const instances: ReadInstance[] = []
  for (const file of params.files) {
    params.signal?.throwIfAborted()
    const bytes = await readAll(file, maxBytes)
    const parsed = parseDicomFile(bytes, { maxBytes, fileName: file.path })
    const metadata = extractInstanceMetadata(parsed)
    instances.push({ bytes: zeroPreamble(bytes), metadata, path: file.path })
  }
  const studies = groupIntoStudies(instances)
  const uploaded: UploadedStudy[] = []
  for (const [studyIndex, study] of studies.entries()) {
    const files: UploadFile[] = []
    const pathOf = new Map<ReadInstance, string>()
    for (const [seriesIndex, series] of study.series.entries()) {
      for (const [i, instance] of series.instances.entries()) {
        // Paths name positions, never the patient: exports often name files after the patient.
        const path = `series-${String(seriesIndex + 1).padStart(3, '0')}/${String(i + 1).padStart(5, '0')}.dcm`
        pathOf.set(instance, path)
        const bytes = instance.bytes
        files.push({
          path,
          mediaType: 'application/dicom',
          size: bytes.length,
          async *open() {
            for (let offset = 0; offset < bytes.length; offset += 1024 * 1024) {
              yield bytes.subarray(offset, offset + 1024 * 1024)
            }
          },
        })
      }
    }
    const manifest = toStudyManifest(study, { path: (instance) => pathOf.get(instance) })
    const kind = kindOf(manifest.modalities)
    const result = await uploadRecord(client, {
      patient: params.patient,
      kind,
      files,
      appointment: params.appointment ?? study.accessionNumber,
      description: params.description ?? study.studyDescription,
      date: dicomDateToIso(study.studyDate),
      patientName: study.patient.name,
      patientMrn: study.patient.id,
      study: manifest,
      waitForAnchor: params.waitForAnchor,
      signal: params.signal,
      onProgress: params.onProgress
        ? (progress) => params.onProgress?.({ ...progress, study: studyIndex + 1, studies: studies.length })
        : undefined,
    })
    uploaded.push({
      ...result,
      studyInstanceUid: study.studyInstanceUid,
      kind,
      series: manifest.numberOfSeries,
      instances: manifest.numberOfInstances,
    })
  }
  return uploaded
}

/** The record kind of a study, from its modalities (PS3.3 C.7.3.1.1.1 defined terms). */
export function kindOf(modalities: readonly string[]): RecordKind {
  const set = new Set(modalities.map((m) => m.toUpperCase()))
  if (set.has('CT')) return 'CT'
  if (set.has('MR')) return 'MRI'
  if (set.has('US')) return 'US'
  if (['CR', 'DX', 'XA', 'RF', 'MG', 'IO', 'PX', 'RG', 'DR'].some((m) => set.has(m))) return 'XRAY'
  if (['SR', 'DOC'].some((m) => set.has(m)) && set.size === 1) return 'REPORT'
  return 'OTHER'
}

async function readAll(file: UploadFile, maxBytes: number): Promise<Uint8Array> {
  if (file.size !== undefined && file.size > maxBytes) {
    throw tooLarge(file.path, maxBytes)
  }
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of file.open()) {
    total += chunk.length
    if (total > maxBytes) throw tooLarge(file.path, maxBytes)
    chunks.push(chunk)
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

function tooLarge(fileName: string, maxBytes: number): DicomParseError {
  return new DicomParseError('DICOM_TOO_LARGE', `larger than the ${maxBytes}-byte limit for one instance`, {
    fileName,
  })
}
