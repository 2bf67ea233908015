import {
  registerParticipant,
  setupUnit,
  startTestChain,
  type TestChain,
  type TestUnit,
} from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Kind, Role, Status } from '../src/index.js'
import { bind, eventOf, randomId } from './helpers.js'

let chain: TestChain
let t: ReturnType<typeof bind>
let unit: TestUnit
let other: TestUnit

type R = { patient: string; kind: number; createdAt: number; unitIndex: number; flags: number }

beforeAll(async () => {
  chain = await startTestChain()
  t = bind(chain)
  unit = await setupUnit(chain, { roles: { patient: 2, uploader: 2, medic: 1 } })
  other = await setupUnit(chain, { roles: { patient: 1, uploader: 1 } })
})
afterAll(async () => {
  await chain?.stop()
})

describe('anchorRecord', () => {
  it('by the uploader: one packed record and a RecordAnchored event', async () => {
    const [patient] = unit.patients
    const [uploader] = unit.uploaders
    const id = randomId()
    const r = await t.write(uploader!, 'anchorRecord', [id, patient!.address, uploader!.address, Kind.CT])
    expect(eventOf(r, 'RecordAnchored')).toEqual({
      id,
      patient: patient!.address,
      uploader: uploader!.address,
      kind: Kind.CT,
      unitIndex: unit.unitIndex,
    })
    expect(await t.read<R>('recordOf', [id])).toEqual({
      patient: patient!.address,
      kind: Kind.CT,
      createdAt: await chain.now(),
      unitIndex: unit.unitIndex,
      flags: 0,
    })
  })

  it('relayed by the uploader’s unit, for any Approved patient (also of another unit)', async () => {
    const id = randomId()
    const patient = other.patients[0]!.address
    const r = await t.write(unit, 'anchorRecord', [id, patient, unit.uploaders[0]!.address, Kind.REPORT])
    expect(eventOf(r, 'RecordAnchored')).toMatchObject({
      id,
      patient,
      kind: Kind.REPORT,
      unitIndex: unit.unitIndex,
    })
    expect((await t.read<R>('recordOf', [id])).unitIndex).toBe(unit.unitIndex)
  })

  it('checks uploader, patient, caller, unit and duplicates', async () => {
    const patient = unit.patients[0]!.address
    const uploader = unit.uploaders[0]!
    const medic = unit.medics[0]!
    const id = randomId()
    // uploader must be an Approved Uploader
    await t.expectRevert(medic, 'anchorRecord', [id, patient, medic.address, 1], 'NotApprovedParticipant', [
      medic.address,
      Role.Uploader,
    ])
    // patient must be an Approved Patient
    await t.expectRevert(
      uploader,
      'anchorRecord',
      [id, medic.address, uploader.address, 1],
      'NotApprovedParticipant',
      [medic.address, Role.Patient],
    )
    const pendingPatient = await registerParticipant(chain, unit.address, 'patient')
    await t.expectRevert(
      uploader,
      'anchorRecord',
      [id, pendingPatient.address, uploader.address, 1],
      'NotApprovedParticipant',
      [pendingPatient.address, Role.Patient],
    )
    // only the uploader or its unit may send
    await t.expectRevert(other, 'anchorRecord', [id, patient, uploader.address, 1], 'NotUploaderOrUnit', [
      other.address,
      uploader.address,
    ])
    await t.expectRevert(
      unit.uploaders[1]!,
      'anchorRecord',
      [id, patient, uploader.address, 1],
      'NotUploaderOrUnit',
    )
    await t.expectRevert(medic, 'anchorRecord', [id, patient, uploader.address, 1], 'NotUploaderOrUnit')
    // duplicates
    await t.write(uploader, 'anchorRecord', [id, patient, uploader.address, 1])
    await t.expectRevert(uploader, 'anchorRecord', [id, patient, uploader.address, 1], 'RecordExists', [id])
    await t.expectRevert(
      unit,
      'anchorRecord',
      [id, other.patients[0]!.address, uploader.address, 2],
      'RecordExists',
    )
    // a suspended uploader cannot anchor, directly or relayed
    const snap = await chain.snapshot()
    await t.write(unit, 'suspend', [uploader.address])
    await t.expectRevert(
      uploader,
      'anchorRecord',
      [randomId(), patient, uploader.address, 1],
      'NotApprovedParticipant',
    )
    await t.expectRevert(
      unit,
      'anchorRecord',
      [randomId(), patient, uploader.address, 1],
      'NotApprovedParticipant',
    )
    await chain.revert(snap)
  })

  it('a suspended unit stops its uploaders, relayed or direct', async () => {
    const snap = await chain.snapshot()
    const uploader = unit.uploaders[0]!
    const patient = unit.patients[0]!.address
    await t.write(t.governance, 'setUnitStatus', [unit.address, Status.Suspended])
    await t.expectRevert(
      unit,
      'anchorRecord',
      [randomId(), patient, uploader.address, 1],
      'UnitNotApproved',
      [unit.address],
    )
    await t.expectRevert(
      uploader,
      'anchorRecord',
      [randomId(), patient, uploader.address, 1],
      'UnitNotApproved',
      [unit.address],
    )
    await chain.revert(snap)
  })
})

