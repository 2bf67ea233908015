import { listRecords } from '@pcmims/core'
import { getAddress, isAddress } from 'viem'
import type { Command } from '../command.js'
import { flag, str } from '../command.js'
import { connect } from '../context.js'
import { formatBytes, formatTime, table } from '../format.js'
import { UsageError } from '../io.js'
import { KIND_NOTE, parseDate, parseKind } from '../vocabulary.js'

export const records: Command = {
  name: ['records'],
  summary:
    "List a patient's records you may see (yours by default); filters on appointment decrypt manifests locally",
  usage: 'records [--patient ADDR] [--kind KIND] [--appointment ID] [--from DATE] [--to DATE] [--details]',
  options: {
    patient: { type: 'string' },
    kind: { type: 'string' },
    appointment: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    details: { type: 'boolean' },
  },
  details: [
    [
      '--patient ADDR',
      "the patient whose records to list (default: yours); needs a grant or your unit's custody",
    ],
    ['--kind KIND', KIND_NOTE],
    ['--appointment ID', 'only records of this appointment'],
    ['--from DATE', 'only studies on or after this date, YYYY-MM-DD'],
    ['--to DATE', 'only studies on or before this date, YYYY-MM-DD'],
    ['--details', 'show date, appointment, files, size and description (decrypts each manifest)'],
  ],
  async run(ctx) {
    const patient = str(ctx, 'patient')
    if (patient !== undefined && !isAddress(patient, { strict: false }))
      throw new UsageError('--patient must be an address')
    const kind = str(ctx, 'kind') === undefined ? undefined : parseKind(str(ctx, 'kind'))
    const from = str(ctx, 'from') === undefined ? undefined : parseDate(str(ctx, 'from') as string, '--from')
    const to = str(ctx, 'to') === undefined ? undefined : parseDate(str(ctx, 'to') as string, '--to')
    if (from && to && from > to) throw new UsageError('--from is after --to')
    const client = await connect(ctx.global)
    const list = await listRecords(client, {
      patient: patient ? getAddress(patient) : undefined,
      kind,
      appointment: str(ctx, 'appointment'),
      from,
      to,
      withDetails: flag(ctx, 'details'),
      signal: ctx.signal,
    })
    const withDetails = list.some((r) => r.details)
    ctx.io.result({ patient: getAddress(patient ?? client.account.address), records: list }, () =>
      list.length === 0
        ? 'No records.'
        : table(
            [
              'RECORD',
              'KIND',
              'ANCHORED (UTC)',
              ...(withDetails ? ['DATE', 'APPOINTMENT', 'FILES', 'SIZE', 'DESCRIPTION'] : []),
            ],
            list.map((r) => {
              const d = r.details
              return [
                r.id,
                r.deidentifiedFrom ? `${r.kind} (de-identified copy)` : r.kind,
                formatTime(r.createdAt),
                ...(d
                  ? [d.date, d.appointment ?? '-', String(d.files), formatBytes(d.bytes), d.description ?? '']
                  : []),
              ]
            }),
          ),
    )
  },
}
