import { closeRecord, openRecord } from '@pcmims/core'
import type { Hex } from 'viem'
import type { Command } from '../command.js'
import { connect } from '../context.js'
import { formatBytes, table } from '../format.js'
import { UsageError } from '../io.js'

export const show: Command = {
  name: ['show'],
  summary: "Show a record's details and files without downloading them (works with view-only grants)",
  usage: 'show RECORD_ID',
  positionals: true,
  async run(ctx) {
    const id = ctx.positionals[0]
    if (!id || ctx.positionals.length !== 1 || !/^0x[0-9a-fA-F]{64}$/.test(id)) {
      throw new UsageError('Give one record id (0x + 64 hex)')
    }
    const client = await connect(ctx.global)
    const record = await openRecord(client, { recordId: id as Hex, signal: ctx.signal })
    closeRecord(record)
    const m = record.manifest
    const result = {
      recordId: record.recordId,
      kind: m.kind,
      date: m.date,
      appointment: m.appointment ?? null,
      description: m.description ?? null,
      patient: { address: m.patient.address, name: m.patient.name ?? null, mrn: m.patient.mrn ?? null },
      uploader: m.uploader,
      unit: m.unit,
      createdAt: m.createdAt,
      files: m.files.map((f) => ({ path: f.path, mediaType: f.mediaType, size: f.size })),
      report: m.report ?? null,
      access: record.access,
    }
    const range = (r: NonNullable<typeof m.report>['results'][number]) =>
      r.range ?? (r.low !== undefined || r.high !== undefined ? `${r.low ?? ''}–${r.high ?? ''}` : '')
    ctx.io.result(result, () =>
      [
        `record      ${record.recordId}`,
        `kind        ${m.kind}, examined ${m.date}${m.appointment ? `, appointment ${m.appointment}` : ''}`,
        ...(m.description ? [`description ${m.description}`] : []),
        `patient     ${m.patient.address}${m.patient.name ? ` (${m.patient.name}${m.patient.mrn ? `, MRN ${m.patient.mrn}` : ''})` : ''}`,
        `uploaded by ${m.uploader} at unit ${m.unit}`,
        `your access ${record.access.basis}${record.access.download ? ', download allowed' : ', view only'}`,
        `files       ${m.files.length}`,
        ...m.files.map((f) => `  ${f.path}  ${f.mediaType}  ${formatBytes(f.size)}`),
        ...(m.report
          ? [
              `report      ${[m.report.title, m.report.status, m.report.date].filter(Boolean).join(', ')}`,
              ...(m.report.results.length > 0
                ? [
                    table(
                      ['  RESULT', 'VALUE', 'UNIT', 'RANGE', 'FLAG'],
                      m.report.results.map((r) => [
                        `  ${'  '.repeat(r.level ?? 0)}${r.name}`,
                        r.value ?? '',
                        r.unit ?? '',
                        range(r),
                        r.flag ?? '',
                      ]),
                    ),
                  ]
                : []),
              ...(m.report.conclusion ? [`conclusion  ${m.report.conclusion}`] : []),
            ]
          : []),
      ].join('\n'),
    )
  },
}
