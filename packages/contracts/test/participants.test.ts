import {
  newParticipant,
  randomKey,
  registerParticipant,
  setupUnit,
  startTestChain,
  type TestChain,
} from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Role, Status } from '../src/index.js'
import { bind, eventOf, ZERO_HASH } from './helpers.js'

let chain: TestChain
let t: ReturnType<typeof bind>

beforeAll(async () => {
  chain = await startTestChain()
  t = bind(chain)
})
afterAll(async () => {
  await chain?.stop()
})

type P = { unit: string; role: number; status: number; unitIndex: number; updatedAt: number }

describe('register', () => {
  it('registers the sender as Pending at an Approved unit, with its key and the unit index', async () => {
    const unit = await setupUnit(chain)
    const me = await newParticipant(chain)
    const r = await t.write(me, 'register', [unit.address, Role.Medic, me.encryptionKey])
    expect(eventOf(r, 'ParticipantRegistered')).toEqual({
      account: me.address,
      unit: unit.address,
      role: Role.Medic,
      encryptionKey: me.encryptionKey,
    })
    const p = await t.read<P>('participantOf', [me.address])
    expect(p).toEqual({
      unit: unit.address,
      role: Role.Medic,
      status: Status.Pending,
      unitIndex: unit.unitIndex,
      updatedAt: await chain.now(),
    })
    expect(await t.read('encryptionKeyOf', [me.address])).toBe(me.encryptionKey)
  })

  it('accepts the four self-service roles only', async () => {
    const unit = await setupUnit(chain)
    for (const role of [Role.Patient, Role.Uploader, Role.Medic, Role.Requestor]) {
      const me = await newParticipant(chain)
      await t.write(me, 'register', [unit.address, role, me.encryptionKey])
      expect((await t.read<P>('participantOf', [me.address])).role).toBe(role)
    }
    const me = await newParticipant(chain)
    for (const role of [Role.None, Role.Unit]) {
      await t.expectRevert(me, 'register', [unit.address, role, me.encryptionKey], 'InvalidRole', [role])
    }
  })

  it('needs a key, an Approved unit, and no live registration', async () => {
    const unit = await setupUnit(chain, { roles: { patient: 1 } })
    const me = await newParticipant(chain)
    await t.expectRevert(me, 'register', [unit.address, Role.Patient, ZERO_HASH], 'ZeroKey')
    const notUnit = unit.patients[0]!.address
    await t.expectRevert(me, 'register', [notUnit, Role.Patient, me.encryptionKey], 'UnitNotApproved', [
      notUnit,
    ])
    await t.expectRevert(me, 'register', [me.address, Role.Patient, me.encryptionKey], 'UnitNotApproved')
    await t.write(t.governance, 'setUnitStatus', [unit.address, Status.Suspended])
    await t.expectRevert(me, 'register', [unit.address, Role.Patient, me.encryptionKey], 'UnitNotApproved', [
      unit.address,
    ])
    await t.write(t.governance, 'setUnitStatus', [unit.address, Status.Approved])

    await t.write(me, 'register', [unit.address, Role.Patient, me.encryptionKey])
    // Pending, Approved, Suspended: all block a new registration
    await t.expectRevert(me, 'register', [unit.address, Role.Medic, me.encryptionKey], 'AlreadyRegistered', [
      me.address,
    ])
    await t.write(unit, 'approve', [me.address])
    await t.expectRevert(me, 'register', [unit.address, Role.Medic, me.encryptionKey], 'AlreadyRegistered')
    await t.write(unit, 'suspend', [me.address])
    await t.expectRevert(me, 'register', [unit.address, Role.Medic, me.encryptionKey], 'AlreadyRegistered')
    await t.expectRevert(
      unit,
      'register',
      [unit.address, Role.Patient, unit.encryptionKey],
      'AlreadyRegistered',
    )
  })

  it('a Rejected account may register again, elsewhere and in another role', async () => {
    const u1 = await setupUnit(chain)
    const u2 = await setupUnit(chain)
    const me = await registerParticipant(chain, u1.address, 'medic')
    const rejected = await t.write(u1, 'reject', [me.address])
    expect(eventOf(rejected, 'ParticipantStatusChanged')).toEqual({
      account: me.address,
      by: u1.address,
      status: Status.Rejected,
    })
    const key = randomKey()
    await t.write(me, 'register', [u2.address, Role.Requestor, key])
    expect(await t.read<P>('participantOf', [me.address])).toMatchObject({
      unit: u2.address,
      role: Role.Requestor,
      status: Status.Pending,
      unitIndex: u2.unitIndex,
    })
    expect(await t.read('encryptionKeyOf', [me.address])).toBe(key)
  })
})

