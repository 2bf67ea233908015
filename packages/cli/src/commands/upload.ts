import {
  REPORT_LIMITS,
  type ReadReportReturnType,
  readReport,
  type UploadFile,
  type UploadRecordReturnType,
  uploadDicomStudies,
  uploadRecord,
} from '@pcmims/core'
import { getAddress, isAddress } from 'viem'
import type { Command } from '../command.js'
import { flag, str } from '../command.js'
import { connect } from '../context.js'
import { collectDicomFiles, collectFiles } from '../files.js'
import { formatBytes } from '../format.js'
import { UsageError } from '../io.js'
import { KIND_NOTE, parseDate, parseKind } from '../vocabulary.js'

// Other commands imported it from here first.
export { parseKind }

export const upload: Command = {
  name: ['upload'],
  summary: 'Uploader: encrypt files or folders as one record for a patient, store them and anchor the record',
  usage:
    'upload --patient ADDR (--kind KIND | --dicom) [--appointment ID] [--description TEXT] [--date YYYY-MM-DD] [--patient-name NAME] [--mrn MRN] [--no-wait] PATH…',
  positionals: true,
  options: {
    patient: { type: 'string' },
    kind: { type: 'string' },
    dicom: { type: 'boolean' },
    appointment: { type: 'string' },
    description: { type: 'string' },
    date: { type: 'string' },
    'patient-name': { type: 'string' },
    mrn: { type: 'string' },
    'no-wait': { type: 'boolean' },
  },
  details: [
    [
      'PATH…',
      'files and folders (folders recursively); they become one record.\nPNG and JPEG images are checked (header, at most 100 megapixels)',
    ],
    ['--patient ADDR', "the patient's account address"],
    [
      '--kind KIND',
      `${KIND_NOTE}.\nREPORT: each PATH is one report record — PDF, FHIR R4 JSON\n(DiagnosticReport, Observation, or a Bundle of them), DICOM SR or\nencapsulated PDF — with its title, date, status and results read from it`,
    ],
    ['--appointment ID', 'the appointment or accession the record belongs to'],
    ['--description TEXT', 'a short description, e.g. "Head CT"'],
    ['--date YYYY-MM-DD', "the date of the study (default today; a report's own date for REPORT)"],
    ['--patient-name NAME', 'kept in the encrypted manifest only'],
    ['--mrn MRN', "the unit's medical record number, in the encrypted manifest only"],
    ['--no-wait', 'return once stored, without waiting for the anchor transaction'],
    [
      '--dicom',
      'the paths are DICOM files, folders, ZIP archives or DICOMDIR media (a DICOMDIR,\nor a folder holding one: only the files it references): one record per study\n(kind from the modality), each instance encrypted alone; nothing is stored\nif any file is not sound DICOM',
    ],
  ],
  async run(ctx) {
    const patient = str(ctx, 'patient')
    if (!patient || !isAddress(patient, { strict: false }))
      throw new UsageError('--patient must be an address')
    if (flag(ctx, 'dicom')) return uploadDicom(ctx, getAddress(patient))
    const kind = parseKind(str(ctx, 'kind'))
    if (kind === 'REPORT') return uploadReports(ctx, getAddress(patient))
    const date = str(ctx, 'date')
    if (date) parseDate(date, '--date')
    const files = await collectFiles(ctx.positionals)
    const total = files.reduce((n, f) => n + (f.size ?? 0), 0)
    const client = await connect(ctx.global)
    const started = Date.now()
    const result = await uploadRecord(client, {
      patient: getAddress(patient),
      kind,
      files,
      appointment: str(ctx, 'appointment'),
      description: str(ctx, 'description'),
      date,
      patientName: str(ctx, 'patient-name'),
      patientMrn: str(ctx, 'mrn'),
      waitForAnchor: !flag(ctx, 'no-wait'),
      signal: ctx.signal,
      onProgress: (p) =>
        ctx.io.progress(
          `encrypting and storing ${p.fileIndex + 1}/${p.fileCount} ${p.file}  ${formatBytes(p.totalBytes)} / ${formatBytes(total)}`,
        ),
    })
    ctx.io.progressDone()
    const seconds = (Date.now() - started) / 1000
    ctx.io.result({ ...result, seconds }, () =>
      [
        `record     ${result.recordId}`,
        `envelope   ${result.envelopeCid}`,
        `manifest   ${result.manifestCid}`,
        `files      ${result.files.length} (${formatBytes(total)}) in ${seconds.toFixed(1)} s`,
        `recipients ${result.recipients.map((r) => `${r.role} ${r.address}`).join(', ')}`,
        `anchor     ${result.status}${result.txHash ? ` tx ${result.txHash}, gas ${result.gasUsed}` : ''}`,
      ].join('\n'),
    )
    if (result.status === 'failed') process.exitCode = 1
  },
}

