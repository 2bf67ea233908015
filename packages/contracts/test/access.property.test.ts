import {
  setupUnit,
  startTestChain,
  type TestChain,
  type TestParticipant,
  type TestUnit,
} from '@pcmims/test-utils'
import fc from 'fast-check'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GrantFlag, KIND_MASK_ALL, Kind, Scope, Status } from '../src/index.js'
import { bind, randomId, ZERO_HASH } from './helpers.js'

// A TypeScript model of canAccess, driven by random sequences of grants, revokes, clock moves, suspensions,
// rotations, emergencies and de-identified copies; after every step the contract must agree with the model on every
// (reader, record) pair.

/** `audience`: the reader a de-identified copy was made for (undefined for an original). */
type ModelRecord = { id: Hex; kind: number; unit: 'A' | 'B'; superseded: boolean; audience?: number }
type ModelGrant = { scope: number; mask: number; records: Set<Hex>; expiresAt: number; flags: number }
type Reader = {
  name: string
  who: TestParticipant
  unit: 'A' | 'B' | null
  role: 'medic' | 'requestor' | 'unit'
}

type Command =
  | { type: 'grant'; reader: number; scope: number; mask: number; pick: number[]; ttl: number; flags: number }
  | { type: 'revoke'; reader: number }
  | { type: 'time'; seconds: number }
  | { type: 'toggleStatus'; reader: number }
  | { type: 'toggleUnit'; unit: 'A' | 'B' }
  | { type: 'rotate'; pick: number }
  | { type: 'emergency'; reader: number; duration: number }
  | { type: 'endEmergency'; reader: number }
  | { type: 'copy'; reader: number; pick: number }

let chain: TestChain
let t: ReturnType<typeof bind>
let a: TestUnit
let b: TestUnit
let readers: Reader[]
const initialRecords: ModelRecord[] = []

beforeAll(async () => {
  chain = await startTestChain()
  t = bind(chain)
  a = await setupUnit(chain, { roles: { patient: 1, uploader: 1, medic: 2, requestor: 1 } })
  b = await setupUnit(chain, { roles: { uploader: 1, medic: 1 } })
  const p = a.patients[0]!.address
  for (const [unit, kind] of [
    [a, Kind.MRI],
    [a, Kind.CT],
    [a, Kind.REPORT],
    [b, Kind.XRAY],
    [b, Kind.CT],
  ] as const) {
    const id = randomId()
    await t.write(unit, 'anchorRecord', [id, p, unit.uploaders[0]!.address, kind])
    initialRecords.push({ id, kind, unit: unit === a ? 'A' : 'B', superseded: false })
  }
  readers = [
    { name: 'medicA0', who: a.medics[0]!, unit: 'A', role: 'medic' },
    { name: 'medicA1', who: a.medics[1]!, unit: 'A', role: 'medic' },
    { name: 'medicB', who: b.medics[0]!, unit: 'B', role: 'medic' },
    { name: 'requestor', who: a.requestors[0]!, unit: 'A', role: 'requestor' },
    { name: 'unitA', who: a, unit: 'A', role: 'unit' },
  ]
})
afterAll(async () => {
  await chain?.stop()
})

const readerIndex = fc.integer({ min: 0, max: 4 })
const medicIndex = fc.integer({ min: 0, max: 2 })
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      type: fc.constant('grant' as const),
      reader: readerIndex,
      scope: fc.constantFrom(Scope.All, Scope.Kinds, Scope.Records),
      mask: fc.integer({ min: 1, max: KIND_MASK_ALL }),
      pick: fc.uniqueArray(fc.nat({ max: 20 }), { minLength: 1, maxLength: 4 }),
      ttl: fc.integer({ min: 10, max: 2000 }),
      flags: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('revoke' as const), reader: readerIndex }) },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('time' as const), seconds: fc.integer({ min: 1, max: 1500 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('toggleStatus' as const),
      reader: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('toggleUnit' as const),
      unit: fc.constantFrom('A' as const, 'B' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('rotate' as const), pick: fc.nat({ max: 20 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('emergency' as const),
      reader: medicIndex,
      duration: fc.integer({ min: 1, max: 4 * 3600 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('endEmergency' as const), reader: medicIndex }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('copy' as const),
      reader: readerIndex,
      pick: fc.nat({ max: 20 }),
    }),
  },
)

describe('canAccess agrees with a TypeScript model', () => {
  it('over random grant scopes, kinds, record sets, flags, expiries, suspensions, rotations, emergencies and copies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 8 }), async (commands) => {
        const snapshot = await chain.snapshot()
        try {
          await runScenario(commands)
        } finally {
          await chain.revert(snapshot)
        }
      }),
      { numRuns: 50, endOnFailure: true },
    )
  })
})

