import {
  DicomParseError,
  extractInstanceMetadata,
  groupIntoStudies,
  type InstanceMetadata,
  kindOf,
  type PcmimsClient,
  parseDicomFile,
  REPORT_LIMITS,
  type ReadReportReturnType,
  type RecordKind,
  readReport,
  type UploadFile,
  uploadDicomStudies,
  uploadRecord,
} from '@pcmims/core'
import type { Address } from 'viem'
import { readAllBytes } from './collect-files.js'

// Loaded on demand (dynamic import) with the DICOM parser, so the portal's first page stays small.

export type FileProblem = { path: string; message: string }

export type StudyPreview = {
  studyInstanceUid: string
  kind: RecordKind
  modalities: string[]
  patientName?: string | undefined
  patientId?: string | undefined
  studyDate?: string | undefined
  description?: string | undefined
  accession?: string | undefined
  series: number
  instances: number
  bytes: number
  /** The source files, in the order the upload sends them. */
  files: UploadFile[]
  /** Path inside the record (`series-001/00001.dcm`) → the source file's label, for per-file progress. */
  sourceOf: Map<string, string>
}

export type DicomScan = { studies: StudyPreview[]; problems: FileProblem[]; groupError?: unknown }

/**
 * Reads every file as core's upload will (same parser, same limits), so that what the uploader sees before
 * sending is what will be sent: the studies the files form, and each file that is not sound DICOM, by name.
 */
export async function scanDicom(
  files: UploadFile[],
  options: {
    signal?: AbortSignal | undefined
    onFile?: ((done: number, total: number) => void) | undefined
  } = {},
): Promise<DicomScan> {
  const read: Array<{ metadata: InstanceMetadata; file: UploadFile }> = []
  const problems: FileProblem[] = []
  for (const [index, file] of files.entries()) {
    options.signal?.throwIfAborted()
    options.onFile?.(index, files.length)
    try {
      const bytes = await readAllBytes(file.open())
      const parsed = parseDicomFile(bytes, { fileName: file.path })
      read.push({ metadata: extractInstanceMetadata(parsed), file })
    } catch (error) {
      problems.push({ path: file.path, message: problemOf(error) })
    }
  }
  options.onFile?.(files.length, files.length)
  let groups: ReturnType<typeof groupIntoStudies<(typeof read)[number]>>
  try {
    groups = groupIntoStudies(read)
  } catch (groupError) {
    return { studies: [], problems, groupError }
  }
  const studies = groups.map((study): StudyPreview => {
    const modalities = [...new Set(study.series.map((s) => s.modality).filter((m): m is string => !!m))]
    const sourceOf = new Map<string, string>()
    study.series.forEach((series, seriesIndex) => {
      series.instances.forEach((instance, i) => {
        // The same positional paths core's uploadDicomStudies gives the instances.
        const path = `series-${String(seriesIndex + 1).padStart(3, '0')}/${String(i + 1).padStart(5, '0')}.dcm`
        sourceOf.set(path, instance.file.path)
      })
    })
    const members = study.series.flatMap((s) => s.instances.map((i) => i.file))
    return {
      studyInstanceUid: study.studyInstanceUid,
      kind: kindOf(modalities),
      modalities,
      patientName: study.patient.name,
      patientId: study.patient.id,
      studyDate: study.studyDate,
      description: study.studyDescription,
      accession: study.accessionNumber,
      series: study.series.length,
      instances: members.length,
      bytes: members.reduce((n, f) => n + (f.size ?? 0), 0),
      files: members,
      sourceOf,
    }
  })
  return { studies, problems }
}

function problemOf(error: unknown): string {
  if (error instanceof DicomParseError) return error.problem
  if (error && typeof error === 'object' && 'problem' in error && typeof error.problem === 'string')
    return error.problem
  if (error && typeof error === 'object' && 'shortMessage' in error) return String(error.shortMessage)
  return error instanceof Error ? error.message : String(error)
}

export type ReportPreview = ReadReportReturnType & { source: string; bytes: Uint8Array }

/** Reads and validates each report (PDF, FHIR JSON, DICOM SR or encapsulated PDF) before anything is sent. */
export async function scanReports(
  files: Array<{ path: string; file: Blob }>,
): Promise<{ reports: ReportPreview[]; problems: FileProblem[] }> {
  const maxBytes = Math.max(
    REPORT_LIMITS.maxDicomBytes,
    REPORT_LIMITS.maxJsonBytes,
    REPORT_LIMITS.maxPdfBytes,
  )
  const reports: ReportPreview[] = []
  const problems: FileProblem[] = []
  for (const { path, file } of files) {
    if (file.size > maxBytes) {
      problems.push({ path, message: `larger than the ${Math.round(maxBytes / 1024 ** 2)} MiB limit` })
      continue
    }
    try {
      const bytes = new Uint8Array(await file.arrayBuffer())
      reports.push({ ...readReport(bytes, { fileName: path }), source: path, bytes })
    } catch (error) {
      problems.push({ path, message: problemOf(error) })
    }
  }
  return { reports, problems }
}

