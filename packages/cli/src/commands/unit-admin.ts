import { approveParticipant, rejectParticipant, suspendParticipant } from '@pcmims/core'
import { getAddress, isAddress } from 'viem'
import type { Command, CommandContext } from '../command.js'
import { str } from '../command.js'
import { connect } from '../context.js'
import { UsageError } from '../io.js'

function target(ctx: CommandContext) {
  const address = ctx.positionals[0]
  if (!address || !isAddress(address, { strict: false }) || ctx.positionals.length > 1) {
    throw new UsageError('Give one account address')
  }
  return getAddress(address)
}

function statusCommand(
  word: 'approve' | 'reject' | 'suspend',
  status: string,
  action: typeof approveParticipant,
): Command {
  return {
    name: [word],
    summary: `Unit admin: ${word} a registration or staff member of this unit`,
    usage: `${word} ADDR`,
    positionals: true,
    async run(ctx) {
      const account = target(ctx)
      const client = await connect(ctx.global)
      const receipt = await action(client.walletClient, { contract: client.config.contract, account })
      ctx.io.result({ account, status, txHash: receipt.hash }, () => `${account} is now ${status}`)
    },
  }
}

export const approve = statusCommand('approve', 'Approved', approveParticipant)
export const reject = statusCommand('reject', 'Rejected', rejectParticipant)
export const suspend = statusCommand('suspend', 'Suspended', suspendParticipant)

export const registrations: Command = {
  name: ['registrations'],
  summary: "Unit admin: list the unit's registrations (optionally by status)",
  usage: 'registrations [--status Pending|Approved|Suspended|Rejected]',
  options: { status: { type: 'string' } },
  async run(ctx) {
    const client = await connect(ctx.global)
    const status = str(ctx, 'status')
    const answer = await client.node.json<{
      participants: Array<{ address: string; role: string; status: string }>
    }>('GET', `/api/v1/units/${client.account.address}/participants`, { query: { status } })
    ctx.io.result(answer, () =>
      answer.participants.length === 0
        ? 'No registrations.'
        : answer.participants.map((p) => `${p.address}  ${p.role.padEnd(9)} ${p.status}`).join('\n'),
    )
  },
}
