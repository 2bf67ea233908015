import fc from 'fast-check'
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
import { verifyFullLog } from './verify-full-log.js'

function makeLog(n: number): AuditEntry[] {
  const entries: AuditEntry[] = []
  let prevHash: Hex = AUDIT_ZERO_HASH
  for (let seq = 0; seq < n; seq++) {
    const entry: AuditEntry = {
      seq,
      time: new Date(Date.UTC(2025, 0, 1) + seq * 1000).toISOString(),
      actor: null,
      actorRole: null,
      action: AUDIT_ACTIONS[(seq * 7) % AUDIT_ACTIONS.length]!,
      recordId: null,
      patient: '0x1111111111111111111111111111111111111111',
      source: '10.1.2.3',
      outcome: seq % 5 === 0 ? 'denied' : 'success',
      detail: seq % 5 === 0 ? 'no-grant' : null,
      prevHash,
    }
    entries.push(entry)
    prevHash = auditEntryHash(entry)
  }
  return entries
}

function rootsOf(entries: AuditEntry[], sizes: number[]): Map<number, Hex | null> {
  const tree = new MerkleTree(entries.map((e) => auditLeafHash(auditEntryHash(e))))
  return new Map(sizes.map((s) => [s, bytesToHex(tree.root(s))]))
}

type Stored = { entries: AuditEntry[]; hashes: Hex[] }
const store = (entries: AuditEntry[]): Stored => ({
  entries: [...entries],
  hashes: entries.map(auditEntryHash),
})

const log = makeLog(30)
const roots = rootsOf(log, [10, 25])