export type UploadedItem = {
  /** What the uploader picked, for the result list: a study's description or a report's file. */
  label: string
  kind: RecordKind
  recordId: `0x${string}`
  status: string
  txHash: `0x${string}` | null
  gasUsed: string | null
  series?: number | undefined
  instances?: number | undefined
}

export type UploadProgressEvent = {
  /** Index into the list of studies or reports being sent. */
  item: number
  /** The source file being encrypted now (its label), and its bytes so far. */
  source: string
  fileBytes: number
  /** Bytes of this item so far. */
  itemBytes: number
}

export async function uploadStudies(
  client: PcmimsClient,
  params: {
    patient: Address
    studies: StudyPreview[]
    appointment?: string | undefined
    description?: string | undefined
    signal?: AbortSignal | undefined
    onProgress?: ((event: UploadProgressEvent) => void) | undefined
  },
): Promise<UploadedItem[]> {
  const uploaded = await uploadDicomStudies(client, {
    patient: params.patient,
    files: params.studies.flatMap((s) => s.files),
    appointment: params.appointment,
    description: params.description,
    signal: params.signal,
    onProgress: (p) => {
      const study = params.studies[p.study - 1]
      params.onProgress?.({
        item: p.study - 1,
        source: study?.sourceOf.get(p.file) ?? p.file,
        fileBytes: p.fileBytes,
        itemBytes: p.totalBytes,
      })
    },
  })
  return uploaded.map((u, i) => ({
    // What the patient will see the record as: the description typed here, else the study's own.
    label: studyLabel(params.studies[i], params.description) ?? `Study ${i + 1}`,
    kind: u.kind,
    recordId: u.recordId,
    status: u.status,
    txHash: u.txHash,
    gasUsed: u.gasUsed,
    series: u.series,
    instances: u.instances,
  }))
}

export function studyLabel(study: StudyPreview | undefined, typed?: string | undefined): string | undefined {
  if (!study) return undefined
  const description = typed?.trim() || study.description
  return [study.modalities.join(', '), description].filter(Boolean).join(' · ') || undefined
}

/** One record per report, as the CLI's `upload --kind REPORT` makes them. */
export async function uploadReport(
  client: PcmimsClient,
  params: {
    patient: Address
    report: ReportPreview
    appointment?: string | undefined
    description?: string | undefined
    signal?: AbortSignal | undefined
    onBytes?: ((bytes: number) => void) | undefined
  },
): Promise<UploadedItem> {
  const { report } = params
  const ext = report.format === 'pdf' ? 'pdf' : report.format === 'fhir' ? 'json' : 'dcm'
  const files = [memoryFile(`report.${ext}`, report.mediaType, report.bytes)]
  // An encapsulated PDF also goes in as the PDF itself, so a reader needs no DICOM toolkit to see it.
  if (report.pdf) files.push(memoryFile('document.pdf', 'application/pdf', report.pdf))
  const result = await uploadRecord(client, {
    patient: params.patient,
    kind: 'REPORT',
    files,
    appointment: params.appointment,
    description: params.description || report.summary.title,
    date: isoDay(report.summary.date),
    report: { ...report.summary, path: files[0]!.path },
    signal: params.signal,
    onProgress: (p) => params.onBytes?.(p.totalBytes),
  })
  return {
    label: report.summary.title ?? report.source,
    kind: 'REPORT',
    recordId: result.recordId,
    status: result.status,
    txHash: result.txHash,
    gasUsed: result.gasUsed,
  }
}

function memoryFile(path: string, mediaType: string, bytes: Uint8Array): UploadFile {
  return {
    path,
    mediaType,
    size: bytes.length,
    async *open() {
      for (let offset = 0; offset < bytes.length; offset += 1024 * 1024)
        yield bytes.subarray(offset, offset + 1024 * 1024)
    },
  }
}

/** The report's own date when it is a calendar date that exists. */
function isoDay(value: string | undefined): string | undefined {
  const day = value?.slice(0, 10)
  if (!day || !/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined
  const date = new Date(`${day}T00:00:00Z`)
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === day ? day : undefined
}
