import { listRecords } from '@pcmims/core'
import { getAddress, isAddress } from 'viem'
import type { Command } from '../command.js'
import { flag, str } from '../command.js'
import { connect } from '../context.js'
import { UsageError } from '../io.js'
import { parseKind } from './upload.js'

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
  async run(ctx) {
    const patient = str(ctx, 'patient')
    if (patient !== undefined && !isAddress(patient, { strict: false }))
      throw new UsageError('--patient must be an address')
    const client = await connect(ctx.global)
    const list = await listRecords(client, {
      patient: patient ? getAddress(patient) : undefined,
      kind: str(ctx, 'kind') ? parseKind(str(ctx, 'kind')) : undefined,
      appointment: str(ctx, 'appointment'),
      from: str(ctx, 'from'),
      to: str(ctx, 'to'),
      withDetails: flag(ctx, 'details'),
      signal: ctx.signal,
    })
    ctx.io.result({ patient: getAddress(patient ?? client.account.address), records: list }, () =>
      list.length === 0
        ? 'No records.'
        : list
            .map((r) => {
              const when = new Date(r.createdAt * 1000).toISOString().slice(0, 16).replace('T', ' ')
              const d = r.details
              return `${r.id}  ${r.kind.padEnd(6)} ${when}${
                d
                  ? `  ${d.date}  appt ${d.appointment ?? '-'}  ${d.files} file(s)  ${d.description ?? ''}`
                  : ''
              }`
            })
            .join('\n'),
    )
  },
}
