import { RECORD_KINDS, type RecordKind, uploadRecord } from '@pcmims/core'
import { getAddress, isAddress } from 'viem'
import type { Command } from '../command.js'
import { flag, str } from '../command.js'
import { connect } from '../context.js'
import { collectFiles } from '../files.js'
import { UsageError } from '../io.js'

export function parseKind(value: string | undefined): RecordKind {
  const kind = value?.toUpperCase().replace('X-RAY', 'XRAY')
  if (!kind || !(RECORD_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(`--kind must be one of ${RECORD_KINDS.join(', ')}`)
  }
  return kind as RecordKind
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`

export const upload: Command = {
  name: ['upload'],
  summary: 'Uploader: encrypt files or folders as one record for a patient, store them and anchor the record',
  usage:
    'upload --patient ADDR --kind KIND [--appointment ID] [--description TEXT] [--date YYYY-MM-DD] [--patient-name NAME] [--mrn MRN] [--no-wait] PATH…',
  positionals: true,
  options: {
    patient: { type: 'string' },
    kind: { type: 'string' },
    appointment: { type: 'string' },
    description: { type: 'string' },
    date: { type: 'string' },
    'patient-name': { type: 'string' },
    mrn: { type: 'string' },
    'no-wait': { type: 'boolean' },
  },
  async run(ctx) {
    const patient = str(ctx, 'patient')
    if (!patient || !isAddress(patient, { strict: false }))
      throw new UsageError('--patient must be an address')
    const kind = parseKind(str(ctx, 'kind'))
    const date = str(ctx, 'date')
    if (date && !/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new UsageError('--date must be YYYY-MM-DD')
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
          `encrypting and storing ${p.fileIndex + 1}/${p.fileCount} ${p.file}  ${mb(p.totalBytes)} / ${mb(total)}`,
        ),
    })
    ctx.io.progressDone()
    const seconds = (Date.now() - started) / 1000
    ctx.io.result({ ...result, seconds }, () =>
      [
        `record     ${result.recordId}`,
        `envelope   ${result.envelopeCid}`,
        `manifest   ${result.manifestCid}`,
        `files      ${result.files.length} (${mb(total)}) in ${seconds.toFixed(1)} s`,
        `recipients ${result.recipients.map((r) => `${r.role} ${r.address}`).join(', ')}`,
        `anchor     ${result.status}${result.txHash ? ` tx ${result.txHash}, gas ${result.gasUsed}` : ''}`,
      ].join('\n'),
    )
    if (result.status === 'failed') process.exitCode = 1
  },
}
