import { bytesToHex, type Hex } from 'viem'
import { describe, expect, it } from 'vitest'
import {
  AUDIT_ACTIONS,
  AUDIT_ZERO_HASH,
  type AuditEntry,
  auditEntryHash,
  auditLeafHash,
} from './audit-entry.js'
import { MerkleTree } from './merkle.js'
import { type ServedAuditEntry, verifyAuditEntries } from './verify-audit-entries.js'

const PATIENT = '0x1111111111111111111111111111111111111111'
const OTHER = '0x2222222222222222222222222222222222222222'

/** A linked log of `n` entries; every third entry is about OTHER. */
function makeLog(n: number): AuditEntry[] {
  const entries: AuditEntry[] = []
  let prevHash: Hex = AUDIT_ZERO_HASH
  for (let seq = 0; seq < n; seq++) {
    const entry: AuditEntry = {
      seq,
      time: new Date(Date.UTC(2025, 0, 1) + seq * 1000).toISOString(),
      actor: '0x3333333333333333333333333333333333333333',
      actorRole: 'medic',
      action: AUDIT_ACTIONS[seq % AUDIT_ACTIONS.length]!,
      recordId: bytesToHex(new Uint8Array(32).fill(seq % 256)),
      patient: seq % 3 === 2 ? OTHER : PATIENT,
      source: '127.0.0.1',
      outcome: 'success',
      detail: null,
      prevHash,
    }
    entries.push(entry)
    prevHash = auditEntryHash(entry)
  }
  return entries
}

const treeOf = (entries: AuditEntry[]) => new MerkleTree(entries.map((e) => auditLeafHash(auditEntryHash(e))))
const hex = (bytes: Uint8Array) => bytesToHex(bytes)

/** What an honest node serves for `patient`: proofs against its latest anchor, computed from `stored`. */
function serve(stored: AuditEntry[], anchoredSize: number, patient = PATIENT): ServedAuditEntry[] {
  const tree = treeOf(stored.slice(0, anchoredSize))
  return stored
    .map((entry, position) => ({ entry, position }))
    .filter(({ entry }) => entry.patient === patient)
    .map(({ entry, position }) => ({
      entry,
      hash: auditEntryHash(entry),
      proof:
        position < anchoredSize
          ? { size: anchoredSize, path: tree.inclusionProof(position, anchoredSize).map(hex) }
          : null,
    }))
}

function anchorsOf(entries: AuditEntry[], sizes: number[]) {
  const tree = treeOf(entries)
  const roots = new Map<number, Hex | null>(sizes.map((s) => [s, hex(tree.root(s))]))
  const consistencyProofs = sizes.slice(1).map((toSize, i) => ({
    fromSize: sizes[i]!,
    toSize,
    path: tree.consistencyProof(sizes[i]!, toSize).map(hex),
  }))
  return { roots, consistencyProofs }
}