describe('verifyFullLog', () => {
  it('an intact log verifies at every anchor', () => {
    const { entries, hashes } = store(log)
    const report = verifyFullLog({ entries, hashes, anchoredRoots: roots })
    expect(report).toMatchObject({ ok: true, size: 30, firstBroken: null, breaks: [], problems: [] })
    expect(report.anchors.map((a) => [a.size, a.status])).toEqual([
      [10, 'verified'],
      [25, 'verified'],
    ])
  })

  it('edit: names the edited entry, with or without the stored hashes, rehashed or not', () => {
    const s = store(log)
    s.entries[7] = { ...s.entries[7]!, outcome: 'error' }
    const withHashes = verifyFullLog({ entries: s.entries, hashes: s.hashes, anchoredRoots: roots })
    expect(withHashes.ok).toBe(false)
    expect(withHashes.firstBroken).toMatchObject({ seq: 7, kind: 'edited' })
    expect(withHashes.firstBroken!.message).toContain(
      `entry 7 (${log[7]!.action} at ${log[7]!.time}) was changed`,
    )
    expect(withHashes.anchors.map((a) => a.status)).toEqual(['failed', 'failed'])
    expect(verifyFullLog({ entries: s.entries, anchoredRoots: roots }).firstBroken).toMatchObject({ seq: 7 })
    s.hashes[7] = auditEntryHash(s.entries[7]!)
    expect(
      verifyFullLog({ entries: s.entries, hashes: s.hashes, anchoredRoots: roots }).firstBroken,
    ).toMatchObject({
      seq: 7,
      kind: 'edited',
    })
  })

  it('edit of a prevHash: names that entry', () => {
    const s = store(log)
    s.entries[12] = { ...s.entries[12]!, prevHash: `0x${'ab'.repeat(32)}` }
    s.hashes[12] = auditEntryHash(s.entries[12]!)
    expect(
      verifyFullLog({ entries: s.entries, hashes: s.hashes, anchoredRoots: roots }).firstBroken,
    ).toMatchObject({
      seq: 12,
    })
  })

  it('delete: "entry N is missing", in the middle or at the end', () => {
    const middle = store(log.filter((e) => e.seq !== 4))
    const report = verifyFullLog({ ...middle, anchoredRoots: roots })
    expect(report.ok).toBe(false)
    expect(report.firstBroken).toEqual({ seq: 4, kind: 'missing', message: 'entry 4 is missing' })
    const two = store(log.filter((e) => e.seq !== 4 && e.seq !== 5))
    expect(verifyFullLog({ ...two, anchoredRoots: roots }).firstBroken!.message).toBe(
      'entries 4..5 are missing',
    )
    // Cutting the anchored tail shows only against the chain.
    const cut = store(log.slice(0, 24))
    const tail = verifyFullLog({ ...cut, anchoredRoots: roots })
    expect(tail.firstBroken).toEqual({ seq: 24, kind: 'missing', message: 'entry 24 is missing' })
    expect(tail.anchors[1]).toMatchObject({ size: 25, status: 'failed' })
    // Cutting the unanchored tail cannot be seen: nothing vouches for it yet.
    expect(verifyFullLog({ ...store(log.slice(0, 28)), anchoredRoots: roots }).ok).toBe(true)
  })

  it('reorder: names the first out-of-place entry', () => {
    const s = store(log)
    ;[s.entries[6], s.entries[15]] = [s.entries[15]!, s.entries[6]!]
    ;[s.hashes[6], s.hashes[15]] = [s.hashes[15]!, s.hashes[6]!]
    const report = verifyFullLog({ ...s, anchoredRoots: roots })
    expect(report.ok).toBe(false)
    expect(report.firstBroken).toMatchObject({ seq: 6, kind: 'out-of-order' })
    expect(report.firstBroken!.message).toMatch(/^entry 6 is out of order: entry 15 \(/)
  })

  it('a rehashed edit of the last entry shows against the chain, between the anchors around it', () => {
    const s = store(log.slice(0, 10))
    s.entries[9] = { ...s.entries[9]!, detail: 'changed' }
    s.hashes[9] = auditEntryHash(s.entries[9]!)
    const report = verifyFullLog({ ...s, anchoredRoots: rootsOf(log, [9, 10]) })
    expect(report.firstBroken).toMatchObject({ seq: 9, kind: 'rewritten' })
    expect(report.firstBroken!.message).toMatch(
      /^entry 9 \(.*\) was changed after being anchored at size 10$/,
    )
    // Nothing after it vouches for it: with one anchor only the range can be named.
    const wide = verifyFullLog({ ...s, anchoredRoots: rootsOf(log, [10]) })
    expect(wide.firstBroken).toMatchObject({ seq: 0, kind: 'rewritten' })
    expect(wide.firstBroken!.message).toBe('entries 0..9 were rewritten after being anchored at size 10')
  })

  it('a consistently rewritten suffix is narrowed to the anchors around it', () => {
    const rewritten = [...log.slice(0, 12)]
    let prevHash = auditEntryHash(rewritten[11]!)
    for (const e of log.slice(12)) {
      const changed = { ...e, detail: 'rewritten', prevHash }
      rewritten.push(changed)
      prevHash = auditEntryHash(changed)
    }
    const report = verifyFullLog({ ...store(rewritten), anchoredRoots: roots })
    expect(report.ok).toBe(false)
    expect(report.firstBroken).toMatchObject({ seq: 10, kind: 'rewritten' })
    expect(report.firstBroken!.message).toBe('entries 10..24 were rewritten after being anchored at size 25')
  })

  it('malformed and duplicated entries are named', () => {
    const s = store(log)
    ;(s.entries as unknown[])[3] = { ...log[3], time: 'not a time' }
    expect(verifyFullLog({ ...s, anchoredRoots: roots }).firstBroken).toMatchObject({
      seq: 3,
      kind: 'malformed',
    })
    const dup = store([...log.slice(0, 5), log[4]!, ...log.slice(5)])
    expect(verifyFullLog({ ...dup, anchoredRoots: roots }).firstBroken).toMatchObject({
      seq: 4,
      kind: 'duplicate',
    })
  })

  it('property: any single tampering is detected and the first broken entry is the tampered one', () => {
    const kinds = ['edit', 'edit-rehash', 'delete', 'swap'] as const
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 40 }),
        fc.constantFrom(...kinds),
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        (n, kind, a, b, withHashes) => {
          const entries = makeLog(n)
          const anchored = rootsOf(entries, [n])
          const s = store(entries)
          const i = a % n
          let expected = i
          if (kind === 'edit' || kind === 'edit-rehash') {
            s.entries[i] = {
              ...s.entries[i]!,
              outcome: s.entries[i]!.outcome === 'error' ? 'success' : 'error',
            }
            if (kind === 'edit-rehash') s.hashes[i] = auditEntryHash(s.entries[i]!)
          } else if (kind === 'delete') {
            s.entries.splice(i, 1)
            s.hashes.splice(i, 1)
          } else {
            const j = (i + 1 + (b % (n - 1))) % n
            ;[s.entries[i], s.entries[j]] = [s.entries[j]!, s.entries[i]!]
            ;[s.hashes[i], s.hashes[j]] = [s.hashes[j]!, s.hashes[i]!]
            expected = Math.min(i, j)
          }
          const report = verifyFullLog({
            entries: s.entries,
            hashes: withHashes ? s.hashes : undefined,
            anchoredRoots: anchored,
          })
          expect(report.ok).toBe(false)
          // The last entry has no successor whose link vouches for it: when its stored hash cannot tell
          // either, the chain only shows that something below the anchored size changed.
          const lastUnvouched = i === n - 1 && (kind === 'edit-rehash' || (kind === 'edit' && !withHashes))
          if (lastUnvouched) {
            expect(report.firstBroken).toMatchObject({ seq: 0, kind: 'rewritten' })
            return
          }
          expect(report.firstBroken?.seq, `${kind} at ${i}`).toBe(expected)
          if (kind === 'delete') expect(report.firstBroken!.message).toBe(`entry ${i} is missing`)
          if (kind === 'swap') expect(report.firstBroken!.kind).toBe('out-of-order')
        },
      ),
      { numRuns: 300 },
    )
  })
})
