import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import {
  type AuditAction,
  anchorAuditRoot,
  auditEntryHash,
  decodePcmimsLogs,
  getAuditRoot,
  getLatestAuditSize,
  verifyAuditEntries,
  verifyFullLog,
} from '@pcmims/core'
import { setupUnit, startTestChain, type TestChain, type TestUnit } from '@pcmims/test-utils'
import { type Address, type Hex, isAddressEqual } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AuditLog, AuditLogCorruptError, createAuditLog } from '../src/audit/audit-log.js'
import { openDatabase } from '../src/db/open-database.js'
import { createLogger } from '../src/logger.js'

let chain: TestChain
let unit: TestUnit
let dir: string
let db: DatabaseSync
/** A second connection: the "attacker" editing the node's SQLite file directly. */
let raw: DatabaseSync
let log: AuditLog
const gas: bigint[] = []

beforeAll(async () => {
  chain = await startTestChain()
  unit = await setupUnit(chain, { roles: { patient: 2, medic: 1 } })
  dir = mkdtempSync(join(tmpdir(), 'pcmims-audit-'))
  db = openDatabase(join(dir, 'node.db'))
  raw = new DatabaseSync(join(dir, 'node.db'))
  log = createAuditLog({
    db,
    logger: createLogger({ level: 'silent' }),
    send: async (size, root) => {
      const result = await anchorAuditRoot(unit.wallet, { contract: chain.contract, size, root })
      gas.push(result.gasUsed)
      return result.hash
    },
  })
})
afterAll(async () => {
  raw?.close()
  db?.close()
  await chain?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const patientA = () => unit.patients[0]!.address
const patientB = () => unit.patients[1]!.address

function appendActivity(from: number, to: number): void {
  const actions: AuditAction[] = ['record.list', 'record.read', 'key-bundle.release', 'record.metadata']
  for (let i = from; i < to; i++) {
    if (i % 5 === 4) {
      log.append({
        action: 'session.sign-in',
        outcome: 'denied',
        source: '192.0.2.7',
        detail: 'bad-signature',
      })
      continue
    }
    log.append({
      action: actions[i % actions.length]!,
      outcome: i % 7 === 3 ? 'denied' : 'success',
      detail: i % 7 === 3 ? 'no-grant' : null,
      source: '::ffff:127.0.0.1',
      actor: unit.medics[0]!.address,
      actorRole: 'medic',
      patient: i % 2 === 0 ? patientA() : patientB(),
      recordId: `0x${(i + 1).toString(16).padStart(64, 'a')}`,
    })
  }
}

/** The unit's anchored sizes and roots, read from chain only (events for the sizes, the view for the roots). */
async function chainRoots(): Promise<{ roots: Map<number, Hex | null>; latest: number }> {
  const { publicClient, contract } = chain
  const logs = await publicClient.getLogs({ address: contract, fromBlock: 0n })
  const sizes = decodePcmimsLogs(logs, { address: contract }).flatMap((e) =>
    e.eventName === 'AuditRootAnchored' && isAddressEqual(e.args.unit, unit.address)
      ? [Number(e.args.size)]
      : [],
  )
  const roots = new Map<number, Hex | null>()
  for (const size of sizes)
    roots.set(size, await getAuditRoot(publicClient, { contract, unit: unit.address, size }))
  return { roots, latest: await getLatestAuditSize(publicClient, { contract, unit: unit.address }) }
}

/** What `pcmims audit --verify` does for a patient. */
async function patientView(patient: Address) {
  const served = log.entriesFor({ patient })
  const { roots, latest } = await chainRoots()
  return verifyAuditEntries({
    entries: served.entries,
    anchoredRoots: roots,
    latestAnchoredSize: latest,
    consistencyProofs: log.consistencyProofs([...roots.keys()]),
  })
}

/** The unit auditor's view of the whole log. */
async function auditorView() {
  const all = log.entriesFor({ all: true }, { limit: 10_000 })
  const { roots } = await chainRoots()
  return verifyFullLog({
    entries: all.entries.map((e) => e.entry),
    hashes: all.entries.map((e) => e.hash),
    anchoredRoots: roots,
  })
}

type Row = {
  seq: number
  patient: string | null
  actor: string | null
  record_id: string | null
  action: string
  entry: string
  hash: string
}
const rowAt = (seq: number) => raw.prepare('SELECT * FROM audit_entries WHERE seq = ?').get(seq) as Row
function restore(rows: Row[]): void {
  raw.exec('BEGIN')
  for (const r of rows) {
    raw
      .prepare(
        'INSERT OR REPLACE INTO audit_entries (seq, patient, actor, record_id, action, entry, hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(r.seq, r.patient, r.actor, r.record_id, r.action, r.entry, r.hash)
  }
  raw.exec('COMMIT')
}
const seqOf = (entry: unknown) => (entry as { seq: number }).seq

describe('audit log anchored on a real chain', () => {
  it('appends, anchors from the unit account, and verifies against the roots on chain', async () => {
    appendActivity(0, 30)
    const first = await log.anchor()
    expect(first?.size).toBe(30)
    appendActivity(30, 45)
    const second = await log.anchor()
    expect(second?.size).toBe(45)
    appendActivity(45, 48) // not anchored yet

    const { roots, latest } = await chainRoots()
    expect(latest).toBe(45)
    expect([...roots]).toEqual(log.anchors().map((a) => [a.size, a.root]))
    const receipt = await chain.publicClient.getTransactionReceipt({ hash: second!.txHash })
    expect(receipt.status).toBe('success')

    for (const patient of [patientA(), patientB()]) {
      const report = await patientView(patient)
      expect(report.problems).toEqual([])
      expect(report.ok).toBe(true)
      expect(report.entries.filter((e) => e.status === 'verified').length).toBeGreaterThan(10)
      expect(report.entries.filter((e) => e.status === 'unanchored').map((e) => e.seq)).toEqual(
        log
          .entriesFor({ patient })
          .entries.filter((e) => seqOf(e.entry) >= 45)
          .map((e) => seqOf(e.entry)),
      )
      expect(report.anchors.map((a) => a.consistentWithPrevious)).toEqual([null, true])
    }
    const full = await auditorView()
    expect(full).toMatchObject({ ok: true, firstBroken: null, size: 48 })
    // First anchor: two new slots; later ones: one new slot (contract tests bound both).
    expect(gas[0]!).toBeLessThan(72_000n)
    expect(gas[1]!).toBeLessThan(55_000n)
  })

  it('edit: the patient’s verification fails on that entry; the full log names it', async () => {
    const target = log.entriesFor({ patient: patientA() }).entries.find((e) => seqOf(e.entry) === 12)!
    expect(target.entry).toMatchObject({ outcome: 'success' })
    const original = rowAt(12)
    raw
      .prepare('UPDATE audit_entries SET entry = ? WHERE seq = 12')
      .run(original.entry.replace('"success"', '"denied"'))

    const patient = await patientView(patientA())
    expect(patient.ok).toBe(false)
    expect(patient.entries.filter((e) => e.status === 'failed')).toEqual([
      expect.objectContaining({ seq: 12, action: target.entry.action, time: target.entry.time }),
    ])
    expect(patient.problems[0]).toMatch(/^entry 12 \(.*\): its content does not match its proof/)
    const full = await auditorView()
    expect(full.ok).toBe(false)
    expect(full.firstBroken).toMatchObject({ seq: 12, kind: 'edited' })

    // An attacker who also rewrites the stored hash still breaks the chain and the anchored root, and the
    // node refuses to anchor over it.
    const edited = rowAt(12)
    raw
      .prepare('UPDATE audit_entries SET hash = ? WHERE seq = 12')
      .run(auditEntryHash(JSON.parse(edited.entry)))
    const rehashed = await patientView(patientA())
    expect(rehashed.ok).toBe(false)
    expect(rehashed.entries.filter((e) => e.seq! < 45).every((e) => e.status === 'failed')).toBe(true)
    expect((await auditorView()).firstBroken).toMatchObject({ seq: 12, kind: 'edited' })
    await expect(log.anchor()).rejects.toBeInstanceOf(AuditLogCorruptError)

    restore([original])
    expect((await patientView(patientA())).ok).toBe(true)
    expect((await auditorView()).ok).toBe(true)
  })

  it('delete: the patient’s verification fails; the full log says which entry is missing', async () => {
    const original = rowAt(20)
    expect(original.patient).toBe(patientA().toLowerCase())
    raw.prepare('DELETE FROM audit_entries WHERE seq = 20').run()

    const patient = await patientView(patientA())
    expect(patient.ok).toBe(false)
    expect(patient.entries.filter((e) => e.seq! < 45).every((e) => e.status === 'failed')).toBe(true)
    // Patient B's entries are in the same tree: their proofs break too.
    expect((await patientView(patientB())).ok).toBe(false)
    const full = await auditorView()
    expect(full.ok).toBe(false)
    expect(full.firstBroken).toEqual({ seq: 20, kind: 'missing', message: 'entry 20 is missing' })
    expect(full.anchors.map((a) => a.status)).toEqual(['failed', 'failed'])

    restore([original])
    expect((await patientView(patientA())).ok).toBe(true)
    expect((await auditorView()).ok).toBe(true)
  })

  it('swap two entries: the patient’s verification fails; the full log names the first out-of-place one', async () => {
    const a = rowAt(8)
    const b = rowAt(17)
    const swap = raw.prepare(
      'UPDATE audit_entries SET patient = ?, actor = ?, record_id = ?, action = ?, entry = ?, hash = ? WHERE seq = ?',
    )
    raw.exec('BEGIN')
    swap.run(b.patient, b.actor, b.record_id, b.action, b.entry, b.hash, 8)
    swap.run(a.patient, a.actor, a.record_id, a.action, a.entry, a.hash, 17)
    raw.exec('COMMIT')

    const patient = await patientView(patientA())
    expect(patient.ok).toBe(false)
    expect(patient.entries.some((e) => e.status === 'failed')).toBe(true)
    const full = await auditorView()
    expect(full.ok).toBe(false)
    expect(full.firstBroken).toMatchObject({ seq: 8, kind: 'out-of-order' })
    expect(full.firstBroken!.message).toMatch(/^entry 8 is out of order: entry 17 \(/)

    restore([a, b])
    expect((await patientView(patientA())).ok).toBe(true)
    expect((await auditorView()).ok).toBe(true)
  })

  it('anchors the rest at stop; the chain refuses a size that does not grow', async () => {
    expect(log.pendingSize()).toBe(3)
    await log.stop()
    expect(log.pendingSize()).toBe(0)
    expect(
      await getLatestAuditSize(chain.publicClient, { contract: chain.contract, unit: unit.address }),
    ).toBe(48)
    const stale = await anchorAuditRoot(unit.wallet, {
      contract: chain.contract,
      size: 48,
      root: log.latestAnchor()!.root,
    }).catch((e: unknown) => e)
    expect(stale).toMatchObject({ errorName: 'AuditSizeNotIncreasing' })
    expect((await patientView(patientA())).ok).toBe(true)
    expect((await auditorView()).ok).toBe(true)
  })
})
