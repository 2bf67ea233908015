import {
  registerParticipant,
  setupUnit,
  startTestChain,
  type TestChain,
  type TestUnit,
} from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Role, Status } from '../src/index.js'
import { bind, eventOf } from './helpers.js'

let chain: TestChain
let t: ReturnType<typeof bind>
let unit: TestUnit
let other: TestUnit

type E = { until: number; declaredAt: number; unitIndex: number; reasonCode: number }
const HOUR = 3600

beforeAll(async () => {
  chain = await startTestChain()
  t = bind(chain)
  unit = await setupUnit(chain, { roles: { patient: 2, medic: 2, requestor: 1 } })
  other = await setupUnit(chain, { roles: { medic: 1 } })
})
afterAll(async () => {
  await chain?.stop()
})

describe('declareEmergency', () => {
  it('stores a time box and logs it', async () => {
    const medic = unit.medics[0]!
    const patient = unit.patients[0]!.address
    const r = await t.write(medic, 'declareEmergency', [patient, 7, HOUR])
    const now = await chain.now()
    expect(eventOf(r, 'EmergencyDeclared')).toEqual({
      medic: medic.address,
      patient,
      unitIndex: unit.unitIndex,
      reasonCode: 7,
      until: now + HOUR,
    })
    expect(await t.read<E>('emergencyOf', [medic.address, patient])).toEqual({
      until: now + HOUR,
      declaredAt: now,
      unitIndex: unit.unitIndex,
      reasonCode: 7,
    })
  })

  it('lasts 1 s to 4 h: zero and longer revert', async () => {
    const medic = unit.medics[1]!
    const patient = unit.patients[1]!.address
    await t.expectRevert(medic, 'declareEmergency', [patient, 1, 0], 'InvalidDuration', [0])
    await t.expectRevert(medic, 'declareEmergency', [patient, 1, 4 * HOUR + 1], 'InvalidDuration', [
      4 * HOUR + 1,
    ])
    await t.expectRevert(medic, 'declareEmergency', [patient, 1, 2 ** 32 - 1], 'InvalidDuration')
    const snap = await chain.snapshot()
    await t.write(medic, 'declareEmergency', [patient, 1, 4 * HOUR])
    await chain.revert(snap)
    const snap2 = await chain.snapshot()
    await t.write(medic, 'declareEmergency', [patient, 1, 1])
    await chain.revert(snap2)
  })

  it('is never extended silently: a new declaration while active reverts; after expiry it is a new event', async () => {
    const medic = unit.medics[1]!
    const patient = unit.patients[0]!.address
    const r = await t.write(medic, 'declareEmergency', [patient, 2, 600])
    const until = eventOf(r, 'EmergencyDeclared').until as number
    await t.expectRevert(medic, 'declareEmergency', [patient, 2, 600], 'EmergencyActive', [
      medic.address,
      patient,
      until,
    ])
    await t.expectRevert(medic, 'declareEmergency', [patient, 2, 1], 'EmergencyActive')
    await chain.increaseTime(601)
    const again = await t.write(medic, 'declareEmergency', [patient, 3, 60])
    expect(eventOf(again, 'EmergencyDeclared').until).toBe((await chain.now()) + 60)
    // the same medic can hold emergencies for different patients at once
    await t.write(medic, 'declareEmergency', [unit.patients[1]!.address, 3, 60])
  })

  it('needs an Approved medic of an Approved unit and an Approved patient', async () => {
    const patient = unit.patients[1]!.address
    const rq = unit.requestors[0]!
    await t.expectRevert(rq, 'declareEmergency', [patient, 1, 60], 'NotApprovedParticipant', [
      rq.address,
      Role.Medic,
    ])
    await t.expectRevert(unit, 'declareEmergency', [patient, 1, 60], 'NotApprovedParticipant', [
      unit.address,
      Role.Medic,
    ])
    const pendingMedic = await registerParticipant(chain, unit.address, 'medic')
    await t.expectRevert(pendingMedic, 'declareEmergency', [patient, 1, 60], 'NotApprovedParticipant')
    const m = other.medics[0]!
    await t.expectRevert(m, 'declareEmergency', [rq.address, 1, 60], 'NotApprovedParticipant', [
      rq.address,
      Role.Patient,
    ])
    const snap = await chain.snapshot()
    await t.write(t.governance, 'setUnitStatus', [other.address, Status.Suspended])
    await t.expectRevert(m, 'declareEmergency', [patient, 1, 60], 'UnitNotApproved', [other.address])
    await chain.revert(snap)
    const snap2 = await chain.snapshot()
    await t.write(unit, 'suspend', [patient])
    await t.expectRevert(m, 'declareEmergency', [patient, 1, 60], 'NotApprovedParticipant', [
      patient,
      Role.Patient,
    ])
    await chain.revert(snap2)
  })
})

describe('endEmergency', () => {
  it('the patient ends an active emergency now, with an event', async () => {
    const medic = other.medics[0]!
    const patient = unit.patients[1]!
    await t.write(medic, 'declareEmergency', [patient.address, 1, HOUR])
    const r = await t.write(patient, 'endEmergency', [medic.address])
    expect(eventOf(r, 'EmergencyEnded')).toEqual({ medic: medic.address, patient: patient.address })
    expect((await t.read<E>('emergencyOf', [medic.address, patient.address])).until).toBe(await chain.now())
    await t.expectRevert(patient, 'endEmergency', [medic.address], 'NoActiveEmergency', [
      medic.address,
      patient.address,
    ])
    // ended, so the medic may declare again (visibly)
    await t.write(medic, 'declareEmergency', [patient.address, 1, 60])
  })

  it('only for an active emergency of that medic for the caller', async () => {
    const medic = unit.medics[0]!
    const p0 = unit.patients[0]!
    const p1 = unit.patients[1]!
    await t.expectRevert(p1, 'endEmergency', [medic.address], 'NoActiveEmergency', [
      medic.address,
      p1.address,
    ])
    await t.expectRevert(medic, 'endEmergency', [medic.address], 'NoActiveEmergency', [
      medic.address,
      medic.address,
    ])
    await chain.increaseTime(5 * HOUR)
    await t.expectRevert(p0, 'endEmergency', [medic.address], 'NoActiveEmergency', [
      medic.address,
      p0.address,
    ])
  })
})
