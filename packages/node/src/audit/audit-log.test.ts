import type { DatabaseSync } from 'node:sqlite'
import {
  AUDIT_ZERO_HASH,
  auditEntryHash,
  canonicalAuditEntryJson,
  InvalidAuditEntryError,
  verifyAuditEntries,
  verifyFullLog,
} from '@pcmims/core'
import type { Address, Hex } from 'viem'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { clearChainIndex, openDatabase, transaction } from '../db/open-database.js'
import { createLogger } from '../logger.js'
import { type AuditAnchorSender, AuditLogCorruptError, createAuditLog } from './audit-log.js'

const PATIENT: Address = '0x1111111111111111111111111111111111111111'
const OTHER: Address = '0x2222222222222222222222222222222222222222'
const MEDIC: Address = '0x3333333333333333333333333333333333333333'
const logger = createLogger({ level: 'silent' })

let db: DatabaseSync
let sent: Array<{ size: number; root: Hex }>
const send: AuditAnchorSender = async (size, root) => {
  sent.push({ size, root })
  return `0x${sent.length.toString(16).padStart(64, '0')}`
}

beforeEach(() => {
  db = openDatabase(':memory:')
  sent = []
})
afterEach(() => db.close())

function read(patient: Address, seq: number) {
  return {
    action: 'record.read' as const,
    outcome: 'success' as const,
    source: '127.0.0.1',
    actor: MEDIC,
    actorRole: 'medic',
    patient,
    recordId: `0x${seq.toString(16).padStart(64, '0')}` as Hex,
  }
}

describe('append', () => {
  it('numbers entries from 0 and links each to the previous hash', () => {
    const log = createAuditLog({ db, logger, now: () => new Date('2025-03-01T10:00:00.000Z') })
    const a = log.append({
      action: 'session.sign-in',
      outcome: 'denied',
      source: '10.0.0.1',
      detail: 'bad-signature',
    })
    const b = log.append(read(PATIENT, 1))
    const c = log.append({ ...read(PATIENT, 2), time: new Date('2025-03-01T11:00:00.123Z') })
    expect(a).toMatchObject({
      seq: 0,
      prevHash: AUDIT_ZERO_HASH,
      time: '2025-03-01T10:00:00.000Z',
      actor: null,
    })
    expect(b).toMatchObject({ seq: 1, prevHash: auditEntryHash(a), patient: PATIENT })
    expect(c).toMatchObject({ seq: 2, prevHash: auditEntryHash(b), time: '2025-03-01T11:00:00.123Z' })
    const rows = db.prepare('SELECT * FROM audit_entries ORDER BY seq').all() as Array<
      Record<string, unknown>
    >
    expect(rows.map((r) => r.hash)).toEqual([a, b, c].map(auditEntryHash))
    expect(rows.map((r) => r.entry)).toEqual([a, b, c].map(canonicalAuditEntryJson))
    expect(rows[1]).toMatchObject({ patient: PATIENT, actor: MEDIC, action: 'record.read' })
    expect(log.size()).toBe(3)
    expect(log.pendingSize()).toBe(3)
  })

  it('joins the caller’s transaction, and rolls back with it', () => {
    const log = createAuditLog({ db, logger })
    transaction(db, () => {
      log.append(read(PATIENT, 1))
      log.append(read(PATIENT, 2))
    })
    expect(() =>
      transaction(db, () => {
        log.append(read(PATIENT, 3))
        throw new Error('request failed')
      }),
    ).toThrow('request failed')
    expect(log.size()).toBe(2)
    expect(log.append(read(PATIENT, 4)).seq).toBe(2)
  })

  it('refuses an invalid entry and stores nothing', () => {
    const log = createAuditLog({ db, logger })
    expect(() => log.append({ ...read(PATIENT, 1), detail: 'Jane Doe, born 1970' })).toThrow(
      InvalidAuditEntryError,
    )
    expect(() => log.append({ ...read(PATIENT, 1), source: 'the moon' })).toThrow(InvalidAuditEntryError)
    expect(log.size()).toBe(0)
  })
})

