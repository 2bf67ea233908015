import {
  discardHeldStudy,
  listHeldStudies,
  lookupPatientId,
  mapPatientId,
  resolveHeldStudy,
} from '@pcmims/core'
import { getAddress, isAddress } from 'viem'
import type { Command, CommandContext } from '../command.js'
import { flag, str } from '../command.js'
import { connect } from '../context.js'
import { formatBytes, table } from '../format.js'
import { UsageError } from '../io.js'

// The unit's ingest desk: what the node received over C-STORE / STOW-RS for a Patient ID it could not map.

function one(ctx: CommandContext, what: string): string {
  const [value, ...rest] = ctx.positionals
  if (!value || rest.length > 0) throw new UsageError(`Give one ${what}`)
  return value
}

function patientOption(ctx: CommandContext) {
  const patient = str(ctx, 'patient')
  if (!patient || !isAddress(patient, { strict: false })) throw new UsageError('--patient must be an address')
  return getAddress(patient)
}

export const held: Command = {
  name: ['held'],
  summary:
    'Unit operator and uploaders: received studies (C-STORE, STOW-RS) whose patient is unknown; see `held resolve`',
  usage: 'held',
  async run(ctx) {
    const client = await connect(ctx.global)
    const studies = await listHeldStudies(client, { signal: ctx.signal })
    ctx.io.result({ studies }, () =>
      studies.length === 0
        ? 'No held studies.'
        : table(
            [
              'ID',
              'RECEIVED',
              'FROM',
              'PATIENT ID',
              'NAME',
              'STUDY DATE',
              'MODALITY',
              'INSTANCES',
              'SIZE',
              'WHY',
            ],
            studies.map((s) => [
              s.id,
              new Date(s.receivedAt).toISOString().slice(0, 16).replace('T', ' '),
              s.source,
              s.patientId?.trim() ? s.patientId : '(none)',
              s.patientName ?? '',
              s.studyDate?.replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3') ?? '',
              s.modalities.join(','),
              String(s.instances),
              formatBytes(s.bytes),
              s.reason,
            ]),
          ),
    )
  },
}

export const heldResolve: Command = {
  name: ['held', 'resolve'],
  summary: 'Unit staff: name the patient of a held study; the node seals it into a record for them',
  usage: 'held resolve ID --patient ADDR [--remember]',
  positionals: true,
  options: { patient: { type: 'string' }, remember: { type: 'boolean' } },
  details: [
    ['ID', 'a held study (see `held`)'],
    ['--patient ADDR', "the patient's account (an approved patient)"],
    ['--remember', "also map the study's Patient ID to this patient for its next studies"],
  ],
  async run(ctx) {
    const id = one(ctx, 'held study id')
    const client = await connect(ctx.global)
    const status = await resolveHeldStudy(client, {
      id,
      patient: patientOption(ctx),
      remember: flag(ctx, 'remember'),
      signal: ctx.signal,
    })
    ctx.io.result(status, () =>
      status.recordId
        ? `sealed into record ${status.recordId} (anchoring)`
        : `now ${status.state}: ${status.reason ?? ''}`,
    )
  },
}

export const heldDiscard: Command = {
  name: ['held', 'discard'],
  summary: 'Unit staff: discard a held study (its ciphertext is released)',
  usage: 'held discard ID',
  positionals: true,
  details: [['ID', 'a held study (see `held`)']],
  async run(ctx) {
    const id = one(ctx, 'held study id')
    const client = await connect(ctx.global)
    const status = await discardHeldStudy(client, { id, signal: ctx.signal })
    ctx.io.result(status, () => `${id} ${status.state}`)
  },
}

export const patientIdSet: Command = {
  name: ['patient-id', 'set'],
  summary: "Unit staff: map one of the unit's Patient IDs (MRN) to a patient account, on this node only",
  usage: 'patient-id set MRN --patient ADDR',
  positionals: true,
  options: { patient: { type: 'string' } },
  details: [
    ['MRN', 'the Patient ID (0010,0020) the unit’s modalities and PACS send'],
    ['--patient ADDR', "the patient's account; held studies of this MRN are sealed for them at once"],
  ],
  async run(ctx) {
    const patientId = one(ctx, 'Patient ID')
    const client = await connect(ctx.global)
    const answer = await mapPatientId(client, { patientId, patient: patientOption(ctx), signal: ctx.signal })
    ctx.io.result(answer, () => `mapped to ${answer.patient}; ${answer.released} held study(ies) released`)
  },
}

export const patientIdRemove: Command = {
  name: ['patient-id', 'remove'],
  summary: 'Unit staff: remove the mapping of a Patient ID (MRN)',
  usage: 'patient-id remove MRN',
  positionals: true,
  details: [['MRN', 'a mapped Patient ID']],
  async run(ctx) {
    const patientId = one(ctx, 'Patient ID')
    const client = await connect(ctx.global)
    const answer = await mapPatientId(client, { patientId, patient: null, signal: ctx.signal })
    ctx.io.result(answer, () => (answer.removed ? 'mapping removed' : 'was not mapped'))
  },
}

export const patientIdShow: Command = {
  name: ['patient-id', 'show'],
  summary: 'Unit staff: the patient account a Patient ID (MRN) is mapped to',
  usage: 'patient-id show MRN',
  positionals: true,
  details: [['MRN', 'a Patient ID']],
  async run(ctx) {
    const patientId = one(ctx, 'Patient ID')
    const client = await connect(ctx.global)
    const patient = await lookupPatientId(client, { patientId, signal: ctx.signal })
    ctx.io.result({ patientId, patient }, () => patient ?? 'not mapped')
  },
}