describe('verifyAuditEntries', () => {
  const log = makeLog(20)
  const { roots, consistencyProofs } = anchorsOf(log, [8, 15])

  it('an honest node: anchored entries verify, later ones are unanchored, anchors consistent', () => {
    const report = verifyAuditEntries({ entries: serve(log, 15), anchoredRoots: roots, consistencyProofs })
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
    const mine = log.filter((e) => e.patient === PATIENT)
    expect(report.entries.map((e) => e.seq)).toEqual(mine.map((e) => e.seq))
    for (const e of report.entries) expect(e.status).toBe(e.seq! < 15 ? 'verified' : 'unanchored')
    expect(report.anchors).toEqual([
      { size: 8, root: roots.get(8), consistentWithPrevious: null },
      { size: 15, root: roots.get(15), consistentWithPrevious: true },
    ])
    // The proofs may also be against an older anchor.
    const old = verifyAuditEntries({
      entries: serve(log, 8).filter((s) => s.proof),
      anchoredRoots: roots,
      consistencyProofs,
    })
    expect(old.ok).toBe(true)
  })

  it('an entry edited after anchoring fails, named by seq, action and time', () => {
    const served = serve(log, 15)
    const target = served[3]!
    const entry = target.entry as AuditEntry
    target.entry = { ...entry, outcome: 'denied' }
    const report = verifyAuditEntries({ entries: served, anchoredRoots: roots, consistencyProofs })
    expect(report.ok).toBe(false)
    const failed = report.entries.filter((e) => e.status === 'failed')
    expect(failed.map((e) => e.seq)).toEqual([entry.seq])
    expect(failed[0]!.reason).toMatch(/content does not match its proof/)
    expect(report.problems[0]).toContain(`entry ${entry.seq} (${entry.action} at ${entry.time})`)
    // Without the stored hash the verifier can only say the proof fails.
    delete target.hash
    const blind = verifyAuditEntries({ entries: served, anchoredRoots: roots, consistencyProofs })
    expect(blind.entries.find((e) => e.seq === entry.seq)!.reason).toMatch(/does not reach the root/)
  })

  it('proofs rebuilt from a log with a deleted, edited-and-rehashed or swapped entry fail', () => {
    const deleted = log.filter((e) => e.seq !== 4)
    const rehashed = log.map((e) => (e.seq === 4 ? { ...e, outcome: 'error' as const } : e))
    const swapped = [...log]
    ;[swapped[4], swapped[9]] = [swapped[9]!, swapped[4]!]
    for (const stored of [deleted, rehashed, swapped]) {
      const report = verifyAuditEntries({
        entries: serve(stored, 15),
        anchoredRoots: roots,
        consistencyProofs,
      })
      expect(report.ok).toBe(false)
      const anchored = report.entries.filter((e) => e.seq! < 15)
      expect(anchored.length).toBeGreaterThan(0)
      for (const e of anchored) expect(e.status).toBe('failed')
    }
  })

  it('an anchored entry without a proof, or with a proof for a size never anchored, fails', () => {
    const served = serve(log, 15)
    served[0]!.proof = null
    served[1]!.proof = { size: 12, path: served[1]!.proof!.path }
    const withNull = new Map(roots)
    withNull.set(12, null)
    const report = verifyAuditEntries({ entries: served, anchoredRoots: withNull, consistencyProofs })
    expect(report.ok).toBe(false)
    expect(report.entries[0]).toMatchObject({ status: 'failed' })
    expect(report.entries[0]!.reason).toMatch(/without an inclusion proof/)
    expect(report.entries[1]!.reason).toMatch(/never anchored that size/)
    // A node claiming everything is unanchored is caught by the chain's latest size.
    const allUnanchored = serve(log, 15).map((s) => ({ ...s, proof: null }))
    const lazy = verifyAuditEntries({
      entries: allUnanchored,
      anchoredRoots: new Map(),
      latestAnchoredSize: 15,
    })
    expect(lazy.ok).toBe(false)
    expect(lazy.entries.filter((e) => e.status === 'failed').length).toBe(
      log.filter((e) => e.patient === PATIENT && e.seq < 15).length,
    )
  })

  it('a broken prevHash link between consecutive entries fails the later one', () => {
    const served = serve(log, 15)
    const i = served.findIndex((s) => (s.entry as AuditEntry).seq === 16)
    expect((served[i - 1]!.entry as AuditEntry).seq).toBe(15)
    served[i]!.entry = { ...(served[i]!.entry as AuditEntry), prevHash: `0x${'77'.repeat(32)}` }
    const report = verifyAuditEntries({ entries: served, anchoredRoots: roots, consistencyProofs })
    expect(report.ok).toBe(false)
    expect(report.entries[i]).toMatchObject({ seq: 16, status: 'failed' })
    expect(report.entries[i]!.reason).toMatch(/chain link broken.*entry 15/)
  })

  it('anchors that are not consistent, or lack a consistency proof, fail', () => {
    const forked = makeLog(8).map((e) => ({ ...e, detail: 'forked' }))
    const forkedRoot = hex(treeOf(forked).root(8))
    const rewritten = new Map(roots)
    rewritten.set(8, forkedRoot)
    const bad = verifyAuditEntries({ entries: serve(log, 15), anchoredRoots: rewritten, consistencyProofs })
    expect(bad.ok).toBe(false)
    expect(bad.anchors[1]).toMatchObject({ size: 15, consistentWithPrevious: false })
    expect(bad.problems.join('\n')).toMatch(/anchor at size 15: not consistent with the anchor at size 8/)
    const none = verifyAuditEntries({ entries: serve(log, 15), anchoredRoots: roots })
    expect(none.ok).toBe(false)
    expect(none.anchors[1]!.reason).toMatch(/no consistency proof/)
  })

  it('a gap in a contiguous page is a missing entry; duplicates and malformed entries fail', () => {
    const all = serve(log, 15, PATIENT)
      .concat(serve(log, 15, OTHER))
      .sort((a, b) => (a.entry as AuditEntry).seq - (b.entry as AuditEntry).seq)
    expect(
      verifyAuditEntries({ entries: all, anchoredRoots: roots, consistencyProofs, contiguous: true }).ok,
    ).toBe(true)
    const gap = all.filter((s) => (s.entry as AuditEntry).seq !== 6)
    const report = verifyAuditEntries({
      entries: gap,
      anchoredRoots: roots,
      consistencyProofs,
      contiguous: true,
    })
    expect(report.ok).toBe(false)
    expect(report.problems).toContain('entry 6 is missing')
    const dup = verifyAuditEntries({ entries: [...all, all[2]!], anchoredRoots: roots, consistencyProofs })
    expect(dup.entries.at(-1)).toMatchObject({ seq: 2, status: 'failed' })
    const malformed = verifyAuditEntries({
      entries: [{ entry: { seq: 3, action: 'record.read', time: 'yesterday' }, proof: null }],
      anchoredRoots: roots,
      consistencyProofs,
    })
    expect(malformed.entries[0]).toMatchObject({ seq: 3, status: 'failed' })
    expect(malformed.entries[0]!.reason).toMatch(/malformed/)
  })
})
