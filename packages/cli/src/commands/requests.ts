import {
  declareEmergency,
  getChainTime,
  getRequest,
  kindsOf,
  MAX_EMERGENCY_DURATION,
  requestAccess,
  respondToRequest,
} from '@pcmims/core'
import { getAddress, isAddress } from 'viem'
import type { Command } from '../command.js'
import { flag, str, strs } from '../command.js'
import { connect } from '../context.js'
import { EXPIRES_NOTE, parseDuration, parseExpiry } from '../duration.js'
import { table } from '../format.js'
import { AlreadyDoneError, NotFoundError, UsageError } from '../io.js'
import {
  EMERGENCY_DURATION_NOTE,
  KIND_NOTE,
  PURPOSE_NOTE,
  parseKind,
  parsePurpose,
  parseReason,
  REASON_NOTE,
  reasonName,
} from '../vocabulary.js'

export const request: Command = {
  name: ['request'],
  summary: 'Requestor or medic: ask a patient for access, with a purpose',
  usage: 'request --patient ADDR --purpose treatment|research|insurance|legal|other [--kind KIND…]',
  options: {
    patient: { type: 'string' },
    purpose: { type: 'string' },
    kind: { type: 'string', multiple: true },
  },
  details: [
    ['--patient ADDR', "the patient's account address"],
    ['--purpose PURPOSE', `why you ask: ${PURPOSE_NOTE} (any case)`],
    ['--kind KIND…', `ask for these kinds only (repeat the option; default all):\n${KIND_NOTE}`],
  ],
  async run(ctx) {
    const patient = str(ctx, 'patient')
    if (!patient || !isAddress(patient, { strict: false }))
      throw new UsageError('--patient must be an address')
    const purpose = parsePurpose(str(ctx, 'purpose'))
    const kinds = strs(ctx, 'kind').map(parseKind)
    const client = await connect(ctx.global)
    const receipt = await requestAccess(client.walletClient, {
      contract: client.config.contract,
      patient: getAddress(patient),
      scope: kinds.length ? 'Kinds' : 'All',
      ...(kinds.length ? { kinds } : {}),
      purpose,
    })
    ctx.io.result(
      {
        requestId: receipt.requestId,
        patient: getAddress(patient),
        purpose,
        txHash: receipt.hash,
        gasUsed: String(receipt.gasUsed),
      },
      () =>
        `Request #${receipt.requestId} sent to ${getAddress(patient)} (${purpose}); the patient approves or denies it.`,
    )
  },
}

export const requests: Command = {
  name: ['requests'],
  summary: 'Access requests to you (patient) or from you (requestor), with their status',
  usage: 'requests',
  async run(ctx) {
    const client = await connect(ctx.global)
    const answer = await client.node.json<{
      requests: Array<{
        id: string
        requestor: string
        patient: string
        scope: string
        kindMask: number
        purpose: string
        status: string
        direction: string
      }>
    }>('GET', '/api/v1/requests')
    ctx.io.result(answer, () =>
      answer.requests.length === 0
        ? 'No requests.'
        : table(
            ['REQUEST', 'FROM / TO', 'PURPOSE', 'KINDS', 'STATUS'],
            answer.requests.map((r) => [
              `#${r.id}`,
              r.direction === 'incoming' ? `from ${r.requestor}` : `to ${r.patient}`,
              r.purpose,
              r.scope === 'Kinds' ? kindsOf(r.kindMask).join(', ') : 'all',
              r.status,
            ]),
          ),
    )
  },
}

