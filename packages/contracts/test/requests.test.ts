import {
  registerParticipant,
  setupUnit,
  startTestChain,
  type TestChain,
  type TestUnit,
} from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Kind, Purpose, RequestStatus, Role, Scope } from '../src/index.js'
import { bind, eventOf, grantSetOf, randomId, ZERO_ADDRESS, ZERO_HASH } from './helpers.js'

let chain: TestChain
let t: ReturnType<typeof bind>
let unit: TestUnit

type Q = {
  requestor: string
  scope: number
  kindMask: number
  purposeCode: number
  status: number
  createdAt: number
  patient: string
}

beforeAll(async () => {
  chain = await startTestChain()
  t = bind(chain)
  unit = await setupUnit(chain, { roles: { patient: 2, uploader: 1, medic: 1, requestor: 2 } })
})
afterAll(async () => {
  await chain?.stop()
})

async function request(from = unit.requestors[0]!, scope: number = Scope.Kinds, mask = 1 << Kind.MRI) {
  const r = await t.write(from, 'requestAccess', [
    unit.patients[0]!.address,
    scope,
    mask,
    Purpose.Research,
    randomId(),
  ])
  return { r, id: eventOf(r, 'AccessRequested').id as bigint }
}

describe('requestAccess', () => {
  it('stores a Pending request with a sequential id and logs it (details in the event only)', async () => {
    const before = await t.read<bigint>('requestCount')
    const details = randomId()
    const patient = unit.patients[0]!.address
    const requestor = unit.requestors[0]!.address
    const r = await t.write(unit.requestors[0]!, 'requestAccess', [
      patient,
      Scope.Kinds,
      0b11,
      Purpose.Insurance,
      details,
    ])
    expect(eventOf(r, 'AccessRequested')).toEqual({
      id: before + 1n,
      requestor,
      patient,
      scope: Scope.Kinds,
      kindMask: 0b11,
      purposeCode: Purpose.Insurance,
      details,
    })
    expect(await t.read<Q>('requestOf', [before + 1n])).toEqual({
      requestor,
      scope: Scope.Kinds,
      kindMask: 0b11,
      purposeCode: Purpose.Insurance,
      status: RequestStatus.Pending,
      createdAt: await chain.now(),
      patient,
    })
    const medicRequest = await t.write(unit.medics[0]!, 'requestAccess', [
      patient,
      Scope.All,
      0,
      0,
      ZERO_HASH,
    ])
    expect(eventOf(medicRequest, 'AccessRequested').id).toBe(before + 2n)
    expect(await t.read('requestCount')).toBe(before + 2n)
  })

  it('validates requestor, patient, scope, mask and purpose', async () => {
    const rq = unit.requestors[0]!
    const p = unit.patients[0]!.address
    await t.expectRevert(
      unit.uploaders[0]!,
      'requestAccess',
      [p, 1, 0, 0, ZERO_HASH],
      'NotApprovedParticipant',
      [unit.uploaders[0]!.address, Role.Requestor],
    )
    await t.expectRevert(
      unit.patients[1]!,
      'requestAccess',
      [p, 1, 0, 0, ZERO_HASH],
      'NotApprovedParticipant',
    )
    const pending = await registerParticipant(chain, unit.address, 'requestor')
    await t.expectRevert(pending, 'requestAccess', [p, 1, 0, 0, ZERO_HASH], 'NotApprovedParticipant')
    await t.expectRevert(
      rq,
      'requestAccess',
      [unit.medics[0]!.address, 1, 0, 0, ZERO_HASH],
      'NotApprovedParticipant',
      [unit.medics[0]!.address, Role.Patient],
    )
    await t.expectRevert(rq, 'requestAccess', [ZERO_ADDRESS, 1, 0, 0, ZERO_HASH], 'NotApprovedParticipant')
    await t.expectRevert(rq, 'requestAccess', [p, Scope.Records, 0, 0, ZERO_HASH], 'InvalidScope', [
      Scope.Records,
    ])
    await t.expectRevert(rq, 'requestAccess', [p, Scope.None, 0, 0, ZERO_HASH], 'InvalidScope', [Scope.None])
    await t.expectRevert(rq, 'requestAccess', [p, Scope.Kinds, 0, 0, ZERO_HASH], 'InvalidKindMask', [0])
    await t.expectRevert(rq, 'requestAccess', [p, Scope.Kinds, 0x80, 0, ZERO_HASH], 'InvalidKindMask', [0x80])
    await t.expectRevert(rq, 'requestAccess', [p, Scope.All, 2, 0, ZERO_HASH], 'InvalidKindMask', [2])
    await t.expectRevert(rq, 'requestAccess', [p, Scope.All, 0, 5, ZERO_HASH], 'InvalidPurpose', [5])
  })
})