describe('anchoring and proofs', () => {
  it('anchors pending entries once; served proofs verify against the anchored roots', async () => {
    const log = createAuditLog({ db, logger, send })
    expect(await log.anchor()).toBeNull()
    for (let i = 0; i < 11; i++) log.append(read(i % 3 === 0 ? OTHER : PATIENT, i))
    const first = await log.anchor()
    expect(first).toMatchObject({ size: 11, root: sent[0]!.root, txHash: `0x${'1'.padStart(64, '0')}` })
    expect(await log.anchor()).toBeNull()
    expect(log.pendingSize()).toBe(0)
    for (let i = 11; i < 20; i++) log.append(read(PATIENT, i))
    const second = await log.anchor()
    expect(second?.size).toBe(20)
    for (let i = 20; i < 23; i++) log.append(read(PATIENT, i))
    expect(log.anchors().map((a) => a.size)).toEqual([11, 20])
    expect(log.latestAnchor()).toEqual(second)

    const served = log.entriesFor({ patient: PATIENT })
    expect(served.anchor).toEqual(second)
    expect(served.size).toBe(23)
    expect(served.problem).toBeUndefined()
    expect(served.entries.every((e) => e.entry.patient === PATIENT)).toBe(true)
    expect(served.entries.filter((e) => e.proof === null).map((e) => e.entry.seq)).toEqual([20, 21, 22])
    const roots = new Map(sent.map((s) => [s.size, s.root]))
    const report = verifyAuditEntries({
      entries: served.entries,
      anchoredRoots: roots,
      consistencyProofs: log.consistencyProofs([11, 20]),
    })
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)

    const all = log.entriesFor({ all: true })
    expect(all.entries.map((e) => e.entry.seq)).toEqual([...Array(23).keys()])
    const full = verifyFullLog({
      entries: all.entries.map((e) => e.entry),
      hashes: all.entries.map((e) => e.hash),
      anchoredRoots: roots,
    })
    expect(full.ok).toBe(true)
    expect(log.entriesFor({ actor: MEDIC }).entries).toHaveLength(23)
  })

  it('pages with fromSeq / limit', () => {
    const log = createAuditLog({ db, logger })
    for (let i = 0; i < 7; i++) log.append(read(PATIENT, i))
    const page1 = log.entriesFor({ all: true }, { limit: 3 })
    expect(page1.entries.map((e) => e.entry.seq)).toEqual([0, 1, 2])
    expect(page1.nextSeq).toBe(3)
    const page3 = log.entriesFor({ all: true }, { fromSeq: 6, limit: 3 })
    expect(page3.entries.map((e) => e.entry.seq)).toEqual([6])
    expect(page3.nextSeq).toBeNull()
    expect(
      log.entriesFor({ all: true }, { fromSeq: Number.NaN, limit: Number.POSITIVE_INFINITY }).entries,
    ).toHaveLength(7)
  })

  it('refuses to anchor over a log changed below its last anchor, and says so when serving', async () => {
    const log = createAuditLog({ db, logger, send })
    for (let i = 0; i < 5; i++) log.append(read(PATIENT, i))
    await log.anchor()
    log.append(read(PATIENT, 5))
    const row = db.prepare('SELECT entry FROM audit_entries WHERE seq = 2').get() as { entry: string }
    const edited = row.entry.replace('"success"', '"denied"')
    const hash = auditEntryHash(JSON.parse(edited))
    db.prepare('UPDATE audit_entries SET entry = ?, hash = ? WHERE seq = 2').run(edited, hash)
    await expect(log.anchor()).rejects.toBeInstanceOf(AuditLogCorruptError)
    expect(sent).toHaveLength(1)
    expect(log.entriesFor({ patient: PATIENT }).problem).toMatch(/no longer hash to the anchored root/)
  })

  it('a log cut below its anchor is served without proofs, which the client reports', async () => {
    const log = createAuditLog({ db, logger, send })
    for (let i = 0; i < 6; i++) log.append(read(PATIENT, i))
    await log.anchor()
    db.prepare('DELETE FROM audit_entries WHERE seq = 5').run()
    const served = log.entriesFor({ patient: PATIENT })
    expect(served.problem).toMatch(/holds 5 entries, fewer than the 6 anchored/)
    expect(served.entries.every((e) => e.proof === null)).toBe(true)
    const report = verifyAuditEntries({
      entries: served.entries,
      anchoredRoots: new Map(sent.map((s) => [s.size, s.root])),
    })
    expect(report.ok).toBe(false)
    expect(report.entries.every((e) => e.status === 'failed')).toBe(true)
    expect(log.consistencyProofs([3, 6])).toEqual([])
  })

  it('refuses to anchor new entries that do not chain', async () => {
    const log = createAuditLog({ db, logger, send })
    for (let i = 0; i < 4; i++) log.append(read(PATIENT, i))
    db.prepare(`UPDATE audit_entries SET entry = replace(entry, '"success"', '"error"') WHERE seq = 1`).run()
    await expect(log.anchor()).rejects.toThrow(AuditLogCorruptError)
    expect(sent).toHaveLength(0)
  })

  it('anchors on the interval and once more at stop', async () => {
    const log = createAuditLog({ db, logger, send, anchorIntervalS: 0.05 })
    log.start()
    log.append(read(PATIENT, 0))
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(sent.map((s) => s.size)).toEqual([1])
    log.append(read(PATIENT, 1))
    log.append(read(PATIENT, 2))
    await log.stop()
    expect(sent.map((s) => s.size)).toEqual([1, 3])
    await log.stop()
    expect(sent).toHaveLength(2)
  })

  it('concurrent anchor calls send growing sizes only', async () => {
    const log = createAuditLog({ db, logger, send })
    log.append(read(PATIENT, 0))
    const results = await Promise.all([log.anchor(), log.anchor(), log.anchor()])
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(sent.map((s) => s.size)).toEqual([1])
  })

  it('a failed send records no anchor and is retried later', async () => {
    let fail = true
    const flaky: AuditAnchorSender = async (size, root) => {
      if (fail) throw new Error('rpc down')
      return send(size, root)
    }
    const log = createAuditLog({ db, logger, send: flaky })
    log.append(read(PATIENT, 0))
    await expect(log.anchor()).rejects.toThrow('rpc down')
    expect(log.anchors()).toEqual([])
    fail = false
    expect((await log.anchor())?.size).toBe(1)
  })

  it('survives clearChainIndex (the log is the node’s own state)', async () => {
    const log = createAuditLog({ db, logger, send })
    log.append(read(PATIENT, 0))
    await log.anchor()
    clearChainIndex(db)
    expect(log.size()).toBe(1)
    expect(log.anchors()).toHaveLength(1)
  })
})
