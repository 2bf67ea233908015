import { registerParticipant } from '@pcmims/core'
import { getAddress, isAddress, toHex } from 'viem'
import type { Command } from '../command.js'
import { str } from '../command.js'
import { connect } from '../context.js'
import { UsageError } from '../io.js'

const ROLES = {
  patient: 'Patient',
  uploader: 'Uploader',
  radiologist: 'Uploader',
  lab: 'Uploader',
  medic: 'Medic',
  requestor: 'Requestor',
} as const

export const register: Command = {
  name: ['register'],
  summary: 'Ask a health unit to admit this account in a role (the unit approves)',
  usage: 'register --role patient|uploader|medic|requestor --unit ADDR',
  options: { role: { type: 'string' }, unit: { type: 'string' } },
  details: [
    ['--role ROLE', 'patient, uploader (also: radiologist, lab), medic or requestor'],
    ['--unit ADDR', "the health unit's address (`pcmims start` prints it as `unit`)"],
  ],
  async run(ctx) {
    const role = ROLES[(str(ctx, 'role') ?? '').toLowerCase() as keyof typeof ROLES]
    if (!role) throw new UsageError('--role must be patient, uploader, medic or requestor')
    const unit = str(ctx, 'unit')
    if (!unit || !isAddress(unit, { strict: false }))
      throw new UsageError('--unit must be the address of a health unit')
    const client = await connect(ctx.global)
    if ((await client.publicClient.getBalance({ address: client.account.address })) === 0n) {
      // A brand-new account has no gas. The embedded development node funds it; a real network does not.
      await client.node.json('POST', '/api/v1/dev/fund').catch(() => undefined)
    }
    const receipt = await registerParticipant(client.walletClient, {
      contract: client.config.contract,
      unit: getAddress(unit),
      role,
      encryptionKey: toHex(client.encryptionKeyPair.publicKey),
    })
    ctx.io.result(
      {
        address: client.account.address,
        role,
        unit: getAddress(unit),
        status: 'Pending',
        txHash: receipt.hash,
        gasUsed: String(receipt.gasUsed),
      },
      () =>
        `Registration requested: ${client.account.address} as ${role} at ${getAddress(unit)} (pending the unit's approval)`,
    )
  },
}
