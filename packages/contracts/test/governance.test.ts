import { randomKey, setupUnit, startTestChain, type TestChain } from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Role, Status } from '../src/index.js'
import { bind, eventOf, ZERO_ADDRESS, ZERO_HASH } from './helpers.js'

let chain: TestChain
let t: ReturnType<typeof bind>

beforeAll(async () => {
  chain = await startTestChain()
  t = bind(chain)
})
afterAll(async () => {
  await chain?.stop()
})

describe('deployment', () => {
  it('sets governance and logs it', async () => {
    expect(await t.read('governance')).toBe(chain.governance.address)
    expect(await t.read('pendingGovernance')).toBe(ZERO_ADDRESS)
    expect(await t.read('MAX_EMERGENCY_DURATION')).toBe(4 * 3600)
    const logs = await chain.publicClient.getContractEvents({
      address: chain.contract,
      abi: (await import('../src/index.js')).pcmimsAbi,
      eventName: 'GovernanceTransferred',
      fromBlock: 0n,
    })
    expect(logs[0]?.args).toEqual({ previousGovernance: ZERO_ADDRESS, governance: chain.governance.address })
  })

  it('refuses a zero governance', async () => {
    const { pcmimsAbi, pcmimsBytecode } = await import('../src/index.js')
    await expect(
      chain.publicClient.call({
        account: chain.governance,
        data: (await import('viem')).encodeDeployData({
          abi: pcmimsAbi,
          bytecode: pcmimsBytecode,
          args: [ZERO_ADDRESS],
        }),
      }),
    ).rejects.toThrow(/ZeroAddress|0xd92e233d/)
  })
})

describe('units', () => {
  it('admits units with increasing indexes as Approved participants', async () => {
    const key = randomKey()
    const a = await chain.newAccount()
    const b = await chain.newAccount()
    const before = await t.read<number>('unitCount')
    const ra = await t.write(t.governance, 'admitUnit', [a.address, key])
    expect(eventOf(ra, 'UnitAdmitted')).toEqual({
      unit: a.address,
      unitIndex: before + 1,
      encryptionKey: key,
    })
    const rb = await t.write(t.governance, 'admitUnit', [b.address, randomKey()])
    expect(eventOf(rb, 'UnitAdmitted').unitIndex).toBe(before + 2)
    const p = await t.read<{
      unit: string
      role: number
      status: number
      unitIndex: number
      updatedAt: number
    }>('participantOf', [a.address])
    expect(p).toMatchObject({
      unit: a.address,
      role: Role.Unit,
      status: Status.Approved,
      unitIndex: before + 1,
    })
    expect(p.updatedAt).toBe(await chain.now())
    expect(await t.read('encryptionKeyOf', [a.address])).toBe(key)
    expect(await t.read('unitAt', [before + 1])).toBe(a.address)
    expect(await t.read('unitAt', [before + 2])).toBe(b.address)
  })

  it('admitUnit: only governance, non-zero unit and key, not registered yet', async () => {
    const unit = await setupUnit(chain, { roles: { patient: 1 } })
    const fresh = await chain.newAccount()
    await t.expectRevert(unit.address, 'admitUnit', [fresh.address, randomKey()], 'NotGovernance', [
      unit.address,
    ])
    await t.expectRevert(chain.governance.address, 'admitUnit', [ZERO_ADDRESS, randomKey()], 'ZeroAddress')
    await t.expectRevert(chain.governance.address, 'admitUnit', [fresh.address, ZERO_HASH], 'ZeroKey')
    await t.expectRevert(
      chain.governance.address,
      'admitUnit',
      [unit.address, randomKey()],
      'AlreadyRegistered',
      [unit.address],
    )
    const patient = unit.patients[0]!.address
    await t.expectRevert(chain.governance.address, 'admitUnit', [patient, randomKey()], 'AlreadyRegistered', [
      patient,
    ])
  })

  it('setUnitStatus suspends and re-approves, with events and checks', async () => {
    const unit = await setupUnit(chain, { roles: { patient: 1 } })
    const g = chain.governance.address
    await t.expectRevert(unit.address, 'setUnitStatus', [unit.address, Status.Suspended], 'NotGovernance')
    await t.expectRevert(g, 'setUnitStatus', [unit.address, Status.Rejected], 'InvalidStatus', [
      Status.Rejected,
    ])
    await t.expectRevert(g, 'setUnitStatus', [unit.address, Status.Pending], 'InvalidStatus', [
      Status.Pending,
    ])
    await t.expectRevert(g, 'setUnitStatus', [unit.patients[0]!.address, Status.Suspended], 'NotAUnit')
    await t.expectRevert(g, 'setUnitStatus', [unit.address, Status.Approved], 'InvalidStatusTransition', [
      unit.address,
      Status.Approved,
    ])
    const r = await t.write(t.governance, 'setUnitStatus', [unit.address, Status.Suspended])
    expect(eventOf(r, 'ParticipantStatusChanged')).toEqual({
      account: unit.address,
      by: g,
      status: Status.Suspended,
    })
    expect((await t.read<{ status: number }>('participantOf', [unit.address])).status).toBe(Status.Suspended)
    await t.expectRevert(g, 'setUnitStatus', [unit.address, Status.Suspended], 'InvalidStatusTransition')
    const back = await t.write(t.governance, 'setUnitStatus', [unit.address, Status.Approved])
    expect(eventOf(back, 'ParticipantStatusChanged').status).toBe(Status.Approved)
  })

  it('a unit cannot approve, reject or suspend itself or another unit', async () => {
    const u1 = await setupUnit(chain)
    const u2 = await setupUnit(chain)
    for (const fn of ['approve', 'reject', 'suspend']) {
      await t.expectRevert(u1.address, fn, [u1.address], 'NotUnitOf', [u1.address, u1.address])
      await t.expectRevert(u1.address, fn, [u2.address], 'NotUnitOf', [u1.address, u2.address])
    }
  })
})

