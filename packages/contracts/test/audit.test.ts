import { newParticipant, setupUnit, startTestChain, type TestChain, type TestUnit } from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Role, Status } from '../src/index.js'
import { bind, eventOf, randomId, ZERO_HASH } from './helpers.js'

let chain: TestChain
let t: ReturnType<typeof bind>
let unit: TestUnit
let other: TestUnit

beforeAll(async () => {
  chain = await startTestChain()
  t = bind(chain)
  unit = await setupUnit(chain, { roles: { patient: 1, medic: 1 } })
  other = await setupUnit(chain)
})
afterAll(async () => {
  await chain?.stop()
})

describe('anchorAuditRoot', () => {
  it('an Approved unit anchors its own roots; the views return them per (unit, size)', async () => {
    expect(await t.read<bigint>('latestAuditSize', [unit.address])).toBe(0n)
    const first = randomId()
    const r1 = await t.write(unit, 'anchorAuditRoot', [3n, first])
    expect(eventOf(r1, 'AuditRootAnchored')).toEqual({ unit: unit.address, size: 3n, root: first })
    expect(r1.receipt.logs[0]?.topics[1]?.toLowerCase()).toBe(
      `0x${unit.address.slice(2).toLowerCase().padStart(64, '0')}`,
    )
    const second = randomId()
    const r2 = await t.write(unit, 'anchorAuditRoot', [10n, second])
    expect(eventOf(r2, 'AuditRootAnchored')).toEqual({ unit: unit.address, size: 10n, root: second })
    expect(await t.read('auditRoot', [unit.address, 3n])).toBe(first)
    expect(await t.read('auditRoot', [unit.address, 10n])).toBe(second)
    expect(await t.read('auditRoot', [unit.address, 4n])).toBe(ZERO_HASH)
    expect(await t.read<bigint>('latestAuditSize', [unit.address])).toBe(10n)
    // Units have independent logs.
    expect(await t.read<bigint>('latestAuditSize', [other.address])).toBe(0n)
    expect(await t.read('auditRoot', [other.address, 3n])).toBe(ZERO_HASH)
    const r3 = await t.write(other, 'anchorAuditRoot', [1n, first])
    expect(eventOf(r3, 'AuditRootAnchored')).toEqual({ unit: other.address, size: 1n, root: first })
    expect(await t.read<bigint>('latestAuditSize', [unit.address])).toBe(10n)
    // Gas: the first anchor creates two slots (root, latest size), later ones a root slot and an update
    // (21k base + 22.1k new slot + 2 cold reads + 2.9k + the event: ~53k is the floor of this design).
    expect(r1.gasUsed).toBeLessThan(72_000n)
    expect(r2.gasUsed).toBeLessThan(55_000n)
  })

  it('refuses anyone but an Approved unit', async () => {
    const root = randomId()
    const stranger = await newParticipant(chain)
    for (const account of [unit.patients[0]!, unit.medics[0]!, stranger]) {
      await t.expectRevert(account, 'anchorAuditRoot', [100n, root], 'NotApprovedParticipant', [
        account.address,
        Role.Unit,
      ])
    }
    await t.expectRevert(t.governance, 'anchorAuditRoot', [100n, root], 'NotApprovedParticipant', [
      chain.governance.address,
      Role.Unit,
    ])
    // A suspended unit cannot anchor; re-approved, it can again.
    const snap = await chain.snapshot()
    await t.write(t.governance, 'setUnitStatus', [other.address, Status.Suspended])
    await t.expectRevert(other, 'anchorAuditRoot', [100n, root], 'NotApprovedParticipant', [
      other.address,
      Role.Unit,
    ])
    await t.write(t.governance, 'setUnitStatus', [other.address, Status.Approved])
    await t.write(other, 'anchorAuditRoot', [100n, root])
    await chain.revert(snap)
  })

  it('is append-only: the size must grow; the root must not be zero', async () => {
    const latest = await t.read<bigint>('latestAuditSize', [unit.address])
    expect(latest).toBeGreaterThan(0n)
    for (const size of [latest, latest - 1n, 0n]) {
      await t.expectRevert(unit, 'anchorAuditRoot', [size, randomId()], 'AuditSizeNotIncreasing', [
        unit.address,
        size,
        latest,
      ])
    }
    await t.expectRevert(unit, 'anchorAuditRoot', [latest + 1n, ZERO_HASH], 'ZeroAuditRoot')
    // The largest size fits.
    const max = 2n ** 64n - 1n
    await t.write(unit, 'anchorAuditRoot', [max, randomId()])
    await t.expectRevert(unit, 'anchorAuditRoot', [max, randomId()], 'AuditSizeNotIncreasing', [
      unit.address,
      max,
      max,
    ])
  })
})
