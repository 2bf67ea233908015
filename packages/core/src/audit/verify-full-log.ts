import { type Hex, hexToBytes } from 'viem'
import {
  AUDIT_ZERO_HASH,
  type AuditEntry,
  auditEntrySchema,
  auditLeafHash,
  describeAuditEntry,
  hashOfParsed,
} from './audit-entry.js'
import { MerkleTree } from './merkle.js'
import type { AnchoredAuditRoots } from './verify-audit-entries.js'

export type AuditLogBreakKind =
  | 'malformed'
  | 'duplicate'
  | 'missing'
  | 'out-of-order'
  | 'edited'
  | 'link-broken'
  | 'rewritten'

/** One place where the stored log is not what was appended. */
export type AuditLogBreak = { seq: number; kind: AuditLogBreakKind; message: string }

export type FullLogAnchorReport = {
  size: number
  root: Hex
  status: 'verified' | 'failed'
  reason?: string
}

export type FullLogReport = {
  ok: boolean
  /** Entries examined. */
  size: number
  /** The break with the lowest sequence number: the first entry that is not as appended. */
  firstBroken: AuditLogBreak | null
  /** Every break found, lowest seq first (at most 100). */
  breaks: AuditLogBreak[]
  anchors: FullLogAnchorReport[]
  problems: string[]
}

export type VerifyFullLogParameters = {
  /** The whole log from seq 0, in the order the node stores it. */
  entries: readonly unknown[]
  /** The hash the node stored beside each entry (same order), when available: pinpoints edits exactly. */
  hashes?: readonly (Hex | null | undefined)[] | undefined
  /** Roots read from chain for the unit's anchored sizes. */
  anchoredRoots: AnchoredAuditRoots
}

const MAX_BREAKS = 100
// When two breaks share a seq, the more specific one is reported.
const PRIORITY: Record<AuditLogBreakKind, number> = {
  malformed: 0,
  missing: 1,
  duplicate: 2,
  'out-of-order': 3,
  edited: 4,
  'link-broken': 5,
  rewritten: 6,
}

type Item = { entry: AuditEntry; hash: Hex; stored: Hex | null }

/**
 * Checks a unit's whole audit log (the auditor's view): every entry's hash is recomputed, the `prevHash`
 * links and the sequence numbers must run without gap from 0 in storage order, and the Merkle root at every
 * anchored size must equal the root on chain. Names the first entry that is not as appended:
 * an edited entry by its seq, a deleted one as "entry N is missing", a reordered log by the first
 * out-of-place seq.
 *
 * Each entry's content is vouched for by the next entry's `prevHash` and by the node's stored hash. The last
 * entry has no successor: if it was changed and its stored hash rewritten to match (or no hashes are
 * given), only the anchored root shows it, and the report can name no more than the range between the
 * last matching anchor and the first failing one (kind `rewritten`).
 */