describe('governance handover', () => {
  it('is two-step, cancellable, and moves all governance powers', async () => {
    const next = await chain.newAccount()
    const other = await chain.newAccount()
    const g = chain.governance.address
    await t.expectRevert(next.address, 'transferGovernance', [next.address], 'NotGovernance', [next.address])
    await t.expectRevert(next.address, 'acceptGovernance', [], 'NotPendingGovernance', [next.address])

    const started = await t.write(t.governance, 'transferGovernance', [next.address])
    expect(eventOf(started, 'GovernanceTransferStarted')).toEqual({
      governance: g,
      pendingGovernance: next.address,
    })
    expect(await t.read('pendingGovernance')).toBe(next.address)
    expect(await t.read('governance')).toBe(g)
    await t.expectRevert(other.address, 'acceptGovernance', [], 'NotPendingGovernance', [other.address])

    // cancel, then start again
    await t.write(t.governance, 'transferGovernance', [ZERO_ADDRESS])
    await t.expectRevert(next.address, 'acceptGovernance', [], 'NotPendingGovernance')
    await t.write(t.governance, 'transferGovernance', [next.address])

    const nextSender = { account: next, wallet: chain.walletClientFor(next) }
    const accepted = await t.write(nextSender, 'acceptGovernance', [])
    expect(eventOf(accepted, 'GovernanceTransferred')).toEqual({
      previousGovernance: g,
      governance: next.address,
    })
    expect(await t.read('governance')).toBe(next.address)
    expect(await t.read('pendingGovernance')).toBe(ZERO_ADDRESS)

    const unit = await chain.newAccount()
    await t.expectRevert(g, 'admitUnit', [unit.address, randomKey()], 'NotGovernance', [g])
    await t.write(nextSender, 'admitUnit', [unit.address, randomKey()])
    // hand back so the other tests in this file keep working with account 0
    await t.write(nextSender, 'transferGovernance', [g])
    await t.write(t.governance, 'acceptGovernance', [])
    expect(await t.read('governance')).toBe(g)
  })

  it('governance holds no patient powers: its grants are inert, and it has no access', async () => {
    const unit = await setupUnit(chain, { roles: { patient: 1, uploader: 1, requestor: 1 } })
    const g = chain.governance.address
    const patient = unit.patients[0]!.address
    const reader = unit.requestors[0]!.address
    const id = `0x${'ab'.repeat(32)}` as const
    await t.write(unit.uploaders[0]!, 'anchorRecord', [id, patient, unit.uploaders[0]!.address, 1])
    // Anyone may write grants of its own; they only apply to records whose patient is the grantor.
    const r = await t.write(t.governance, 'grant', [
      reader,
      1,
      0,
      [],
      (await chain.now()) + 3600,
      0,
      ZERO_HASH,
    ])
    expect(eventOf(r, 'GrantSet')).toMatchObject({ patient: g, grantee: reader })
    expect(await t.read('canAccess', [reader, id])).toBe(false)
    expect(await t.read('canAccess', [g, id])).toBe(false)
    await t.expectRevert(
      g,
      'grant',
      [reader, 3, 0, [id], (await chain.now()) + 3600, 0, ZERO_HASH],
      'NotRecordPatient',
      [id, g],
    )
    await t.write(unit.patients[0]!, 'grant', [reader, 1, 0, [], (await chain.now()) + 3600, 0, ZERO_HASH])
    expect(await t.read('canAccess', [reader, id])).toBe(true)
  })
})
