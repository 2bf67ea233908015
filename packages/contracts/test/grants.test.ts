import {
  registerParticipant,
  setupUnit,
  startTestChain,
  type TestChain,
  type TestUnit,
} from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Kind, kindMask, Scope } from '../src/index.js'
import { bind, eventOf, grantSetOf, randomId, ZERO_ADDRESS, ZERO_HASH } from './helpers.js'

let chain: TestChain
let t: ReturnType<typeof bind>
let unit: TestUnit
const records: `0x${string}`[] = []

type G = { expiresAt: number; kindMask: number; scope: number; flags: number; epoch: number }

beforeAll(async () => {
  chain = await startTestChain()
  t = bind(chain)
  unit = await setupUnit(chain, { roles: { patient: 2, uploader: 1, medic: 3, requestor: 1 } })
  for (const kind of [Kind.MRI, Kind.CT, Kind.REPORT]) {
    const id = randomId()
    await t.write(unit, 'anchorRecord', [id, unit.patients[0]!.address, unit.uploaders[0]!.address, kind])
    records.push(id)
  }
})
afterAll(async () => {
  await chain?.stop()
})

const later = async (seconds = 3600) => (await chain.now()) + seconds

describe('grant', () => {
  it('writes the packed grant and logs its terms; each call bumps the epoch', async () => {
    const patient = unit.patients[0]!
    const medic = unit.medics[0]!.address
    const expiresAt = await later()
    const bundle = randomId()
    const r1 = await t.write(patient, 'grant', [medic, Scope.All, 0, [], expiresAt, 1, bundle])
    expect(grantSetOf(r1)).toEqual({
      patient: patient.address,
      grantee: medic,
      scope: Scope.All,
      kindMask: 0,
      expiresAt,
      flags: 1,
      epoch: 1,
      keyBundle: bundle,
    })
    expect(r1.events.some((e) => e.eventName === 'GrantRecords')).toBe(false)
    expect(await t.read<G>('grantOf', [patient.address, medic])).toEqual({
      expiresAt,
      kindMask: 0,
      scope: Scope.All,
      flags: 1,
      epoch: 1,
    })
    const mask = kindMask(['CT', 'MRI'])
    const r2 = await t.write(patient, 'grant', [medic, Scope.Kinds, mask, [], expiresAt + 10, 3, ZERO_HASH])
    expect(grantSetOf(r2)).toMatchObject({ scope: Scope.Kinds, kindMask: mask, flags: 3, epoch: 2 })
    const r3 = await t.write(patient, 'grant', [
      medic,
      Scope.Records,
      0,
      records.slice(0, 2),
      expiresAt,
      0,
      bundle,
    ])
    expect(grantSetOf(r3)).toMatchObject({ scope: Scope.Records, epoch: 3 })
    expect(eventOf(r3, 'GrantRecords')).toEqual({
      patient: patient.address,
      grantee: medic,
      epoch: 3,
      recordIds: records.slice(0, 2),
    })
    expect(await t.read<G>('grantOf', [patient.address, medic])).toEqual({
      expiresAt,
      kindMask: 0,
      scope: Scope.Records,
      flags: 0,
      epoch: 3,
    })
  })

  it('grantee status is not checked at grant time (the client does that)', async () => {
    const pending = await registerParticipant(chain, unit.address, 'medic')
    const stranger = await chain.newAccount()
    await t.write(unit.patients[0]!, 'grant', [
      pending.address,
      Scope.All,
      0,
      [],
      await later(),
      0,
      ZERO_HASH,
    ])
    await t.write(unit.patients[0]!, 'grant', [
      stranger.address,
      Scope.All,
      0,
      [],
      await later(),
      0,
      ZERO_HASH,
    ])
  })

  it('a grant by an address that is not an Approved patient succeeds but gives no access', async () => {
    const snap = await chain.snapshot()
    const reader = unit.requestors[0]!.address // access only through a grant: no custody, no emergency
    const noAccess = async () => {
      expect(await t.read('canAccessBatch', [reader, records])).toEqual(records.map(() => false))
    }
    await noAccess()
    const pending = await registerParticipant(chain, unit.address, 'patient')
    const strangerAccount = await chain.newAccount()
    const stranger = { account: strangerAccount, wallet: chain.walletClientFor(strangerAccount) }
    for (const [who, from] of [
      ['medic', unit.medics[0]!],
      ['unit', unit],
      ['pending patient', pending],
      ['unregistered address', stranger],
    ] as const) {
      const expiresAt = await later()
      const r = await t.write(from, 'grant', [reader, Scope.All, 0, [], expiresAt, 1, ZERO_HASH])
      expect(grantSetOf(r), who).toMatchObject({ patient: from.account.address, grantee: reader, epoch: 1 })
      expect(await t.read<G>('grantOf', [from.account.address, reader]), who).toMatchObject({
        scope: Scope.All,
        expiresAt,
      })
      await noAccess()
      // Records scope still requires the grantor to be each record's patient.
      await t.expectRevert(
        from,
        'grant',
        [reader, Scope.Records, 0, [records[0]], expiresAt, 0, ZERO_HASH],
        'NotRecordPatient',
        [records[0], from.account.address],
      )
    }
    // The same grant by the records' patient does give access (so the checks above can fail).
    await t.write(unit.patients[0]!, 'grant', [reader, Scope.All, 0, [], await later(), 1, ZERO_HASH])
    expect(await t.read('canAccessBatch', [reader, records])).toEqual(records.map(() => true))
    await chain.revert(snap)
  })

  it('a suspended patient still grants, and the grant applies (patient sovereignty)', async () => {
    const snap = await chain.snapshot()
    const p = unit.patients[0]!
    const reader = unit.requestors[0]!.address
    await t.write(unit, 'suspend', [p.address])
    expect(await t.read('canAccess', [reader, records[1]])).toBe(false)
    const r = await t.write(p, 'grant', [
      reader,
      Scope.Kinds,
      kindMask(['CT']),
      [],
      await later(),
      0,
      ZERO_HASH,
    ])
    expect(grantSetOf(r)).toMatchObject({
      patient: p.address,
      scope: Scope.Kinds,
      kindMask: kindMask(['CT']),
    })
    expect(await t.read('canAccessBatch', [reader, records])).toEqual([false, true, false])
    await chain.revert(snap)
  })

  it('validates grantee, expiry, flags, scope, mask and records', async () => {
    const p = unit.patients[0]!
    const q = unit.patients[1]!
    const m = unit.medics[0]!.address
    const exp = await later()
    const now = await chain.now()
    await t.expectRevert(p, 'grant', [ZERO_ADDRESS, 1, 0, [], exp, 0, ZERO_HASH], 'InvalidGrantee', [
      ZERO_ADDRESS,
    ])
    await t.expectRevert(p, 'grant', [p.address, 1, 0, [], exp, 0, ZERO_HASH], 'InvalidGrantee', [p.address])
    await t.expectRevert(p, 'grant', [m, 1, 0, [], now - 1, 0, ZERO_HASH], 'InvalidExpiry', [now - 1])
    await t.expectRevert(p, 'grant', [m, 1, 0, [], 0, 0, ZERO_HASH], 'InvalidExpiry', [0])
    await t.expectRevert(p, 'grant', [m, 1, 0, [], exp, 4, ZERO_HASH], 'InvalidFlags', [4])
    await t.expectRevert(p, 'grant', [m, Scope.None, 0, [], exp, 0, ZERO_HASH], 'InvalidScope', [Scope.None])
    await t.expectRevert(p, 'grant', [m, Scope.Records, 0, [], exp, 0, ZERO_HASH], 'InvalidScope', [
      Scope.Records,
    ])
    await t.expectRevert(p, 'grant', [m, Scope.All, 0, [records[0]], exp, 0, ZERO_HASH], 'InvalidScope', [
      Scope.All,
    ])
    await t.expectRevert(p, 'grant', [m, Scope.Kinds, 2, [records[0]], exp, 0, ZERO_HASH], 'InvalidScope')
    await t.expectRevert(p, 'grant', [m, Scope.Kinds, 0, [], exp, 0, ZERO_HASH], 'InvalidKindMask', [0])
    await t.expectRevert(p, 'grant', [m, Scope.Kinds, 0x40, [], exp, 0, ZERO_HASH], 'InvalidKindMask', [0x40])
    await t.expectRevert(p, 'grant', [m, Scope.All, 1, [], exp, 0, ZERO_HASH], 'InvalidKindMask', [1])
    await t.expectRevert(
      p,
      'grant',
      [m, Scope.Records, 1, [records[0]], exp, 0, ZERO_HASH],
      'InvalidKindMask',
      [1],
    )
    const unknown = randomId()
    await t.expectRevert(
      p,
      'grant',
      [m, Scope.Records, 0, [records[0], unknown], exp, 0, ZERO_HASH],
      'RecordNotFound',
      [unknown],
    )
    await t.expectRevert(
      q,
      'grant',
      [m, Scope.Records, 0, [records[0]], exp, 0, ZERO_HASH],
      'NotRecordPatient',
      [records[0], q.address],
    )
    const snap = await chain.snapshot()
    await t.write(p, 'rotateRecord', [records[2], randomId()])
    await t.expectRevert(
      p,
      'grant',
      [m, Scope.Records, 0, [records[2]], exp, 0, ZERO_HASH],
      'RecordSuperseded',
      [records[2]],
    )
    await chain.revert(snap)
  })
})

