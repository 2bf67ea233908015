import { type Hex, hexToBytes, isHex } from 'viem'
import {
  type AuditEntry,
  auditEntrySchema,
  auditLeafHash,
  describeAuditEntry,
  hashOfParsed,
} from './audit-entry.js'
import { rootFromInclusionProof, verifyConsistencyProof } from './merkle.js'

/** Audit path of an entry (leaf `seq`) in the log's tree at an anchored `size`. */
export type AuditInclusionProof = { size: number; path: readonly Hex[] }

/** Proof that the log at `fromSize` is a prefix of the log at `toSize`. */
export type AuditConsistencyProof = { fromSize: number; toSize: number; path: readonly Hex[] }

/** An entry as a node serves it. `entry` is checked here, so it is typed loosely. */
export type ServedAuditEntry = {
  entry: AuditEntry | unknown
  /** The hash the node stored for the entry, if it sends it: tells an edited entry from a bad proof. */
  hash?: Hex | null | undefined
  /** `null` for an entry after the node's latest anchor. */
  proof: AuditInclusionProof | null
}

/** Roots read from chain (`auditRoot(unit, size)`): size → root, `null` when nothing is anchored at that size. */
export type AnchoredAuditRoots = ReadonlyMap<number, Hex | null>

export type VerifyAuditEntriesParameters = {
  entries: readonly ServedAuditEntry[]
  anchoredRoots: AnchoredAuditRoots
  /**
   * The unit's latest anchored size on chain (`latestAuditSize`): an entry below it must come with a proof.
   * Defaults to the largest size in `anchoredRoots` with a root.
   */
  latestAnchoredSize?: number | undefined
  /** Between consecutive sizes of `anchoredRoots`; each pair must have one. */
  consistencyProofs?: readonly AuditConsistencyProof[] | undefined
  /** The entries are a contiguous range of the log (an auditor's page), so a gap in `seq` is a deletion. */
  contiguous?: boolean | undefined
}

export type AuditEntryStatus = 'verified' | 'failed' | 'unanchored'

export type AuditEntryReport = {
  /** `null` only when the entry is too malformed to have one. */
  seq: number | null
  action: string | null
  time: string | null
  status: AuditEntryStatus
  /** Why it failed (or why it is unanchored). */
  reason?: string
}

export type AuditAnchorReport = {
  size: number
  root: Hex
  /** `null` for the first anchor (nothing before it to compare with). */
  consistentWithPrevious: boolean | null
  reason?: string
}

export type AuditVerificationReport = {
  /** Every entry verified or unanchored, every anchor consistent, no other problem. */
  ok: boolean
  entries: AuditEntryReport[]
  anchors: AuditAnchorReport[]
  /** One sentence per failure, naming the entry (seq, action, time) or the anchors. */
  problems: string[]
}

type Checked = {
  entry: AuditEntry
  hash: Hex
  report: AuditEntryReport
}

/**
 * Verifies entries a node served (a patient's view: the entries about them) against roots read from chain:
 * each entry's content must hash to a leaf whose inclusion proof reaches the on-chain root of its anchored
 * size; consecutive entries (seq s, s+1) must be linked by `prevHash`; an entry the latest anchor covers
 * must come with a proof; consecutive anchors must be consistent. Pure: the caller reads the chain.
 *
 * A node that leaves an entry out of its answer cannot be caught here (only the full log shows gaps:
 * {@link verifyFullLog}); a node whose stored log was edited, reordered or cut cannot produce proofs that
 * reach the anchored roots.
 */