describe('approve / reject / suspend', () => {
  it('follow the status machine, with events', async () => {
    const unit = await setupUnit(chain)
    const me = await registerParticipant(chain, unit.address, 'uploader')
    await t.expectRevert(unit, 'suspend', [me.address], 'InvalidStatusTransition', [
      me.address,
      Status.Pending,
    ])
    const a = await t.write(unit, 'approve', [me.address])
    expect(eventOf(a, 'ParticipantStatusChanged')).toEqual({
      account: me.address,
      by: unit.address,
      status: Status.Approved,
    })
    await t.expectRevert(unit, 'approve', [me.address], 'InvalidStatusTransition', [
      me.address,
      Status.Approved,
    ])
    await t.expectRevert(unit, 'reject', [me.address], 'InvalidStatusTransition', [
      me.address,
      Status.Approved,
    ])
    const s = await t.write(unit, 'suspend', [me.address])
    expect(eventOf(s, 'ParticipantStatusChanged').status).toBe(Status.Suspended)
    await t.expectRevert(unit, 'suspend', [me.address], 'InvalidStatusTransition', [
      me.address,
      Status.Suspended,
    ])
    await t.expectRevert(unit, 'reject', [me.address], 'InvalidStatusTransition', [
      me.address,
      Status.Suspended,
    ])
    await t.write(unit, 'approve', [me.address])
    expect((await t.read<P>('participantOf', [me.address])).status).toBe(Status.Approved)

    const other = await registerParticipant(chain, unit.address, 'patient')
    await t.write(unit, 'reject', [other.address])
    await t.expectRevert(unit, 'approve', [other.address], 'InvalidStatusTransition', [
      other.address,
      Status.Rejected,
    ])
    await t.expectRevert(unit, 'reject', [other.address], 'InvalidStatusTransition', [
      other.address,
      Status.Rejected,
    ])
  })

  it('only by the participant’s own, Approved unit', async () => {
    const u1 = await setupUnit(chain)
    const u2 = await setupUnit(chain)
    const me = await registerParticipant(chain, u1.address, 'patient')
    const stranger = await newParticipant(chain)
    for (const fn of ['approve', 'reject', 'suspend']) {
      await t.expectRevert(u2, fn, [me.address], 'NotUnitOf', [u2.address, me.address])
      await t.expectRevert(me, fn, [me.address], 'NotUnitOf', [me.address, me.address])
      await t.expectRevert(chain.governance.address, fn, [me.address], 'NotUnitOf')
      await t.expectRevert(u1, fn, [stranger.address], 'NotRegistered', [stranger.address])
    }
    await t.write(t.governance, 'setUnitStatus', [u1.address, Status.Suspended])
    await t.expectRevert(u1, 'approve', [me.address], 'UnitNotApproved', [u1.address])
    await t.expectRevert(u1, 'reject', [me.address], 'UnitNotApproved', [u1.address])
    await t.write(t.governance, 'setUnitStatus', [u1.address, Status.Approved])
    await t.write(u1, 'approve', [me.address])
  })
})

describe('setEncryptionKey', () => {
  it('rotates the key of an Approved participant (units included)', async () => {
    const unit = await setupUnit(chain, { roles: { medic: 1 } })
    const medic = unit.medics[0]!
    const key = randomKey()
    const r = await t.write(medic, 'setEncryptionKey', [key])
    expect(eventOf(r, 'EncryptionKeySet')).toEqual({ account: medic.address, encryptionKey: key })
    expect(await t.read('encryptionKeyOf', [medic.address])).toBe(key)
    const unitKey = randomKey()
    await t.write(unit, 'setEncryptionKey', [unitKey])
    expect(await t.read('encryptionKeyOf', [unit.address])).toBe(unitKey)
  })

  it('refuses zero keys and participants that are not Approved', async () => {
    const unit = await setupUnit(chain, { roles: { medic: 1 } })
    const medic = unit.medics[0]!
    await t.expectRevert(medic, 'setEncryptionKey', [ZERO_HASH], 'ZeroKey')
    const pending = await registerParticipant(chain, unit.address, 'patient')
    await t.expectRevert(pending, 'setEncryptionKey', [randomKey()], 'NotApprovedParticipant', [
      pending.address,
      Role.Patient,
    ])
    await t.write(unit, 'suspend', [medic.address])
    await t.expectRevert(medic, 'setEncryptionKey', [randomKey()], 'NotApprovedParticipant', [
      medic.address,
      Role.Medic,
    ])
    const stranger = await newParticipant(chain)
    await t.expectRevert(stranger, 'setEncryptionKey', [randomKey()], 'NotApprovedParticipant', [
      stranger.address,
      Role.None,
    ])
  })
})
