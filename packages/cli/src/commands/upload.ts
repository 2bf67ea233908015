import { uploadDicomStudies, uploadRecord } from '@pcmims/core'
import { getAddress, isAddress } from 'viem'
import type { Command } from '../command.js'
import { flag, str } from '../command.js'
import { connect } from '../context.js'
import { collectFiles } from '../files.js'
import { formatBytes } from '../format.js'
import { UsageError } from '../io.js'
import { KIND_NOTE, parseDate, parseKind } from '../vocabulary.js'

// Other commands imported it from here first.
export { parseKind }

export const upload: Command = {
  name: ['upload'],
  summary: 'Uploader: encrypt files or folders as one record for a patient, store them and anchor the record',
  usage:
    'upload --patient ADDR --kind KIND [--appointment ID] [--description TEXT] [--date YYYY-MM-DD] [--patient-name NAME] [--mrn MRN] [--no-wait] PATH…',
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
    ['PATH…', 'files and folders (folders recursively); they become one record'],
    ['--patient ADDR', "the patient's account address"],
    ['--kind KIND', KIND_NOTE],
    ['--appointment ID', 'the appointment or accession the record belongs to'],
    ['--description TEXT', 'a short description, e.g. "Head CT"'],
    ['--date YYYY-MM-DD', 'the date of the study (default today)'],
    ['--patient-name NAME', 'kept in the encrypted manifest only'],
    ['--mrn MRN', "the unit's medical record number, in the encrypted manifest only"],
    ['--no-wait', 'return once stored, without waiting for the anchor transaction'],
    [
      '--dicom',
      'the paths are DICOM files: one record per study (kind from the modality), each instance encrypted alone',
    ],
  ],
  async run(ctx) {
    const patient = str(ctx, 'patient')
    if (!patient || !isAddress(patient, { strict: false }))
      throw new UsageError('--patient must be an address')
    if (flag(ctx, 'dicom')) return uploadDicom(ctx, getAddress(patient))
    const kind = parseKind(str(ctx, 'kind'))
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
  const files = await collectFiles(ctx.positionals)
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
  ctx.io.result({ studies, seconds }, () =>
    [
      `${studies.length} ${studies.length === 1 ? 'study' : 'studies'}, ${files.length} files (${formatBytes(total)}) in ${seconds.toFixed(1)} s`,
      ...studies.map(
        (s) =>
          `record ${s.recordId}  ${s.kind}  ${s.series} series, ${s.instances} instances  anchor ${s.status}${s.txHash ? ` tx ${s.txHash}` : ''}`,
      ),
    ].join('\n'),
  )
  if (studies.some((s) => s.status === 'failed')) process.exitCode = 1
}
