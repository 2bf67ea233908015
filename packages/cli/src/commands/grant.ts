import { createGrant, getChainTime, getGrant, revokeAccess, rotateRecordKey } from '@pcmims/core'
import { getAddress, type Hex, isAddress } from 'viem'
import type { Command, CommandContext } from '../command.js'
import { flag, str, strs } from '../command.js'
import { connect } from '../context.js'
import { EXPIRES_NOTE, parseExpiry } from '../duration.js'
import { UsageError } from '../io.js'
import { KIND_NOTE, parseKind } from '../vocabulary.js'

function addressOption(ctx: CommandContext, name: string) {
  const value = str(ctx, name)
  if (!value || !isAddress(value, { strict: false })) throw new UsageError(`--${name} must be an address`)
  return getAddress(value)
}

export const grant: Command = {
  name: ['grant'],
  summary:
    'Patient: grant a medic or requestor access (all records, some kinds, or listed records) until an expiry',
  usage: 'grant --to ADDR [--kind KIND…] [--record ID…] [--expires DURATION] [--view-only] [--deidentified]',
  options: {
    to: { type: 'string' },
    kind: { type: 'string', multiple: true },
    record: { type: 'string', multiple: true },
    expires: { type: 'string' },
    'view-only': { type: 'boolean' },
    deidentified: { type: 'boolean' },
  },
  details: [
    ['--to ADDR', 'the medic or requestor (an approved participant)'],
    ['--kind KIND…', `only records of these kinds, later ones too (repeat the option):\n${KIND_NOTE}`],
    [
      '--record ID…',
      'only these records (repeat the option); not with --kind.\nWith neither, the grant covers all your records, later ones too',
    ],
    ['--expires DURATION', EXPIRES_NOTE],
    ['--view-only', 'list and view, but no downloads'],
    ['--deidentified', 'only de-identified copies'],
  ],
  async run(ctx) {
    const grantee = addressOption(ctx, 'to')
    const kinds = strs(ctx, 'kind').map(parseKind)
    const records = strs(ctx, 'record')
    for (const id of records)
      if (!/^0x[0-9a-fA-F]{64}$/.test(id)) throw new UsageError(`Not a record id: ${id}`)
    if (kinds.length && records.length) throw new UsageError('Give --kind or --record, not both')
    const seconds = parseExpiry(str(ctx, 'expires'))
    const client = await connect(ctx.global)
    const expiresAt = (await getChainTime(client.publicClient)) + seconds
    const { hash, gasUsed, ...result } = await createGrant(client, {
      grantee,
      kinds,
      records: records as Hex[],
      expiresAt,
      download: !flag(ctx, 'view-only'),
      deidentifiedOnly: flag(ctx, 'deidentified'),
      signal: ctx.signal,
    })
    ctx.io.result({ grantee, expiresAt, ...result, txHash: hash, gasUsed: String(gasUsed) }, () =>
      [
        `Granted ${grantee}: ${result.scope}${kinds.length ? ` (${kinds.join(', ')})` : ''} until ${new Date(expiresAt * 1000).toISOString()}`,
        `  ${flag(ctx, 'view-only') ? 'view only' : 'download allowed'}; ${
          result.keyBundle
            ? `${result.records.length} existing record key(s) in bundle ${result.keyBundle}`
            : 'no record keys (de-identified copies only)'
        }`,
        `  tx ${hash}, gas ${gasUsed}`,
      ].join('\n'),
    )
  },
}

export const revoke: Command = {
  name: ['revoke'],
  summary:
    'Patient: revoke a grant (nodes stop serving; copies already downloaded cannot be recalled; see `rotate`)',
  usage: 'revoke --to ADDR',
  options: { to: { type: 'string' } },
  details: [['--to ADDR', 'the medic or requestor whose grant ends now']],
  async run(ctx) {
    const grantee = addressOption(ctx, 'to')
    const client = await connect(ctx.global)
    const current = await getGrant(client.publicClient, {
      contract: client.config.contract,
      patient: client.account.address,
      grantee,
    })
    if (current.scope === 'None') throw new UsageError(`No active grant to ${grantee}`)
    const receipt = await revokeAccess(client.walletClient, { contract: client.config.contract, grantee })
    ctx.io.result({ grantee, txHash: receipt.hash, gasUsed: String(receipt.gasUsed) }, () =>
      [
        `Revoked ${grantee} (tx ${receipt.hash}, gas ${receipt.gasUsed}).`,
        'Nodes refuse to serve from now on. Anything already downloaded cannot be recalled;',
        'to make old keys useless too, rotate the records: pcmims rotate RECORD_ID',
      ].join('\n'),
    )
  },
}

export const rotate: Command = {
  name: ['rotate'],
  summary:
    'Patient: re-encrypt a record under a new key for the remaining recipients and retire the old copy',
  usage: 'rotate RECORD_ID',
  positionals: true,
  details: [['RECORD_ID', 'one of your records (0x + 64 hex); it gets a new id']],
  async run(ctx) {
    const id = ctx.positionals[0]
    if (!id || ctx.positionals.length !== 1 || !/^0x[0-9a-fA-F]{64}$/.test(id))
      throw new UsageError('Give one record id')
    const client = await connect(ctx.global)
    const result = await rotateRecordKey(client, { recordId: id as Hex, signal: ctx.signal })
    ctx.io.result(result, () =>
      [
        `record ${result.previous} replaced by ${result.recordId} (${result.status}${result.txHash ? `, tx ${result.txHash}` : ''})`,
        ...(result.droppedGrantees.length
          ? [`  no longer wrapped for: ${result.droppedGrantees.join(', ')} (grant again if needed)`]
          : []),
      ].join('\n'),
    )
  },
}