async function runScenario(commands: Command[]): Promise<void> {
  const patient = a.patients[0]!
  const records: ModelRecord[] = initialRecords.map((r) => ({ ...r }))
  const grants = new Map<number, ModelGrant>()
  const approved = new Map<number, boolean>(readers.map((_, i) => [i, true]))
  const unitApproved = { A: true, B: true }
  const emergencyUntil = new Map<number, number>()
  const unitOf = (r: Reader) => (r.unit === 'A' ? a : b)

  for (const c of commands) {
    const now = await chain.now()
    switch (c.type) {
      case 'grant': {
        const reader = readers[c.reader]!
        const current = records.filter((r) => !r.superseded)
        const ids =
          c.scope === Scope.Records ? [...new Set(c.pick.map((i) => current[i % current.length]!.id))] : []
        const mask = c.scope === Scope.Kinds ? c.mask : 0
        const expiresAt = now + c.ttl
        await t.write(patient, 'grant', [
          reader.who.address,
          c.scope,
          mask,
          ids,
          expiresAt,
          c.flags,
          ZERO_HASH,
        ])
        grants.set(c.reader, { scope: c.scope, mask, records: new Set(ids), expiresAt, flags: c.flags })
        break
      }
      case 'revoke': {
        const g = grants.get(c.reader)
        const who = readers[c.reader]!.who.address
        if (g && g.scope !== Scope.None && g.expiresAt > now + 1) {
          await t.write(patient, 'revoke', [who])
          grants.set(c.reader, { scope: Scope.None, mask: 0, records: new Set(), expiresAt: 0, flags: 0 })
        } else if (!g || g.scope === Scope.None || g.expiresAt <= now) {
          await t.expectRevert(patient, 'revoke', [who], 'NoActiveGrant')
        }
        break
      }
      case 'time':
        await chain.increaseTime(c.seconds)
        break
      case 'toggleStatus': {
        const reader = readers[c.reader]!
        const unit = unitOf(reader)
        if (!unitApproved[reader.unit!]) break
        const fn = approved.get(c.reader) ? 'suspend' : 'approve'
        await t.write(unit, fn, [reader.who.address])
        approved.set(c.reader, !approved.get(c.reader))
        break
      }
      case 'toggleUnit': {
        const unit = c.unit === 'A' ? a : b
        const status = unitApproved[c.unit] ? Status.Suspended : Status.Approved
        await t.write(t.governance, 'setUnitStatus', [unit.address, status])
        unitApproved[c.unit] = !unitApproved[c.unit]
        break
      }
      case 'rotate': {
        const current = records.filter((r) => !r.superseded)
        const old = current[c.pick % current.length]!
        const newId = randomId()
        await t.write(patient, 'rotateRecord', [old.id, newId])
        old.superseded = true
        records.push({ ...old, id: newId, superseded: false })
        break
      }
      case 'emergency': {
        const reader = readers[c.reader]!
        const until = emergencyUntil.get(c.reader) ?? 0
        const canDeclare = approved.get(c.reader) && unitApproved[reader.unit!]
        if (!canDeclare) {
          await t.expectRevert(
            reader.who,
            'declareEmergency',
            [patient.address, 1, c.duration],
            approved.get(c.reader) ? 'UnitNotApproved' : 'NotApprovedParticipant',
          )
        } else if (until > now + 1) {
          await t.expectRevert(
            reader.who,
            'declareEmergency',
            [patient.address, 1, c.duration],
            'EmergencyActive',
          )
        } else if (until <= now) {
          const r = await t.write(reader.who, 'declareEmergency', [patient.address, 1, c.duration])
          emergencyUntil.set(c.reader, Number((r.events[0]!.args as { until: number }).until))
        }
        break
      }
      case 'copy': {
        const reader = readers[c.reader]!
        const current = records.filter((r) => !r.superseded)
        const source = current[c.pick % current.length]!
        const args = [randomId(), source.id, reader.who.address]
        const active = reader.role === 'unit' ? unitApproved[reader.unit!] : approved.get(c.reader)
        const g = grants.get(c.reader)
        const expiresAt = g && g.scope !== Scope.None ? g.expiresAt : 0
        if (!active) {
          await t.expectRevert(patient, 'anchorDeidentifiedCopy', args, 'InvalidAudience')
        } else if (expiresAt <= now) {
          await t.expectRevert(patient, 'anchorDeidentifiedCopy', args, 'NoActiveGrant')
        } else if (expiresAt > now + 1) {
          await t.write(patient, 'anchorDeidentifiedCopy', args)
          records.push({ ...source, id: args[0] as Hex, audience: c.reader })
        }
        break
      }
      case 'endEmergency': {
        const who = readers[c.reader]!.who.address
        const until = emergencyUntil.get(c.reader) ?? 0
        if (until > now + 1) {
          await t.write(patient, 'endEmergency', [who])
          emergencyUntil.set(c.reader, await chain.now())
        } else if (until <= now) {
          await t.expectRevert(patient, 'endEmergency', [who], 'NoActiveEmergency')
        }
        break
      }
    }

    // Compare at one pinned block, so the model and the contract see the same timestamp.
    const block = await chain.publicClient.getBlock({ blockTag: 'latest' })
    const time = Number(block.timestamp)
    const ids = records.map((r) => r.id)
    for (const [i, reader] of readers.entries()) {
      const actual = await chain.publicClient.readContract({
        address: chain.contract,
        abi: (await import('../src/index.js')).pcmimsAbi,
        functionName: 'canAccessBatch',
        args: [reader.who.address, ids],
        blockNumber: block.number,
      })
      const expected = records.map((r) => modelAccess(i, reader, r, time))
      expect([...actual], `${reader.name} after ${JSON.stringify(c)}`).toEqual(expected)
    }
    const own = await chain.publicClient.readContract({
      address: chain.contract,
      abi: (await import('../src/index.js')).pcmimsAbi,
      functionName: 'canAccessBatch',
      args: [patient.address, ids],
      blockNumber: block.number,
    })
    expect([...own]).toEqual(records.map((r) => !r.superseded))
  }

  function modelAccess(i: number, reader: Reader, r: ModelRecord, now: number): boolean {
    if (r.superseded) return false
    const active = reader.role === 'unit' ? unitApproved[reader.unit!] : approved.get(i)
    if (!active) return false
    if (reader.role === 'unit' && reader.unit === r.unit) return true
    const g = grants.get(i)
    const live = g !== undefined && g.scope !== Scope.None && g.expiresAt > now
    // A copy: its audience under any live grant; nobody else, not even in an emergency.
    if (r.audience !== undefined) return r.audience === i && live
    // A de-identified-only grant never covers an original.
    if (live && (g.flags & GrantFlag.DeidentifiedOnly) === 0) {
      if (g.scope === Scope.All) return true
      if (g.scope === Scope.Kinds && ((g.mask >> r.kind) & 1) === 1) return true
      if (g.scope === Scope.Records && g.records.has(r.id)) return true
    }
    if (reader.role === 'medic' && reader.unit === r.unit && unitApproved[reader.unit]) {
      return (emergencyUntil.get(i) ?? 0) > now
    }
    return false
  }
}