export function verifyFullLog(params: VerifyFullLogParameters): FullLogReport {
  const { entries } = params
  const breaks: AuditLogBreak[] = []
  const add = (seq: number, kind: AuditLogBreakKind, message: string) => breaks.push({ seq, kind, message })

  // 1. Parse and hash every entry.
  const items: Item[] = []
  entries.forEach((raw, position) => {
    const parsed = auditEntrySchema.safeParse(raw)
    if (!parsed.success) {
      const seq = (raw as { seq?: unknown } | null)?.seq
      const at = typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : position
      const issue = parsed.error.issues[0]
      add(
        at,
        'malformed',
        `entry ${at} is malformed (${issue?.path.join('.') || 'entry'}: ${issue?.message})`,
      )
      return
    }
    const storedRaw = params.hashes?.[position]
    items.push({
      entry: parsed.data,
      hash: hashOfParsed(parsed.data),
      stored: storedRaw ? (storedRaw.toLowerCase() as Hex) : null,
    })
  })

  // 2. Sequence numbers: duplicates, gaps, storage order.
  const bySeq = new Map<number, Item>()
  for (const item of items) {
    if (bySeq.has(item.entry.seq)) {
      add(item.entry.seq, 'duplicate', `${describeAuditEntry(item.entry)} is stored more than once`)
    } else {
      bySeq.set(item.entry.seq, item)
    }
  }
  const seqs = [...bySeq.keys()].sort((a, b) => a - b)
  let expected = 0
  for (const seq of seqs) {
    if (seq > expected) addMissing(add, expected, seq - 1)
    expected = seq + 1
  }
  // Storage order must be ascending seq: the first position holding another entry than the sorted log
  // would is the first out-of-place one.
  const sorted = items.map((i) => i.entry.seq).sort((a, b) => a - b)
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!
    const want = sorted[i]!
    if (item.entry.seq !== want) {
      add(
        want,
        'out-of-order',
        `entry ${want} is out of order: ${describeAuditEntry(item.entry)} is stored in its place`,
      )
      break
    }
  }

  // 3. Content: stored hash and prevHash links, in seq order.
  for (const item of bySeq.values()) {
    if (item.stored && item.stored !== item.hash) {
      add(
        item.entry.seq,
        'edited',
        `${describeAuditEntry(item.entry)} was changed: its content no longer matches its hash`,
      )
    }
  }
  for (const seq of seqs) {
    const item = bySeq.get(seq)!
    const previous = bySeq.get(seq - 1)
    if (seq === 0 || !previous) continue
    if (item.entry.prevHash === previous.hash) continue
    // Entry `seq`'s content (prevHash included) is vouched for by the next entry's link; if that holds,
    // the previous entry is the one that changed.
    const next = bySeq.get(seq + 1)
    const vouched = next ? next.entry.prevHash === item.hash : !item.stored || item.stored === item.hash
    if (vouched) {
      add(
        previous.entry.seq,
        'edited',
        `${describeAuditEntry(previous.entry)} was changed: the next entry's link no longer matches it`,
      )
    } else {
      add(
        seq,
        'link-broken',
        `${describeAuditEntry(item.entry)} was changed: its prevHash does not match entry ${seq - 1}`,
      )
    }
  }
  const first = bySeq.get(0)
  if (first && first.entry.prevHash !== AUDIT_ZERO_HASH) {
    add(0, 'link-broken', `${describeAuditEntry(first.entry)} does not start the chain`)
  }

  // 4. Anchors: the root over the leaves in seq order at every anchored size.
  const anchored = [...params.anchoredRoots.entries()]
    .filter((e): e is [number, Hex] => e[1] !== null)
    .sort((a, b) => a[0] - b[0])
  let contiguous = 0
  while (bySeq.has(contiguous)) contiguous++
  const tree = new MerkleTree(
    Array.from({ length: contiguous }, (_, seq) => auditLeafHash(bySeq.get(seq)!.hash)),
  )
  const anchors: FullLogAnchorReport[] = []
  let verifiedUpTo = 0
  for (const [size, root] of anchored) {
    if (size > contiguous) {
      const reason = `the chain anchors ${size} entries; the log holds only ${contiguous} without a gap`
      anchors.push({ size, root, status: 'failed', reason })
      continue
    }
    const computed = tree.root(size)
    if (sameHex(computed, root)) {
      anchors.push({ size, root, status: 'verified' })
      verifiedUpTo = size
      continue
    }
    const reason = `the entries do not hash to the root anchored on chain at size ${size}`
    anchors.push({ size, root, status: 'failed', reason })
    if (!breaks.some((b) => b.seq < size)) {
      const from = verifiedUpTo
      add(
        from,
        'rewritten',
        from === size - 1
          ? `${describeAuditEntry(bySeq.get(from)!.entry)} was changed after being anchored at size ${size}`
          : `entries ${from}..${size - 1} were rewritten after being anchored at size ${size}`,
      )
    }
  }

  // Entries cut off the end of the log show only against the chain.
  const tailStart = (seqs.at(-1) ?? -1) + 1
  const anchoredSize = anchored.at(-1)?.[0] ?? 0
  if (anchoredSize > tailStart) addMissing(add, tailStart, anchoredSize - 1)

  breaks.sort((a, b) => a.seq - b.seq || PRIORITY[a.kind] - PRIORITY[b.kind])
  const unique = breaks.filter(
    (b, i) => i === 0 || b.seq !== breaks[i - 1]!.seq || b.kind !== breaks[i - 1]!.kind,
  )
  const problems = [
    ...unique.slice(0, MAX_BREAKS).map((b) => b.message),
    ...anchors.filter((a) => a.status === 'failed').map((a) => `anchor at size ${a.size}: ${a.reason}`),
  ]
  return {
    ok: unique.length === 0 && anchors.every((a) => a.status === 'verified'),
    size: entries.length,
    firstBroken: unique[0] ?? null,
    breaks: unique.slice(0, MAX_BREAKS),
    anchors,
    problems,
  }
}

function addMissing(
  add: (seq: number, kind: AuditLogBreakKind, message: string) => void,
  from: number,
  to: number,
) {
  add(from, 'missing', from === to ? `entry ${from} is missing` : `entries ${from}..${to} are missing`)
}

function sameHex(bytes: Uint8Array, hex: Hex): boolean {
  const other = hexToBytes(hex)
  if (other.length !== bytes.length) return false
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== other[i]) return false
  return true
}
