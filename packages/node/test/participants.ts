import { admitUnit, approveParticipant, type PcmimsClient, registerParticipant } from '@pcmims/core'
import type { TestIdentity, TestNode } from '@pcmims/test-utils'
import { toHex } from 'viem'

/** Registers `who` at `unit` in `role` and has the unit approve it (unless `approve` is false). */
export async function enrol(
  t: TestNode,
  who: TestIdentity,
  unit: TestIdentity,
  role: 'Patient' | 'Uploader' | 'Medic' | 'Requestor',
  approve = true,
): Promise<PcmimsClient> {
  const client = await t.clientFor(who)
  await registerParticipant(client.walletClient, {
    contract: client.config.contract,
    unit: unit.account.address,
    role,
    encryptionKey: toHex(who.encryptionKeyPair.publicKey),
  })
  if (approve) {
    const unitClient = await t.clientFor(unit)
    await approveParticipant(unitClient.walletClient, {
      contract: client.config.contract,
      account: who.account.address,
    })
  }
  return client
}

/** A second health unit admitted by governance. */
export async function admitSecondUnit(t: TestNode): Promise<TestIdentity> {
  const unit = await t.newIdentity()
  const governance = await t.clientFor(t.dev.governance!)
  await admitUnit(governance.walletClient, {
    contract: governance.config.contract,
    unit: unit.account.address,
    encryptionKey: toHex(unit.encryptionKeyPair.publicKey),
  })
  return unit
}
