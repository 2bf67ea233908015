import { newParticipant, setupUnit, startTestChain, type TestChain, type TestUnit } from '@pcmims/test-utils'
import type { Hex } from 'viem'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AccessBasis, GrantFlag, Kind, kindMask, RecordFlag, Scope, Status } from '../src/index.js'
import { bind, eventOf, randomId, ZERO_ADDRESS, ZERO_HASH } from './helpers.js'

let chain: TestChain
let t: ReturnType<typeof bind>
let a: TestUnit // custodian of the patient's CT
let b: TestUnit // another unit
let source: Hex
let snap: Hex

type R = { patient: string; kind: number; createdAt: number; unitIndex: number; flags: number }
type Access = readonly [boolean, boolean, boolean, number, number]

beforeAll(async () => {
  chain = await startTestChain()
  t = bind(chain)
  a = await setupUnit(chain, { roles: { patient: 2, uploader: 1, medic: 2, requestor: 2 } })
  b = await setupUnit(chain, { roles: { uploader: 1, medic: 1, requestor: 1 } })
  source = randomId()
  await t.write(a, 'anchorRecord', [source, patient().address, a.uploaders[0]!.address, Kind.CT])
})
afterAll(async () => {
  await chain?.stop()
})
beforeEach(async () => {
  snap = await chain.snapshot()
})
afterEach(async () => {
  await chain.revert(snap)
})

const patient = () => a.patients[0]!
const requestor = () => a.requestors[0]!
const later = async (s = 3600) => (await chain.now()) + s
const accessOf = (who: string, id: Hex) => t.read<Access>('accessOf', [who, id])
const can = (who: string, id: Hex) => t.read<boolean>('canAccess', [who, id])
const NONE: Access = [false, false, false, 0, AccessBasis.None]

/** The patient grants the requestor de-identified copies only (optionally with download), then copies `source`. */
async function grantAndCopy(
  flags: number = GrantFlag.DeidentifiedOnly,
  by = patient() as { address: string },
) {
  const expiresAt = await later()
  await t.write(patient(), 'grant', [
    requestor().address,
    Scope.Kinds,
    kindMask(['CT']),
    [],
    expiresAt,
    flags,
    ZERO_HASH,
  ])
  const id = randomId()
  // biome-ignore lint/suspicious/noExplicitAny: the sender is a participant or the unit
  const result = await t.write(by as any, 'anchorDeidentifiedCopy', [id, source, requestor().address])
  return { id, expiresAt, result }
}

