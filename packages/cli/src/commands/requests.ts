import { declareEmergency, getChainTime, Purpose, requestAccess, respondToRequest } from '@pcmims/core'
import { getAddress, isAddress } from 'viem'
import type { Command } from '../command.js'
import { flag, str, strs } from '../command.js'
import { connect } from '../context.js'
import { parseDuration } from '../duration.js'
import { UsageError } from '../io.js'
import { parseKind } from './upload.js'

const PURPOSES = Object.keys(Purpose) as Array<keyof typeof Purpose>

export const request: Command = {
  name: ['request'],
  summary: 'Requestor or medic: ask a patient for access, with a purpose',
  usage: 'request --patient ADDR --purpose treatment|research|insurance|legal|other [--kind KIND…]',
  options: {
    patient: { type: 'string' },
    purpose: { type: 'string' },
    kind: { type: 'string', multiple: true },
  },
  async run(ctx) {
    const patient = str(ctx, 'patient')
    if (!patient || !isAddress(patient, { strict: false }))
      throw new UsageError('--patient must be an address')
    const purpose = PURPOSES.find((p) => p.toLowerCase() === (str(ctx, 'purpose') ?? '').toLowerCase())
    if (!purpose) throw new UsageError(`--purpose must be one of ${PURPOSES.join(', ').toLowerCase()}`)
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
      { requestId: receipt.requestId, patient: getAddress(patient), purpose, txHash: receipt.hash },
      () =>
        `Request ${receipt.requestId} sent to ${getAddress(patient)} (${purpose}); the patient approves or denies it.`,
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
        purpose: string
        status: string
        direction: string
      }>
    }>('GET', '/api/v1/requests')
    ctx.io.result(answer, () =>
      answer.requests.length === 0
        ? 'No requests.'
        : answer.requests
            .map(
              (r) =>
                `#${r.id}  ${r.direction === 'incoming' ? `from ${r.requestor}` : `to ${r.patient}`}  ${r.purpose}  ${r.scope}  ${r.status}`,
            )
            .join('\n'),
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
  async run(ctx) {
    const id = ctx.positionals[0]
    if (!id || !/^\d+$/.test(id) || ctx.positionals.length !== 1)
      throw new UsageError('Give one request id (a number)')
    if (flag(ctx, 'approve') === flag(ctx, 'deny'))
      throw new UsageError('Give exactly one of --approve and --deny')
    const client = await connect(ctx.global)
    const expiresAt = (await getChainTime(client.publicClient)) + parseDuration(str(ctx, 'expires') ?? '30d')
    const result = await respondToRequest(client, {
      requestId: BigInt(id),
      approve: flag(ctx, 'approve'),
      expiresAt,
      download: !flag(ctx, 'view-only'),
      deidentifiedOnly: flag(ctx, 'deidentified'),
      signal: ctx.signal,
    })
    ctx.io.result(
      { requestId: id, approved: flag(ctx, 'approve'), ...result },
      () =>
        `Request #${id} ${flag(ctx, 'approve') ? `approved until ${new Date(expiresAt * 1000).toISOString()}` : 'denied'} (tx ${result.hash})`,
    )
  },
}

export const emergency: Command = {
  name: ['emergency'],
  summary:
    "Medic: break-glass access to a patient's records at your unit, for a few hours at most, always visible",
  usage: 'emergency --patient ADDR --reason CODE [--duration 2h]',
  options: { patient: { type: 'string' }, reason: { type: 'string' }, duration: { type: 'string' } },
  async run(ctx) {
    const patient = str(ctx, 'patient')
    if (!patient || !isAddress(patient, { strict: false }))
      throw new UsageError('--patient must be an address')
    const reason = Number(str(ctx, 'reason'))
    if (!Number.isInteger(reason) || reason < 0 || reason > 255)
      throw new UsageError('--reason must be a code 0-255')
    const duration = parseDuration(str(ctx, 'duration') ?? '2h')
    const client = await connect(ctx.global)
    const receipt = await declareEmergency(client.walletClient, {
      contract: client.config.contract,
      patient: getAddress(patient),
      reasonCode: reason,
      durationSeconds: duration,
    })
    ctx.io.result(
      { patient: getAddress(patient), until: receipt.until, txHash: receipt.hash },
      () =>
        `Emergency access to ${getAddress(patient)} until ${new Date(receipt.until * 1000).toISOString()}; the patient sees it.`,
    )
  },
}