describe('anchorRecords', () => {
  it('anchors a batch with one event per record, mixing uploaders and patients', async () => {
    const items = [
      {
        id: randomId(),
        patient: unit.patients[0]!.address,
        uploader: unit.uploaders[0]!.address,
        kind: Kind.MRI,
      },
      {
        id: randomId(),
        patient: unit.patients[0]!.address,
        uploader: unit.uploaders[0]!.address,
        kind: Kind.CT,
      },
      {
        id: randomId(),
        patient: unit.patients[1]!.address,
        uploader: unit.uploaders[1]!.address,
        kind: Kind.XRAY,
      },
      {
        id: randomId(),
        patient: other.patients[0]!.address,
        uploader: unit.uploaders[0]!.address,
        kind: Kind.US,
      },
    ]
    const r = await t.write(unit, 'anchorRecords', [items])
    const anchored = r.events.filter((e) => e.eventName === 'RecordAnchored').map((e) => e.args)
    expect(anchored).toEqual(items.map((i) => ({ ...i, unitIndex: unit.unitIndex })))
    for (const i of items) expect((await t.read<R>('recordOf', [i.id])).patient).toBe(i.patient)
  })

  it('is all-or-nothing and runs every check per item', async () => {
    const uploader = unit.uploaders[0]!
    const good = { id: randomId(), patient: unit.patients[0]!.address, uploader: uploader.address, kind: 1 }
    await t.expectRevert(unit, 'anchorRecords', [[]], 'EmptyBatch')
    await t.expectRevert(unit, 'anchorRecords', [[good, good]], 'RecordExists', [good.id])
    await t.expectRevert(
      unit,
      'anchorRecords',
      [[good, { ...good, id: randomId(), patient: unit.medics[0]!.address }]],
      'NotApprovedParticipant',
      [unit.medics[0]!.address, Role.Patient],
    )
    await t.expectRevert(
      unit,
      'anchorRecords',
      [[good, { ...good, id: randomId(), uploader: other.uploaders[0]!.address }]],
      'NotUploaderOrUnit',
      [unit.address, other.uploaders[0]!.address],
    )
    // the same batch from the uploader itself only works for its own items
    await t.expectRevert(
      uploader,
      'anchorRecords',
      [[good, { ...good, id: randomId(), uploader: unit.uploaders[1]!.address }]],
      'NotUploaderOrUnit',
    )
    expect((await t.read<R>('recordOf', [good.id])).patient).toBe(
      '0x0000000000000000000000000000000000000000',
    )
  })
})

describe('rotateRecord', () => {
  async function anchored(kind: number = Kind.MRI) {
    const id = randomId()
    await t.write(unit, 'anchorRecord', [id, unit.patients[0]!.address, unit.uploaders[0]!.address, kind])
    return id
  }

  it('by the patient: new id with the same patient/kind/unit, old one superseded', async () => {
    const oldId = await anchored(Kind.XRAY)
    const newId = randomId()
    const r = await t.write(unit.patients[0]!, 'rotateRecord', [oldId, newId])
    expect(eventOf(r, 'RecordRotated')).toEqual({ oldId, newId })
    const old = await t.read<R>('recordOf', [oldId])
    const fresh = await t.read<R>('recordOf', [newId])
    expect(old.flags & 1).toBe(1)
    expect(fresh).toEqual({ ...old, flags: 0, createdAt: await chain.now() })
  })

  it('by the custodian unit; not by others; not twice; not onto an existing id', async () => {
    const oldId = await anchored()
    const taken = await anchored()
    await t.expectRevert(other, 'rotateRecord', [oldId, randomId()], 'NotPatientOrCustodian', [
      other.address,
      oldId,
    ])
    await t.expectRevert(unit.uploaders[0]!, 'rotateRecord', [oldId, randomId()], 'NotPatientOrCustodian')
    await t.expectRevert(unit.patients[1]!, 'rotateRecord', [oldId, randomId()], 'NotPatientOrCustodian')
    await t.expectRevert(unit, 'rotateRecord', [oldId, taken], 'RecordExists', [taken])
    await t.expectRevert(unit, 'rotateRecord', [oldId, oldId], 'RecordExists', [oldId])
    const unknown = randomId()
    await t.expectRevert(unit, 'rotateRecord', [unknown, randomId()], 'RecordNotFound', [unknown])
    const newId = randomId()
    await t.write(unit, 'rotateRecord', [oldId, newId])
    await t.expectRevert(unit, 'rotateRecord', [oldId, randomId()], 'RecordSuperseded', [oldId])
    await t.expectRevert(unit.patients[0]!, 'rotateRecord', [oldId, randomId()], 'RecordSuperseded', [oldId])
    // the rotated copy can rotate again
    await t.write(unit.patients[0]!, 'rotateRecord', [newId, randomId()])
  })

  it('a suspended custodian unit cannot rotate; the patient still can', async () => {
    const snap = await chain.snapshot()
    const oldId = await anchored()
    await t.write(t.governance, 'setUnitStatus', [unit.address, Status.Suspended])
    await t.expectRevert(unit, 'rotateRecord', [oldId, randomId()], 'NotPatientOrCustodian')
    await t.write(unit.patients[0]!, 'rotateRecord', [oldId, randomId()])
    await chain.revert(snap)
  })
})