describe('revoke', () => {
  it('zeroes the terms but keeps the epoch, with an event', async () => {
    const p = unit.patients[1]!
    const m = unit.medics[2]!.address
    await t.write(p, 'grant', [m, Scope.All, 0, [], await later(), 1, ZERO_HASH])
    await t.write(p, 'grant', [m, Scope.Kinds, 1, [], await later(), 1, ZERO_HASH])
    const r = await t.write(p, 'revoke', [m])
    expect(eventOf(r, 'GrantRevoked')).toEqual({ patient: p.address, grantee: m, epoch: 2 })
    expect(await t.read<G>('grantOf', [p.address, m])).toEqual({
      expiresAt: 0,
      kindMask: 0,
      scope: Scope.None,
      flags: 0,
      epoch: 2,
    })
    const again = await t.write(p, 'grant', [m, Scope.All, 0, [], await later(), 0, ZERO_HASH])
    expect(grantSetOf(again).epoch).toBe(3)
  })

  it('needs an active grant: never granted, already revoked, or expired', async () => {
    const p = unit.patients[1]!
    const m = unit.medics[1]!.address
    await t.expectRevert(p, 'revoke', [m], 'NoActiveGrant', [p.address, m])
    await t.write(p, 'grant', [m, Scope.All, 0, [], await later(100), 0, ZERO_HASH])
    const snap = await chain.snapshot()
    await t.write(p, 'revoke', [m])
    await t.expectRevert(p, 'revoke', [m], 'NoActiveGrant', [p.address, m])
    await chain.revert(snap)
    await chain.increaseTime(200)
    await t.expectRevert(p, 'revoke', [m], 'NoActiveGrant', [p.address, m])
    // another patient's grant is not the caller's to revoke
    await t.expectRevert(unit.patients[0]!, 'revoke', [unit.medics[2]!.address], 'NoActiveGrant')
  })

  it('a suspended patient can still revoke', async () => {
    const snap = await chain.snapshot()
    const p = unit.patients[1]!
    const m = unit.requestors[0]!.address
    await t.write(p, 'grant', [m, Scope.All, 0, [], await later(), 0, ZERO_HASH])
    await t.write(unit, 'suspend', [p.address])
    await t.write(p, 'revoke', [m])
    await chain.revert(snap)
  })
})