describe('approveRequest / denyRequest', () => {
  it('approve writes the requested grant in the same transaction', async () => {
    const { id } = await request(unit.requestors[1]!, Scope.Kinds, 0b10001)
    const patient = unit.patients[0]!
    const expiresAt = (await chain.now()) + 7200
    const bundle = randomId()
    const r = await t.write(patient, 'approveRequest', [id, expiresAt, 2, bundle])
    expect(r.events.map((e) => e.eventName)).toEqual(['RequestApproved', 'GrantSet'])
    expect(eventOf(r, 'RequestApproved')).toEqual({
      id,
      patient: patient.address,
      requestor: unit.requestors[1]!.address,
    })
    expect(grantSetOf(r)).toEqual({
      patient: patient.address,
      grantee: unit.requestors[1]!.address,
      scope: Scope.Kinds,
      kindMask: 0b10001,
      expiresAt,
      flags: 2,
      epoch: 1,
      keyBundle: bundle,
    })
    expect((await t.read<Q>('requestOf', [id])).status).toBe(RequestStatus.Approved)
    expect(await t.read('grantOf', [patient.address, unit.requestors[1]!.address])).toEqual({
      expiresAt,
      kindMask: 0b10001,
      scope: Scope.Kinds,
      flags: 2,
      epoch: 1,
    })
  })

  it('deny marks the request Denied with an event and writes no grant', async () => {
    const { id } = await request()
    const r = await t.write(unit.patients[0]!, 'denyRequest', [id])
    expect(eventOf(r, 'RequestDenied')).toEqual({
      id,
      patient: unit.patients[0]!.address,
      requestor: unit.requestors[0]!.address,
    })
    expect((await t.read<Q>('requestOf', [id])).status).toBe(RequestStatus.Denied)
    expect(r.events.some((e) => e.eventName === 'GrantSet')).toBe(false)
  })

  it('only the addressed patient answers, once, and approval validates the grant terms', async () => {
    const { id } = await request()
    const p = unit.patients[0]!
    const exp = (await chain.now()) + 3600
    const missing = 10_000n
    await t.expectRevert(p, 'approveRequest', [missing, exp, 0, ZERO_HASH], 'RequestNotFound', [missing])
    await t.expectRevert(p, 'denyRequest', [missing], 'RequestNotFound', [missing])
    for (const intruder of [unit.patients[1]!, unit.requestors[0]!, unit]) {
      await t.expectRevert(intruder, 'approveRequest', [id, exp, 0, ZERO_HASH], 'NotRequestPatient', [
        id,
        intruder.address,
      ])
      await t.expectRevert(intruder, 'denyRequest', [id], 'NotRequestPatient', [id, intruder.address])
    }
    await t.expectRevert(p, 'approveRequest', [id, (await chain.now()) - 1, 0, ZERO_HASH], 'InvalidExpiry')
    await t.expectRevert(p, 'approveRequest', [id, exp, 8, ZERO_HASH], 'InvalidFlags', [8])
    const snap = await chain.snapshot()
    await t.write(unit, 'suspend', [p.address])
    await t.expectRevert(p, 'approveRequest', [id, exp, 0, ZERO_HASH], 'NotApprovedParticipant', [
      p.address,
      Role.Patient,
    ])
    await chain.revert(snap)

    await t.write(p, 'approveRequest', [id, exp, 0, ZERO_HASH])
    await t.expectRevert(p, 'approveRequest', [id, exp, 0, ZERO_HASH], 'RequestNotPending', [
      id,
      RequestStatus.Approved,
    ])
    await t.expectRevert(p, 'denyRequest', [id], 'RequestNotPending', [id, RequestStatus.Approved])
    const denied = await request()
    await t.write(p, 'denyRequest', [denied.id])
    await t.expectRevert(p, 'approveRequest', [denied.id, exp, 0, ZERO_HASH], 'RequestNotPending', [
      denied.id,
      RequestStatus.Denied,
    ])
  })
})