describe('anchorDeidentifiedCopy', () => {
  it('by the patient: a flagged record with the source’s patient, kind and custodian, and one event', async () => {
    const { id, result } = await grantAndCopy()
    expect(eventOf(result, 'DeidentifiedCopyAnchored')).toEqual({
      id,
      sourceId: source,
      audience: requestor().address,
    })
    expect(result.events.map((e) => e.eventName)).toEqual(['DeidentifiedCopyAnchored'])
    const original = await t.read<R>('recordOf', [source])
    expect(await t.read<R>('recordOf', [id])).toEqual({
      ...original,
      flags: RecordFlag.Deidentified,
      createdAt: await chain.now(),
    })
    expect(await t.read<string>('copyAudienceOf', [id])).toBe(requestor().address)
    expect(await t.read<string>('copyAudienceOf', [source])).toBe(ZERO_ADDRESS)
    // the source is untouched
    expect(original.flags).toBe(0)
  })

  it('relayed by the custodian unit (its outbox); not by another unit, an uploader or another patient', async () => {
    await t.write(patient(), 'grant', [requestor().address, Scope.All, 0, [], await later(), 0, ZERO_HASH])
    const args = () => [randomId(), source, requestor().address]
    await t.expectRevert(b, 'anchorDeidentifiedCopy', args(), 'NotPatientOrCustodian')
    await t.expectRevert(a.uploaders[0]!, 'anchorDeidentifiedCopy', args(), 'NotPatientOrCustodian')
    await t.expectRevert(a.patients[1]!, 'anchorDeidentifiedCopy', args(), 'NotPatientOrCustodian')
    await t.expectRevert(requestor(), 'anchorDeidentifiedCopy', args(), 'NotPatientOrCustodian')
    await t.write(a, 'anchorDeidentifiedCopy', args())
    // a suspended custodian cannot; the patient still can
    await t.write(t.governance, 'setUnitStatus', [a.address, Status.Suspended])
    await t.expectRevert(a, 'anchorDeidentifiedCopy', args(), 'NotPatientOrCustodian')
    await t.write(patient(), 'anchorDeidentifiedCopy', args())
  })

  it('the source must be a current record; the id must be new', async () => {
    const { id } = await grantAndCopy()
    const unknown = randomId()
    await t.expectRevert(
      patient(),
      'anchorDeidentifiedCopy',
      [randomId(), unknown, requestor().address],
      'RecordNotFound',
      [unknown],
    )
    await t.expectRevert(
      patient(),
      'anchorDeidentifiedCopy',
      [id, source, requestor().address],
      'RecordExists',
      [id],
    )
    await t.expectRevert(
      patient(),
      'anchorDeidentifiedCopy',
      [source, source, requestor().address],
      'RecordExists',
      [source],
    )
    await t.write(patient(), 'rotateRecord', [source, randomId()])
    await t.expectRevert(
      patient(),
      'anchorDeidentifiedCopy',
      [randomId(), source, requestor().address],
      'RecordSuperseded',
      [source],
    )
  })

  it('the audience: an Approved participant other than the patient, holding a live grant from the patient', async () => {
    const copy = (audience: string) => [randomId(), source, audience]
    // no grant yet
    await t.expectRevert(patient(), 'anchorDeidentifiedCopy', copy(requestor().address), 'NoActiveGrant', [
      patient().address,
      requestor().address,
    ])
    await t.expectRevert(patient(), 'anchorDeidentifiedCopy', copy(patient().address), 'InvalidAudience', [
      patient().address,
    ])
    await t.expectRevert(patient(), 'anchorDeidentifiedCopy', copy(ZERO_ADDRESS), 'InvalidAudience', [
      ZERO_ADDRESS,
    ])
    const stranger = await newParticipant(chain)
    await t.write(patient(), 'grant', [stranger.address, Scope.All, 0, [], await later(), 0, ZERO_HASH])
    await t.expectRevert(patient(), 'anchorDeidentifiedCopy', copy(stranger.address), 'InvalidAudience', [
      stranger.address,
    ])
    // an expired or revoked grant does not count
    await t.write(patient(), 'grant', [requestor().address, Scope.All, 0, [], await later(100), 2, ZERO_HASH])
    await chain.increaseTime(200)
    await t.expectRevert(patient(), 'anchorDeidentifiedCopy', copy(requestor().address), 'NoActiveGrant')
    await t.write(patient(), 'grant', [requestor().address, Scope.All, 0, [], await later(), 2, ZERO_HASH])
    await t.write(patient(), 'revoke', [requestor().address])
    await t.expectRevert(patient(), 'anchorDeidentifiedCopy', copy(requestor().address), 'NoActiveGrant')
    // a suspended requestor is no audience
    await t.write(patient(), 'grant', [requestor().address, Scope.All, 0, [], await later(), 2, ZERO_HASH])
    await t.write(a, 'suspend', [requestor().address])
    await t.expectRevert(patient(), 'anchorDeidentifiedCopy', copy(requestor().address), 'InvalidAudience')
  })
})

