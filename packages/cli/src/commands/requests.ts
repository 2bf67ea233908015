import {
  type CreateDeidentifiedCopyReturnType,
  createDeidentifiedCopy,
  declareEmergency,
  getChainTime,
  getRequest,
  Kind,
  kindsOf,
  listRecords,
  MAX_EMERGENCY_DURATION,
  type PcmimsClient,
  PreconditionError,
  requestAccess,
  respondToRequest,
} from '@pcmims/core'
import { type Address, getAddress, type Hex, isAddress } from 'viem'
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
  usage:
    'respond REQUEST_ID --approve|--deny [--expires DURATION] [--view-only] [--deidentified [--include-burned-in]]',
  positionals: true,
  options: {
    approve: { type: 'boolean' },
    deny: { type: 'boolean' },
    expires: { type: 'string' },
    'view-only': { type: 'boolean' },
    deidentified: { type: 'boolean' },
    'include-burned-in': { type: 'boolean' },
  },
  details: [
    ['REQUEST_ID', 'the number `pcmims requests` shows (without the #)'],
    ['--approve', 'grant the requestor what they asked for'],
    ['--deny', 'refuse; the requestor sees the request as Denied'],
    ['--expires DURATION', `with --approve: ${EXPIRES_NOTE}`],
    ['--view-only', 'with --approve: list and view, but no downloads'],
    [
      '--deidentified',
      'with --approve: only de-identified copies, made now for each of your DICOM studies the request covers\n' +
        '(reports cannot be de-identified automatically: they are listed as skipped)',
    ],
    [
      '--include-burned-in',
      'with --deidentified: include images that may show burned-in text (held back otherwise)',
    ],
  ],
  async run(ctx) {
    const id = ctx.positionals[0]?.replace(/^#/, '')
    if (!id || !/^\d+$/.test(id) || ctx.positionals.length !== 1)
      throw new UsageError('Give one request id (a number)')
    const approve = flag(ctx, 'approve')
    if (approve === flag(ctx, 'deny')) throw new UsageError('Give exactly one of --approve and --deny')
    const deidentified = flag(ctx, 'deidentified')
    if (deidentified && !approve) throw new UsageError('--deidentified goes with --approve')
    if (flag(ctx, 'include-burned-in') && !deidentified)
      throw new UsageError('--include-burned-in goes with --deidentified')
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
      deidentifiedOnly: deidentified,
      signal: ctx.signal,
    })
    const copies = deidentified
      ? await copyInScope(client, current, {
          includeBurnedIn: flag(ctx, 'include-burned-in'),
          signal: ctx.signal,
          progress: (line) => ctx.io.progress(line),
        })
      : undefined
    ctx.io.result(
      {
        requestId: id,
        approved: approve,
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        ...result,
        txHash: hash,
        gasUsed: String(gasUsed),
        ...(copies ? { copies: copies.made, skipped: copies.skipped } : {}),
      },
      () =>
        [
          `Request #${id} ${expiresAt !== undefined ? `approved until ${new Date(expiresAt * 1000).toISOString()}` : 'denied'} (tx ${hash})`,
          ...(copies ? describeCopies(copies) : []),
        ].join('\n'),
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

export const deidentify: Command = {
  name: ['deidentify'],
  summary:
    'Patient: make a de-identified copy of one of your DICOM studies for a requestor you granted access',
  usage: 'deidentify RECORD_ID --for ADDR [--include-burned-in] [--again]',
  positionals: true,
  options: { for: { type: 'string' }, 'include-burned-in': { type: 'boolean' }, again: { type: 'boolean' } },
  details: [
    ['RECORD_ID', 'your study record (0x…, 32 bytes), as `pcmims records` shows it'],
    ['--for ADDR', 'the requestor; it must hold an active grant from you (approve its request first)'],
    ['--include-burned-in', 'include images that may show burned-in text (held back otherwise)'],
    ['--again', 'make another copy even if this requestor already has one of this record'],
  ],
  async run(ctx) {
    const recordId = ctx.positionals[0]
    if (!recordId || !/^0x[0-9a-fA-F]{64}$/.test(recordId) || ctx.positionals.length !== 1)
      throw new UsageError('Give one record id (0x and 64 hex digits)')
    const audience = str(ctx, 'for')
    if (!audience || !isAddress(audience, { strict: false })) throw new UsageError('--for must be an address')
    const client = await connect(ctx.global)
    const existing = await copiesFor(client, getAddress(audience), ctx.signal)
    const made = existing.get((recordId as Hex).toLowerCase())
    if (made && !flag(ctx, 'again')) {
      throw new AlreadyDoneError(
        `${getAddress(audience)} already has a de-identified copy of this record`,
        `copy ${made}; --again makes another`,
      )
    }
    const copy = await createDeidentifiedCopy(client, {
      recordId: recordId as Hex,
      audience: getAddress(audience),
      includeBurnedIn: flag(ctx, 'include-burned-in'),
      signal: ctx.signal,
    })
    ctx.io.result(copy, () => describeCopies({ made: [copy], skipped: [] }).join('\n'))
  },
}

type CopyOutcome = {
  made: CreateDeidentifiedCopyReturnType[]
  skipped: Array<{ recordId: Hex; kind: string; reason: string; code: string | undefined }>
}

/** The de-identified copies the patient already made for `audience`: source record id → copy id. */
async function copiesFor(
  client: PcmimsClient,
  audience: Address,
  signal: AbortSignal,
): Promise<Map<string, Hex>> {
  const own = await listRecords(client, { signal })
  return new Map(
    own
      .filter((r) => r.deidentifiedFrom && r.audience === audience)
      .map((r) => [r.deidentifiedFrom!.toLowerCase(), r.id]),
  )
}

/** De-identified copies of the patient's current, original records that an approved request covers. */
async function copyInScope(
  client: PcmimsClient,
  request: { requestor: Address; scope: string; kindMask: number },
  options: { includeBurnedIn: boolean; signal: AbortSignal; progress: (line: string) => void },
): Promise<CopyOutcome> {
  const own = await listRecords(client, { signal: options.signal })
  // A record this requestor already has a copy of is not copied again (a second approval, a retry).
  const copied = new Set(
    own
      .filter((r) => r.deidentifiedFrom && r.audience === request.requestor)
      .map((r) => r.deidentifiedFrom!.toLowerCase()),
  )
  const inScope = own.filter(
    (r) =>
      !r.deidentifiedFrom &&
      !copied.has(r.id.toLowerCase()) &&
      (request.scope !== 'Kinds' || ((request.kindMask >> Kind[r.kind]) & 1) === 1),
  )
  const outcome: CopyOutcome = { made: [], skipped: [] }
  for (const [i, record] of inScope.entries()) {
    options.progress(`de-identifying record ${i + 1}/${inScope.length} (${record.kind})`)
    try {
      outcome.made.push(
        await createDeidentifiedCopy(client, {
          recordId: record.id,
          audience: request.requestor,
          includeBurnedIn: options.includeBurnedIn,
          signal: options.signal,
        }),
      )
    } catch (error) {
      // A report, or a study with an image the profile cannot process: said, never copied in part.
      if (!(error instanceof PreconditionError)) throw error
      outcome.skipped.push({
        recordId: record.id,
        kind: record.kind,
        reason: error.details ? `${error.shortMessage}: ${error.details}` : error.shortMessage,
        code: error.code,
      })
    }
  }
  return outcome
}

function describeCopies(outcome: CopyOutcome): string[] {
  const lines = outcome.made.map(
    (c) =>
      `De-identified copy ${c.recordId} of ${c.sourceId} for ${c.audience}: ${c.instances} instance(s), ${c.status}` +
      (c.held.length ? `; held back: ${c.held.map((h) => `${h.path} (${h.reason})`).join(', ')}` : ''),
  )
  for (const s of outcome.skipped) lines.push(`Not copied: ${s.recordId} (${s.kind}): ${s.reason}`)
  if (outcome.made.length === 0 && outcome.skipped.length === 0) lines.push('No records to copy.')
  return lines
}
