import {
  approveParticipant,
  getParticipant,
  PreconditionError,
  rejectParticipant,
  type Status,
  suspendParticipant,
} from '@pcmims/core'
import { getAddress, isAddress } from 'viem'
import type { Command, CommandContext } from '../command.js'
import { str } from '../command.js'
import { connect } from '../context.js'
import { table } from '../format.js'
import { AlreadyDoneError, UsageError } from '../io.js'

function target(ctx: CommandContext) {
  const address = ctx.positionals[0]
  if (!address || !isAddress(address, { strict: false }) || ctx.positionals.length > 1) {
    throw new UsageError('Give one account address')
  }
  return getAddress(address)
}

// The contract's transitions: approve Pending or Suspended, reject Pending, suspend Approved.
const TRANSITIONS = {
  approve: { to: 'Approved', from: ['Pending', 'Suspended'], action: approveParticipant },
  reject: { to: 'Rejected', from: ['Pending'], action: rejectParticipant },
  suspend: { to: 'Suspended', from: ['Approved'], action: suspendParticipant },
} as const satisfies Record<string, { to: Status; from: Status[]; action: typeof approveParticipant }>

function statusCommand(word: keyof typeof TRANSITIONS): Command {
  const { to, from, action } = TRANSITIONS[word]
  return {
    name: [word],
    summary: `Unit admin: ${word} a registration or staff member of this unit`,
    usage: `${word} ADDR`,
    positionals: true,
    details: [['ADDR', `an account of your unit that is ${from.join(' or ')}`]],
    async run(ctx) {
      const account = target(ctx)
      const client = await connect(ctx.global)
      const participant = await getParticipant(client.publicClient, {
        contract: client.config.contract,
        account,
      })
      if (participant.role === 'None') throw new PreconditionError(`${account} is not registered`)
      if (participant.role === 'Unit') throw new PreconditionError(`${account} is a health unit`)
      if (participant.unit !== client.account.address)
        throw new PreconditionError(`${account} is registered at another unit`, { details: participant.unit })
      if (participant.status === to) throw new AlreadyDoneError(`${account} is already ${to}`)
      if (!(from as readonly Status[]).includes(participant.status))
        throw new PreconditionError(`${account} is ${participant.status}`, {
          details: `${word} applies to an account that is ${from.join(' or ')}`,
        })
      const receipt = await action(client.walletClient, { contract: client.config.contract, account })
      ctx.io.result(
        { account, status: to, txHash: receipt.hash, gasUsed: String(receipt.gasUsed) },
        () => `${account} is now ${to}`,
      )
    },
  }
}

export const approve = statusCommand('approve')
export const reject = statusCommand('reject')
export const suspend = statusCommand('suspend')

const STATUSES = ['Pending', 'Approved', 'Suspended', 'Rejected'] as const

export const registrations: Command = {
  name: ['registrations'],
  summary: "Unit admin: list the unit's registrations (optionally by status)",
  usage: 'registrations [--status Pending|Approved|Suspended|Rejected]',
  options: { status: { type: 'string' } },
  details: [['--status STATUS', `only accounts in this state: ${STATUSES.join(', ')} (any case)`]],
  async run(ctx) {
    const given = str(ctx, 'status')
    const status = STATUSES.find((s) => s.toLowerCase() === given?.trim().toLowerCase())
    if (given !== undefined && !status)
      throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`, `got ${given}`)
    const client = await connect(ctx.global)
    const answer = await client.node.json<{
      participants: Array<{ address: string; role: string; status: string }>
    }>('GET', `/api/v1/units/${client.account.address}/participants`, { query: { status } })
    ctx.io.result(answer, () =>
      answer.participants.length === 0
        ? 'No registrations.'
        : table(
            ['ACCOUNT', 'ROLE', 'STATUS'],
            answer.participants.map((p) => [p.address, p.role, p.status]),
          ),
    )
  },
}