export function verifyAuditEntries(params: VerifyAuditEntriesParameters): AuditVerificationReport {
  const problems: string[] = []
  const anchors = checkAnchors(params.anchoredRoots, params.consistencyProofs ?? [], problems)
  const latest = params.latestAnchoredSize ?? Math.max(0, ...anchors.map((a) => a.size))

  const reports: AuditEntryReport[] = []
  const checked: Checked[] = []
  const seen = new Map<number, Checked>()
  params.entries.forEach((served, index) => {
    const parsed = auditEntrySchema.safeParse(served.entry)
    if (!parsed.success) {
      const raw = served.entry as { seq?: unknown; action?: unknown; time?: unknown } | null
      const seq = typeof raw?.seq === 'number' ? raw.seq : null
      const issue = parsed.error.issues[0]
      const reason = `malformed entry (${issue ? `${issue.path.join('.') || 'entry'}: ${issue.message}` : 'invalid'})`
      reports.push({
        seq,
        action: typeof raw?.action === 'string' ? raw.action : null,
        time: typeof raw?.time === 'string' ? raw.time : null,
        status: 'failed',
        reason,
      })
      problems.push(`${seq === null ? `item ${index}` : `entry ${seq}`}: ${reason}`)
      return
    }
    const entry = parsed.data
    const hash = hashOfParsed(entry)
    const report: AuditEntryReport = {
      seq: entry.seq,
      action: entry.action,
      time: entry.time,
      status: 'verified',
    }
    reports.push(report)
    const fail = (reason: string) => {
      if (report.status === 'failed') return
      report.status = 'failed'
      report.reason = reason
      problems.push(`${describeAuditEntry(entry)}: ${reason}`)
    }
    const item: Checked = { entry, hash, report }
    if (seen.has(entry.seq)) {
      fail('the same sequence number appears more than once')
      return
    }
    seen.set(entry.seq, item)
    checked.push(item)
    const reason = checkInclusion(served, entry, hash, params.anchoredRoots, latest)
    if (reason === 'unanchored') {
      report.status = 'unanchored'
      report.reason = `after the latest anchor (size ${latest}): not verifiable yet`
    } else if (reason) {
      fail(reason)
    }
  })

  // prevHash links between consecutive sequence numbers that are both present.
  const bySeq = [...checked].sort((a, b) => a.entry.seq - b.entry.seq)
  for (let i = 1; i < bySeq.length; i++) {
    const previous = bySeq[i - 1]!
    const current = bySeq[i]!
    const gap = current.entry.seq - previous.entry.seq
    if (gap === 1) {
      if (current.entry.prevHash !== previous.hash) {
        const reason = `chain link broken: its prevHash does not match entry ${previous.entry.seq}`
        if (current.report.status !== 'failed') {
          current.report.status = 'failed'
          current.report.reason = reason
        }
        problems.push(`${describeAuditEntry(current.entry)}: ${reason}`)
      }
    } else if (params.contiguous) {
      const first = previous.entry.seq + 1
      const last = current.entry.seq - 1
      problems.push(first === last ? `entry ${first} is missing` : `entries ${first}..${last} are missing`)
    }
  }

  const ok =
    problems.length === 0 &&
    reports.every((r) => r.status !== 'failed') &&
    anchors.every((a) => a.consistentWithPrevious !== false)
  return { ok, entries: reports, anchors, problems }
}

/** Why an entry's inclusion fails, 'unanchored', or `null` when it verifies. */
function checkInclusion(
  served: ServedAuditEntry,
  entry: AuditEntry,
  hash: Hex,
  roots: AnchoredAuditRoots,
  latest: number,
): string | 'unanchored' | null {
  const proof = served.proof
  if (!proof) {
    return entry.seq < latest
      ? `served without an inclusion proof although the anchor at size ${latest} covers it`
      : 'unanchored'
  }
  const { size, path } = proof
  if (!Number.isSafeInteger(size) || size <= entry.seq) {
    return `its proof is for size ${size}, which does not include it`
  }
  const root = roots.get(size)
  if (root === undefined) return `no on-chain root for size ${size} was supplied`
  if (root === null) return `its proof is for size ${size}, but the node never anchored that size on chain`
  if (!path.every((p) => isHex(p) && p.length === 66)) return 'its inclusion proof is malformed'
  const pathBytes = path.map((p) => hexToBytes(p))
  const reaches = (h: Hex) => {
    const computed = rootFromInclusionProof({
      leafHash: auditLeafHash(h),
      index: entry.seq,
      size,
      proof: pathBytes,
    })
    return computed !== null && sameHex(computed, root)
  }
  if (reaches(hash)) return null
  if (served.hash && isHex(served.hash) && served.hash.length === 66 && served.hash.toLowerCase() !== hash) {
    if (reaches(served.hash.toLowerCase() as Hex)) {
      return `its content does not match its proof: it was changed after being anchored at size ${size}`
    }
  }
  return `its inclusion proof does not reach the root anchored on chain at size ${size}`
}

/** Anchors in size order, each checked for consistency with the one before it. */
function checkAnchors(
  roots: AnchoredAuditRoots,
  proofs: readonly AuditConsistencyProof[],
  problems: string[],
): AuditAnchorReport[] {
  const anchored = [...roots.entries()]
    .filter((e): e is [number, Hex] => e[1] !== null)
    .sort((a, b) => a[0] - b[0])
  const reports: AuditAnchorReport[] = []
  anchored.forEach(([size, root], i) => {
    if (i === 0) {
      reports.push({ size, root, consistentWithPrevious: null })
      return
    }
    const [fromSize, fromRoot] = anchored[i - 1]!
    const proof = proofs.find((p) => p.fromSize === fromSize && p.toSize === size)
    let reason: string | undefined
    if (!proof) reason = `no consistency proof from the anchor at size ${fromSize}`
    else if (!proof.path.every((p) => isHex(p) && p.length === 66)) reason = 'malformed consistency proof'
    else if (
      !verifyConsistencyProof({
        fromSize,
        toSize: size,
        fromRoot: hexToBytes(fromRoot),
        toRoot: hexToBytes(root),
        proof: proof.path.map((p) => hexToBytes(p)),
      })
    ) {
      reason = `not consistent with the anchor at size ${fromSize}: entries before ${fromSize} were changed after being anchored`
    }
    if (reason) {
      reports.push({ size, root, consistentWithPrevious: false, reason })
      problems.push(`anchor at size ${size}: ${reason}`)
    } else {
      reports.push({ size, root, consistentWithPrevious: true })
    }
  })
  return reports
}

function sameHex(bytes: Uint8Array, hex: Hex): boolean {
  const other = hexToBytes(hex)
  if (other.length !== bytes.length) return false
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== other[i]) return false
  return true
}