export const respond: Command = {
  name: ['respond'],
  summary: 'Patient: approve (creating a grant) or deny an access request',
  usage: 'respond REQUEST_ID --approve|--deny [--expires DURATION] [--view-only] [--deidentified]',
  positionals: true,
  options: {
    approve: { type: 'boolean' },
    deny: { type: 'boolean' },
    expires: { type: 'string' },
    'view-only': { type: 'boolean' },
    deidentified: { type: 'boolean' },
  },
  details: [
    ['REQUEST_ID', 'the number `pcmims requests` shows (without the #)'],
    ['--approve', 'grant the requestor what they asked for'],
    ['--deny', 'refuse; the requestor sees the request as Denied'],
    ['--expires DURATION', `with --approve: ${EXPIRES_NOTE}`],
    ['--view-only', 'with --approve: list and view, but no downloads'],
    ['--deidentified', 'with --approve: only de-identified copies'],
  ],
  async run(ctx) {
    const id = ctx.positionals[0]?.replace(/^#/, '')
    if (!id || !/^\d+$/.test(id) || ctx.positionals.length !== 1)
      throw new UsageError('Give one request id (a number)')
    const approve = flag(ctx, 'approve')
    if (approve === flag(ctx, 'deny')) throw new UsageError('Give exactly one of --approve and --deny')
    const seconds = approve ? parseExpiry(str(ctx, 'expires')) : 0
    const client = await connect(ctx.global)
    const current = await getRequest(client.publicClient, {
      contract: client.config.contract,
      id: BigInt(id),
    })
    if (current.status === 'None') throw new NotFoundError(`No such request #${id}`)
    if (current.status === (approve ? 'Approved' : 'Denied'))
      throw new AlreadyDoneError(`Request #${id} is already ${current.status}`)
    const expiresAt = approve ? (await getChainTime(client.publicClient)) + seconds : undefined
    const { hash, gasUsed, ...result } = await respondToRequest(client, {
      requestId: BigInt(id),
      approve,
      expiresAt,
      download: !flag(ctx, 'view-only'),
      deidentifiedOnly: flag(ctx, 'deidentified'),
      signal: ctx.signal,
    })
    ctx.io.result(
      {
        requestId: id,
        approved: approve,
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        ...result,
        txHash: hash,
        gasUsed: String(gasUsed),
      },
      () =>
        `Request #${id} ${expiresAt !== undefined ? `approved until ${new Date(expiresAt * 1000).toISOString()}` : 'denied'} (tx ${hash})`,
    )
  },
}

export const emergency: Command = {
  name: ['emergency'],
  summary:
    "Medic: break-glass access to a patient's records at your unit, for a few hours at most, always visible",
  usage: 'emergency --patient ADDR --reason CODE [--duration 2h]',
  options: { patient: { type: 'string' }, reason: { type: 'string' }, duration: { type: 'string' } },
  details: [
    ['--patient ADDR', "the patient's account address"],
    ['--reason CODE', `a code or its name: ${REASON_NOTE}`],
    ['--duration DURATION', EMERGENCY_DURATION_NOTE],
  ],
  async run(ctx) {
    const patient = str(ctx, 'patient')
    if (!patient || !isAddress(patient, { strict: false }))
      throw new UsageError('--patient must be an address')
    const reason = parseReason(str(ctx, 'reason'))
    const duration = parseDuration(str(ctx, 'duration') ?? '2h', '--duration')
    if (duration > MAX_EMERGENCY_DURATION)
      throw new UsageError(`--duration is at most ${MAX_EMERGENCY_DURATION / 3600}h for emergency access`)
    const client = await connect(ctx.global)
    const receipt = await declareEmergency(client.walletClient, {
      contract: client.config.contract,
      patient: getAddress(patient),
      reasonCode: reason,
      durationSeconds: duration,
    })
    ctx.io.result(
      {
        patient: getAddress(patient),
        reasonCode: reason,
        reason: reasonName(reason),
        until: receipt.until,
        txHash: receipt.hash,
        gasUsed: String(receipt.gasUsed),
      },
      () =>
        `Emergency access to ${getAddress(patient)} (${reasonName(reason)}) until ${new Date(receipt.until * 1000).toISOString()}; the patient sees it.`,
    )
  },
}