describe('access to a de-identified copy', () => {
  it('the patient and the custodian unit read it; the audience reads it under its grant, download per the grant', async () => {
    const { id, expiresAt } = await grantAndCopy()
    expect((await accessOf(patient().address, id))[4]).toBe(AccessBasis.Patient)
    expect((await accessOf(a.address, id))[4]).toBe(AccessBasis.Custodian)
    expect(await accessOf(requestor().address, id)).toEqual([
      true,
      false,
      false,
      expiresAt,
      AccessBasis.Grant,
    ])
    // the grant's download flag applies to the copy
    const exp2 = await later(7200)
    await t.write(patient(), 'grant', [
      requestor().address,
      Scope.All,
      0,
      [],
      exp2,
      GrantFlag.Download | GrantFlag.DeidentifiedOnly,
      ZERO_HASH,
    ])
    expect(await accessOf(requestor().address, id)).toEqual([true, true, false, exp2, AccessBasis.Grant])
    // any scope: even a Kinds grant that does not cover the copy's kind, or a Records grant not listing it
    await t.write(patient(), 'grant', [
      requestor().address,
      Scope.Kinds,
      kindMask(['MRI']),
      [],
      exp2,
      2,
      ZERO_HASH,
    ])
    expect(await can(requestor().address, id)).toBe(true)
    await t.write(patient(), 'grant', [requestor().address, Scope.Records, 0, [source], exp2, 2, ZERO_HASH])
    expect(await can(requestor().address, id)).toBe(true)
    expect(await t.read<readonly boolean[]>('canAccessBatch', [requestor().address, [id, source]])).toEqual([
      true,
      false,
    ])
  })

  it('nobody else: not another grantee with scope All, not another requestor, not a medic in an emergency, not another unit', async () => {
    const { id } = await grantAndCopy()
    const medic = a.medics[0]!
    await t.write(patient(), 'grant', [
      medic.address,
      Scope.All,
      0,
      [],
      await later(),
      GrantFlag.Download,
      ZERO_HASH,
    ])
    expect(await can(medic.address, source)).toBe(true)
    expect(await accessOf(medic.address, id)).toEqual(NONE)
    await t.write(patient(), 'grant', [
      a.requestors[1]!.address,
      Scope.Records,
      0,
      [id],
      await later(),
      0,
      ZERO_HASH,
    ])
    expect(await accessOf(a.requestors[1]!.address, id)).toEqual(NONE)
    const other = a.medics[1]!
    await t.write(other, 'declareEmergency', [patient().address, 1, 600])
    expect(await can(other.address, source)).toBe(true)
    expect(await accessOf(other.address, id)).toEqual(NONE)
    for (const who of [b.address, b.medics[0]!.address, b.requestors[0]!.address, a.uploaders[0]!.address]) {
      expect(await can(who, id)).toBe(false)
    }
  })

  it('ends with the audience’s grant (revoked or expired), its suspension, or the copy’s rotation; comes back with a new grant', async () => {
    const { id } = await grantAndCopy()
    await t.write(patient(), 'revoke', [requestor().address])
    expect(await accessOf(requestor().address, id)).toEqual(NONE)
    await t.write(patient(), 'grant', [requestor().address, Scope.All, 0, [], await later(100), 2, ZERO_HASH])
    expect(await can(requestor().address, id)).toBe(true)
    await t.write(a, 'suspend', [requestor().address])
    expect(await can(requestor().address, id)).toBe(false)
    await t.write(a, 'approve', [requestor().address])
    expect(await can(requestor().address, id)).toBe(true)
    await chain.increaseTime(200)
    expect(await can(requestor().address, id)).toBe(false)
  })

  it('a rotated copy stays a copy for the same audience; the old id serves nobody', async () => {
    const { id } = await grantAndCopy()
    const medic = a.medics[0]!
    await t.write(patient(), 'grant', [medic.address, Scope.All, 0, [], await later(), 0, ZERO_HASH])
    const newId = randomId()
    await t.write(a, 'rotateRecord', [id, newId])
    expect((await t.read<R>('recordOf', [newId])).flags).toBe(RecordFlag.Deidentified)
    expect(await t.read<string>('copyAudienceOf', [newId])).toBe(requestor().address)
    expect(await can(requestor().address, id)).toBe(false)
    expect(await can(requestor().address, newId)).toBe(true)
    expect(await can(medic.address, newId)).toBe(false)
    // an ordinary rotation does not make a copy
    const plain = randomId()
    await t.write(patient(), 'rotateRecord', [source, plain])
    expect((await t.read<R>('recordOf', [plain])).flags).toBe(0)
    expect(await t.read<string>('copyAudienceOf', [plain])).toBe(ZERO_ADDRESS)
  })
})

describe('a de-identified-only grant never covers an original', () => {
  it('refused with the reason flag set; a plain grant is unchanged; an emergency still applies', async () => {
    const exp = await later()
    await t.write(patient(), 'grant', [
      requestor().address,
      Scope.All,
      0,
      [],
      exp,
      GrantFlag.DeidentifiedOnly | GrantFlag.Download,
      ZERO_HASH,
    ])
    expect(await accessOf(requestor().address, source)).toEqual([false, false, true, 0, AccessBasis.None])
    expect(await can(requestor().address, source)).toBe(false)
    // not covered at all (Kinds without CT): no reason flag
    await t.write(patient(), 'grant', [
      requestor().address,
      Scope.Kinds,
      kindMask(['MRI']),
      [],
      exp,
      GrantFlag.DeidentifiedOnly,
      ZERO_HASH,
    ])
    expect(await accessOf(requestor().address, source)).toEqual(NONE)
    await t.write(patient(), 'grant', [
      requestor().address,
      Scope.All,
      0,
      [],
      exp,
      GrantFlag.Download,
      ZERO_HASH,
    ])
    expect(await accessOf(requestor().address, source)).toEqual([true, true, false, exp, AccessBasis.Grant])
    // a medic with a de-identified-only grant who declares an emergency reads by the emergency
    const medic = a.medics[0]!
    await t.write(patient(), 'grant', [
      medic.address,
      Scope.All,
      0,
      [],
      exp,
      GrantFlag.DeidentifiedOnly,
      ZERO_HASH,
    ])
    expect(await accessOf(medic.address, source)).toEqual([false, false, true, 0, AccessBasis.None])
    await t.write(medic, 'declareEmergency', [patient().address, 1, 600])
    const [allowed, download, deid, , basis] = await accessOf(medic.address, source)
    expect([allowed, download, deid, basis]).toEqual([true, false, false, AccessBasis.Emergency])
  })
})