async function uploadDicom(ctx: Parameters<Command['run']>[0], patient: `0x${string}`): Promise<void> {
  if (str(ctx, 'kind') || str(ctx, 'date') || str(ctx, 'patient-name') || str(ctx, 'mrn')) {
    throw new UsageError('With --dicom, kind, date, name and MRN come from the DICOM files')
  }
  const { files, notes } = await collectDicomFiles(ctx.positionals)
  const total = files.reduce((n, f) => n + (f.size ?? 0), 0)
  const client = await connect(ctx.global)
  const started = Date.now()
  const studies = await uploadDicomStudies(client, {
    patient,
    files,
    appointment: str(ctx, 'appointment'),
    description: str(ctx, 'description'),
    waitForAnchor: !flag(ctx, 'no-wait'),
    signal: ctx.signal,
    onProgress: (p) =>
      ctx.io.progress(
        `study ${p.study}/${p.studies}: ${p.fileIndex + 1}/${p.fileCount} ${p.file}  ${formatBytes(p.totalBytes)}`,
      ),
  })
  ctx.io.progressDone()
  const seconds = (Date.now() - started) / 1000
  ctx.io.result({ studies, inputs: notes, seconds }, () =>
    [
      ...notes,
      `${studies.length} ${studies.length === 1 ? 'study' : 'studies'}, ${files.length} files (${formatBytes(total)}) in ${seconds.toFixed(1)} s`,
      ...studies.map(
        (s) =>
          `record ${s.recordId}  ${s.kind}  ${s.series} series, ${s.instances} instances  anchor ${s.status}${s.txHash ? ` tx ${s.txHash}` : ''}`,
      ),
    ].join('\n'),
  )
  if (studies.some((s) => s.status === 'failed')) process.exitCode = 1
}

type ReadReport = ReadReportReturnType & { source: string; bytes: Uint8Array }

/**
 * `--kind REPORT`: one record per report file. Every file is read and validated before the first
 * upload, so a bad one stores nothing. Record paths name the format, never the source file (lab exports
 * are often named after the patient).
 */
async function uploadReports(ctx: Parameters<Command['run']>[0], patient: `0x${string}`): Promise<void> {
  const date = str(ctx, 'date')
  if (date) parseDate(date, '--date')
  const sources = await collectFiles(ctx.positionals)
  const maxBytes = Math.max(
    REPORT_LIMITS.maxDicomBytes,
    REPORT_LIMITS.maxJsonBytes,
    REPORT_LIMITS.maxPdfBytes,
  )
  const reports: ReadReport[] = []
  for (const source of sources) {
    if ((source.size ?? 0) > maxBytes)
      throw new UsageError(`${source.path}: larger than ${formatBytes(maxBytes)}`)
    const bytes = await readAllOf(source)
    reports.push({ ...readReport(bytes, { fileName: source.path }), source: source.path, bytes })
  }
  const client = await connect(ctx.global)
  const started = Date.now()
  const uploaded: Array<UploadRecordReturnType & Pick<ReadReport, 'source' | 'format' | 'summary'>> = []
  for (const [index, report] of reports.entries()) {
    const ext = report.format === 'pdf' ? 'pdf' : report.format === 'fhir' ? 'json' : 'dcm'
    const files = [memoryFile(`report.${ext}`, report.mediaType, report.bytes)]
    // An encapsulated PDF also goes in as the PDF itself, so a reader needs no DICOM toolkit to see it.
    if (report.pdf) files.push(memoryFile('document.pdf', 'application/pdf', report.pdf))
    const result = await uploadRecord(client, {
      patient,
      kind: 'REPORT',
      files,
      appointment: str(ctx, 'appointment'),
      description: str(ctx, 'description') ?? report.summary.title,
      date: date ?? isoDay(report.summary.date),
      patientName: str(ctx, 'patient-name'),
      patientMrn: str(ctx, 'mrn'),
      report: { ...report.summary, path: files[0]!.path },
      waitForAnchor: !flag(ctx, 'no-wait'),
      signal: ctx.signal,
      onProgress: (p) =>
        ctx.io.progress(`report ${index + 1}/${reports.length}: ${p.file}  ${formatBytes(p.totalBytes)}`),
    })
    uploaded.push({ ...result, source: report.source, format: report.format, summary: report.summary })
  }
  ctx.io.progressDone()
  const seconds = (Date.now() - started) / 1000
  ctx.io.result({ reports: uploaded, seconds }, () =>
    [
      `${uploaded.length} ${uploaded.length === 1 ? 'report' : 'reports'} in ${seconds.toFixed(1)} s`,
      ...uploaded.map((r) => {
        const flagged = r.summary.results.filter((row) => row.flag && row.flag !== 'N').length
        return [
          `record ${r.recordId}  ${r.format}  ${r.source}`,
          `  ${[r.summary.title, r.summary.date, r.summary.status].filter(Boolean).join(' · ') || '(no title)'}` +
            (r.summary.results.length ? `  ${r.summary.results.length} results, ${flagged} flagged` : ''),
          `  anchor ${r.status}${r.txHash ? ` tx ${r.txHash}` : ''}`,
        ].join('\n')
      }),
    ].join('\n'),
  )
  if (uploaded.some((r) => r.status === 'failed')) process.exitCode = 1
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

async function readAllOf(file: UploadFile): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of file.open()) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** The report's own date when it is a calendar date (FHIR dateTime or date). */
function isoDay(value: string | undefined): string | undefined {
  const day = value?.slice(0, 10)
  if (!day) return undefined
  try {
    return parseDate(day, 'date')
  } catch {
    return undefined
  }
}
