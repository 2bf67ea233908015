import { newParticipant, setupUnit, startTestChain, type TestChain, type TestUnit } from '@pcmims/test-utils'
import type { Hex } from 'viem'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AccessBasis, Kind, kindMask, Scope, Status } from '../src/index.js'
import { bind, randomId, ZERO_HASH } from './helpers.js'

let chain: TestChain
let t: ReturnType<typeof bind>
let a: TestUnit // unit A: custodian of the patient's MRI/CT/REPORT records
let b: TestUnit // unit B: custodian of one XRAY record of the same patient
const rec = {} as { mri: Hex; ct: Hex; report: Hex; xrayAtB: Hex }
let snap: Hex

const MAX40 = 2 ** 40 - 1

beforeAll(async () => {
  chain = await startTestChain()
  t = bind(chain)
  a = await setupUnit(chain, { roles: { patient: 2, uploader: 1, medic: 3, requestor: 1 } })
  b = await setupUnit(chain, { roles: { uploader: 1, medic: 1 } })
  const p = a.patients[0]!.address
  const anchor = async (unit: TestUnit, kind: number) => {
    const id = randomId()
    await t.write(unit, 'anchorRecord', [id, p, unit.uploaders[0]!.address, kind])
    return id
  }
  rec.mri = await anchor(a, Kind.MRI)
  rec.ct = await anchor(a, Kind.CT)
  rec.report = await anchor(a, Kind.REPORT)
  rec.xrayAtB = await anchor(b, Kind.XRAY)
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

const all = () => [rec.mri, rec.ct, rec.report, rec.xrayAtB]
const can = (who: string, id: Hex) => t.read<boolean>('canAccess', [who, id])
const batch = (who: string, ids = all()) => t.read<readonly boolean[]>('canAccessBatch', [who, ids])
type Access = readonly [boolean, boolean, boolean, number, number]
const accessOf = (who: string, id: Hex) => t.read<Access>('accessOf', [who, id])
const later = async (s = 3600) => (await chain.now()) + s
const patient = () => a.patients[0]!

describe('canAccess matrix', () => {
  it('the patient always reads their own current records, whatever their status', async () => {
    expect(await batch(patient().address)).toEqual([true, true, true, true])
    expect(await accessOf(patient().address, rec.mri)).toEqual([
      true,
      true,
      false,
      MAX40,
      AccessBasis.Patient,
    ])
    await t.write(a, 'suspend', [patient().address])
    expect(await batch(patient().address)).toEqual([true, true, true, true])
    // but not another patient's
    expect(await batch(a.patients[1]!.address)).toEqual([false, false, false, false])
  })

  it('the custodian unit reads the records it anchored, not the other unit’s; not when suspended', async () => {
    expect(await batch(a.address)).toEqual([true, true, true, false])
    expect(await batch(b.address)).toEqual([false, false, false, true])
    expect(await accessOf(a.address, rec.ct)).toEqual([true, true, false, MAX40, AccessBasis.Custodian])
    await t.write(t.governance, 'setUnitStatus', [a.address, Status.Suspended])
    expect(await batch(a.address)).toEqual([false, false, false, false])
    expect(await batch(b.address)).toEqual([false, false, false, true])
  })

  it('unknown records: nobody', async () => {
    const unknown = randomId()
    for (const who of [patient().address, a.address, a.medics[0]!.address])
      expect(await can(who, unknown)).toBe(false)
    expect(await accessOf(patient().address, unknown)).toEqual([false, false, false, 0, AccessBasis.None])
  })

  it('grant scope All covers every record of the patient, at both units', async () => {
    const medic = a.medics[0]!.address
    expect(await batch(medic)).toEqual([false, false, false, false])
    const exp = await later()
    await t.write(patient(), 'grant', [medic, Scope.All, 0, [], exp, 1, ZERO_HASH])
    expect(await batch(medic)).toEqual([true, true, true, true])
    expect(await accessOf(medic, rec.xrayAtB)).toEqual([true, true, false, exp, AccessBasis.Grant])
    // another patient's grant does not leak
    expect(await batch(medic, [rec.mri])).toEqual([true])
    expect(await batch(a.medics[1]!.address)).toEqual([false, false, false, false])
  })

  it('grant scope Kinds covers exactly the kinds in the mask', async () => {
    const medic = a.medics[0]!.address
    await t.write(patient(), 'grant', [
      medic,
      Scope.Kinds,
      kindMask(['CT', 'XRAY']),
      [],
      await later(),
      2,
      ZERO_HASH,
    ])
    // de-identified only (flags 2): the originals are refused, with the reason flag set where covered
    expect(await batch(medic)).toEqual([false, false, false, false])
    expect(await accessOf(medic, rec.ct)).toEqual([false, false, true, 0, AccessBasis.None])
    expect(await accessOf(medic, rec.mri)).toEqual([false, false, false, 0, AccessBasis.None])
    await t.write(patient(), 'grant', [
      medic,
      Scope.Kinds,
      kindMask(['CT', 'XRAY']),
      [],
      await later(),
      0,
      ZERO_HASH,
    ])
    expect(await batch(medic)).toEqual([false, true, false, true])
  })

  it('grant scope Records covers exactly the listed records', async () => {
    const medic = a.medics[0]!.address
    await t.write(patient(), 'grant', [
      medic,
      Scope.Records,
      0,
      [rec.mri, rec.xrayAtB],
      await later(),
      3,
      ZERO_HASH,
    ])
    // flags 3 (download + de-identified only): the listed originals are refused, the reason flag set
    expect(await batch(medic)).toEqual([false, false, false, false])
    expect(await accessOf(medic, rec.mri)).toEqual([false, false, true, 0, AccessBasis.None])
    await t.write(patient(), 'grant', [
      medic,
      Scope.Records,
      0,
      [rec.mri, rec.xrayAtB],
      await later(),
      1,
      ZERO_HASH,
    ])
    expect(await batch(medic)).toEqual([true, false, false, true])
    const [, download, deid] = await accessOf(medic, rec.mri)
    expect([download, deid]).toEqual([true, false])
  })

  it('re-granting with another record set: the old set no longer counts', async () => {
    const medic = a.medics[0]!.address
    await t.write(patient(), 'grant', [
      medic,
      Scope.Records,
      0,
      [rec.mri, rec.ct],
      await later(),
      0,
      ZERO_HASH,
    ])
    expect(await batch(medic)).toEqual([true, true, false, false])
    await t.write(patient(), 'grant', [medic, Scope.Records, 0, [rec.report], await later(), 0, ZERO_HASH])
    expect(await batch(medic)).toEqual([false, false, true, false])
    // switching to Kinds and back to Records with a new set: still only the newest set
    await t.write(patient(), 'grant', [medic, Scope.Kinds, 1 << Kind.US, [], await later(), 0, ZERO_HASH])
    expect(await batch(medic)).toEqual([false, false, false, false])
    await t.write(patient(), 'grant', [medic, Scope.Records, 0, [rec.xrayAtB], await later(), 0, ZERO_HASH])
    expect(await batch(medic)).toEqual([false, false, false, true])
  })

  it('expiry ends a grant (evm_increaseTime)', async () => {
    const medic = a.medics[0]!.address
    await t.write(patient(), 'grant', [medic, Scope.All, 0, [], await later(100), 0, ZERO_HASH])
    expect(await can(medic, rec.mri)).toBe(true)
    await chain.increaseTime(50)
    expect(await can(medic, rec.mri)).toBe(true)
    await chain.increaseTime(100)
    expect(await batch(medic)).toEqual([false, false, false, false])
  })

  it('revoke ends a grant; a re-grant without records does not revive an old record set', async () => {
    const medic = a.medics[0]!.address
    await t.write(patient(), 'grant', [medic, Scope.Records, 0, [rec.mri], await later(), 0, ZERO_HASH])
    await t.write(patient(), 'revoke', [medic])
    expect(await batch(medic)).toEqual([false, false, false, false])
    await t.write(patient(), 'grant', [medic, Scope.Kinds, 1 << Kind.CT, [], await later(), 0, ZERO_HASH])
    expect(await batch(medic)).toEqual([false, true, false, false])
  })

  it('a suspended grantee reads nothing until approved again', async () => {
    const medic = a.medics[0]!
    await t.write(patient(), 'grant', [medic.address, Scope.All, 0, [], await later(), 0, ZERO_HASH])
    await t.write(a, 'suspend', [medic.address])
    expect(await batch(medic.address)).toEqual([false, false, false, false])
    await t.write(a, 'approve', [medic.address])
    expect(await batch(medic.address)).toEqual([true, true, true, true])
  })

  it('an ungranted requestor, another unit’s uploader and an unregistered account read nothing', async () => {
    const stranger = await newParticipant(chain)
    for (const who of [
      a.requestors[0]!.address,
      b.uploaders[0]!.address,
      a.uploaders[0]!.address,
      stranger.address,
    ]) {
      expect(await batch(who)).toEqual([false, false, false, false])
    }
    // a grant to an unregistered account is inert until it is an Approved participant
    await t.write(patient(), 'grant', [stranger.address, Scope.All, 0, [], await later(), 0, ZERO_HASH])
    expect(await batch(stranger.address)).toEqual([false, false, false, false])
  })

  it('a superseded record gives access to nobody; the rotated copy keeps the custodian and patient only', async () => {
    const medic = a.medics[0]!.address
    await t.write(patient(), 'grant', [medic, Scope.All, 0, [], await later(), 0, ZERO_HASH])
    const newId = randomId()
    await t.write(a, 'rotateRecord', [rec.mri, newId])
    for (const who of [patient().address, a.address, medic]) expect(await can(who, rec.mri)).toBe(false)
    expect(await batch(patient().address, [newId])).toEqual([true])
    expect(await batch(a.address, [newId])).toEqual([true])
    expect(await batch(medic, [newId])).toEqual([true]) // scope All covers it
    const listed = a.medics[1]!.address
    await t.write(patient(), 'grant', [listed, Scope.Records, 0, [rec.ct], await later(), 0, ZERO_HASH])
    await t.write(patient(), 'rotateRecord', [rec.ct, randomId()])
    expect(await can(listed, rec.ct)).toBe(false)
  })

  it('emergency: the declaring medic reads its unit’s records of that patient, within the window only', async () => {
    const medic = a.medics[2]!
    await t.write(medic, 'declareEmergency', [patient().address, 1, 600])
    const until = (await chain.now()) + 600
    expect(await batch(medic.address)).toEqual([true, true, true, false]) // not unit B's X-ray
    expect(await accessOf(medic.address, rec.mri)).toEqual([true, false, false, until, AccessBasis.Emergency])
    expect(await batch(a.medics[1]!.address)).toEqual([false, false, false, false]) // other medics: no
    expect(await batch(a.medics[2]!.address, [])).toEqual([])
    // another unit's medic in emergency reads only that unit's records
    await t.write(b.medics[0]!, 'declareEmergency', [patient().address, 1, 600])
    expect(await batch(b.medics[0]!.address)).toEqual([false, false, false, true])
    await chain.increaseTime(601)
    expect(await batch(medic.address)).toEqual([false, false, false, false])
    expect(await batch(b.medics[0]!.address)).toEqual([false, false, false, false])
  })

  it('emergency ends early when the patient ends it, the medic is suspended, or the unit is suspended', async () => {
    const medic = a.medics[2]!
    await t.write(medic, 'declareEmergency', [patient().address, 1, 3600])
    const s1 = await chain.snapshot()
    await t.write(patient(), 'endEmergency', [medic.address])
    expect(await can(medic.address, rec.mri)).toBe(false)
    await chain.revert(s1)
    const s2 = await chain.snapshot()
    await t.write(a, 'suspend', [medic.address])
    expect(await can(medic.address, rec.mri)).toBe(false)
    await chain.revert(s2)
    await t.write(t.governance, 'setUnitStatus', [a.address, Status.Suspended])
    expect(await can(medic.address, rec.mri)).toBe(false)
  })

  it('a grant takes precedence over an emergency in accessOf (its download terms apply)', async () => {
    const medic = a.medics[2]!
    await t.write(medic, 'declareEmergency', [patient().address, 1, 600])
    const exp = await later()
    await t.write(patient(), 'grant', [medic.address, Scope.Kinds, 1 << Kind.CT, [], exp, 1, ZERO_HASH])
    expect(await accessOf(medic.address, rec.ct)).toEqual([true, true, false, exp, AccessBasis.Grant])
    expect((await accessOf(medic.address, rec.mri))[4]).toBe(AccessBasis.Emergency)
  })

  it('unit suspension: custodian and emergency access stop, grants to its staff do not', async () => {
    const medic = a.medics[0]!.address
    await t.write(patient(), 'grant', [medic, Scope.All, 0, [], await later(), 0, ZERO_HASH])
    await t.write(t.governance, 'setUnitStatus', [a.address, Status.Suspended])
    expect(await batch(a.address)).toEqual([false, false, false, false])
    expect(await batch(medic)).toEqual([true, true, true, true])
    expect(await batch(patient().address)).toEqual([true, true, true, true])
  })
})
