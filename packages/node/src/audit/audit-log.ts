import type { DatabaseSync } from 'node:sqlite'
import {
  AUDIT_ZERO_HASH,
  type AuditAction,
  type AuditConsistencyProof,
  type AuditEntry,
  type AuditInclusionProof,
  type AuditOutcome,
  auditLeafHash,
  BaseError,
  canonicalizeAuditEntry,
  MerkleTree,
} from '@pcmims/core'
import { type Address, bytesToHex, type Hex } from 'viem'
import { transaction } from '../db/open-database.js'
import type { Logger } from '../logger.js'

/** What a caller records; the log adds `seq`, `prevHash` and (unless given) `time`. */
export type AuditEntryInput = {
  action: AuditAction
  outcome: AuditOutcome
  /** Client IP, or `chain` for what the node saw on chain. */
  source: string
  actor?: Address | null | undefined
  actorRole?: string | null | undefined
  recordId?: Hex | null | undefined
  patient?: Address | null | undefined
  /** A short code, never PHI. */
  detail?: string | null | undefined
  time?: Date | string | undefined
}

/** One anchor the node sent, as it recorded it. */
export type AuditAnchor = { size: number; root: Hex; txHash: Hex; anchoredAt: string }

/** Sends `anchorAuditRoot(size, root)` from the unit's account and resolves with the mined tx hash. */
export type AuditAnchorSender = (size: number, root: Hex) => Promise<Hex>

/** An entry as served: the stored entry, its stored hash and its inclusion proof (null after the anchor). */
export type ServedEntry = { entry: AuditEntry; hash: Hex; proof: AuditInclusionProof | null }

export type AuditEntriesFilter = { patient: Address } | { actor: Address } | { all: true }

export type AuditEntriesOptions = {
  /** First seq to return (pagination). */
  fromSeq?: number | undefined
  /** At most this many entries (default 1000, at most 10 000). */
  limit?: number | undefined
}

export type AuditEntriesResult = {
  entries: ServedEntry[]
  /** The node's latest anchor: the proofs are against its size. */
  anchor: AuditAnchor | null
  /** Entries in the log. */
  size: number
  /** Pass as `fromSeq` for the next page; null on the last page. */
  nextSeq: number | null
  /** Set when the node found its own stored log inconsistent with its anchor (proofs may then be missing). */
  problem?: string
}

export type AuditLog = {
  /** Appends one entry (one SQLite transaction, or the caller's) and returns it as stored. */
  append(input: AuditEntryInput): AuditEntry
  entriesFor(filter: AuditEntriesFilter, options?: AuditEntriesOptions): AuditEntriesResult
  /**
   * Consistency proofs between each pair of consecutive `sizes` (sorted, deduplicated); a pair beyond the
   * stored log gets none.
   */
  consistencyProofs(sizes: readonly number[]): AuditConsistencyProof[]
  /** Entries in the log. */
  size(): number
  /** Entries not covered by the latest anchor. */
  pendingSize(): number
  latestAnchor(): AuditAnchor | null
  /** Every anchor the node recorded, oldest first. */
  anchors(): AuditAnchor[]
  /**
   * Anchors the current root if entries are pending (else resolves `null`). Refuses (AuditLogCorruptError)
   * when the stored log no longer matches the previous anchor or its new entries do not chain.
   */
  anchor(send?: AuditAnchorSender): Promise<AuditAnchor | null>
  /** Anchors every `anchorIntervalS` seconds (if > 0 and a sender was given). */
  start(): void
  /** Stops the timer and anchors once more if entries are pending. */
  stop(): Promise<void>
}

export type CreateAuditLogParameters = {
  db: DatabaseSync
  logger: Logger
  /** Seconds between anchors; 0 anchors only on demand and at stop (config `audit.anchorIntervalS`). */
  anchorIntervalS?: number | undefined
  send?: AuditAnchorSender | undefined
  now?: (() => Date) | undefined
}

/** The stored log does not match what was anchored or does not chain. */
export class AuditLogCorruptError extends BaseError {
  override name = 'AuditLogCorruptError'
  constructor(details: string) {
    super('The stored audit log is inconsistent', { details, code: 'AUDIT_LOG_CORRUPT' })
  }
}

const DEFAULT_LIMIT = 1000
const MAX_LIMIT = 10_000

type EntryRow = { seq: number; entry: string; hash: string }
type AnchorRow = { size: number; root: string; tx_hash: string; anchored_at: string }

const fromAnchorRow = (row: AnchorRow): AuditAnchor => ({
  size: row.size,
  root: row.root as Hex,
  txHash: row.tx_hash as Hex,
  anchoredAt: row.anchored_at,
})

/**
 * The node's append-only audit log: a hash chain in SQLite (each entry carries the previous entry's hash)
 * whose RFC 9162 Merkle root is anchored on chain from the unit's account. Proofs come from the hashes
 * as stored at the time of the request: the tree (O(n) hashes) is rebuilt whenever they differ from the
 * last tree's, so a log edited in storage yields proofs that no longer reach the anchored root.
 */
export function createAuditLog(params: CreateAuditLogParameters): AuditLog {
  const { db, logger } = params
  const now = params.now ?? (() => new Date())
  let timer: NodeJS.Timeout | undefined
  let anchoring: Promise<AuditAnchor | null> | undefined

  const selectLast = db.prepare('SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1')
  const insert = db.prepare(
    `INSERT INTO audit_entries (seq, patient, actor, record_id, action, entry, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  )
  const selectHashes = db.prepare('SELECT hash FROM audit_entries ORDER BY seq LIMIT ?')
  const selectRange = db.prepare(
    'SELECT seq, entry, hash FROM audit_entries WHERE seq >= ? ORDER BY seq LIMIT ?',
  )
  const selectByPatient = db.prepare(
    'SELECT seq, entry, hash FROM audit_entries WHERE patient = ? AND seq >= ? ORDER BY seq LIMIT ?',
  )
  const selectByActor = db.prepare(
    'SELECT seq, entry, hash FROM audit_entries WHERE actor = ? AND seq >= ? ORDER BY seq LIMIT ?',
  )
  const selectLatestAnchor = db.prepare('SELECT * FROM audit_anchors ORDER BY size DESC LIMIT 1')
  const selectAnchors = db.prepare('SELECT * FROM audit_anchors ORDER BY size')
  const insertAnchor = db.prepare(
    'INSERT INTO audit_anchors (size, root, tx_hash, anchored_at) VALUES (?, ?, ?, ?)',
  )

  function append(input: AuditEntryInput): AuditEntry {
    const time =
      input.time === undefined
        ? now().toISOString()
        : input.time instanceof Date
          ? input.time.toISOString()
          : input.time
    const write = (): AuditEntry => {
      const last = selectLast.get() as { seq: number; hash: string } | undefined
      const { entry, json, hash } = canonicalizeAuditEntry({
        seq: last ? last.seq + 1 : 0,
        time,
        actor: input.actor ?? null,
        actorRole: input.actorRole ?? null,
        action: input.action,
        recordId: input.recordId ?? null,
        patient: input.patient ?? null,
        source: input.source,
        outcome: input.outcome,
        detail: input.detail ?? null,
        prevHash: last ? last.hash : AUDIT_ZERO_HASH,
      })
      insert.run(entry.seq, entry.patient, entry.actor, entry.recordId, entry.action, json, hash)
      return entry
    }
    // Reading the last hash and inserting in one transaction: two requests can never fork the chain.
    return db.isTransaction ? write() : transaction(db, write)
  }

  function size(): number {
    const last = selectLast.get() as { seq: number } | undefined
    return last ? last.seq + 1 : 0
  }

  function latestAnchor(): AuditAnchor | null {
    const row = selectLatestAnchor.get() as AnchorRow | undefined
    return row ? fromAnchorRow(row) : null
  }

  // The last tree built and the stored hashes it was built from. Reused only when the stored hashes read
  // now are the same strings, so a change in storage is still seen on the next request.
  let cached: { hashes: string[]; tree: MerkleTree } | undefined

  /** A tree whose first `available` (≤ n) leaves are the first stored hashes; it may hold more leaves. */
  function treeOf(n: number): { tree: MerkleTree; available: number } {
    const hashes = (selectHashes.all(n) as Array<{ hash: string }>).map((r) => r.hash)
    const reuse = cached
    if (reuse && reuse.hashes.length >= hashes.length && hashes.every((h, i) => h === reuse.hashes[i])) {
      return { tree: reuse.tree, available: hashes.length }
    }
    const tree = new MerkleTree(hashes.map((h) => auditLeafHash(h as Hex)))
    cached = { hashes, tree }
    return { tree, available: hashes.length }
  }

  const tooShort = (available: number, n: number) =>
    `the log holds ${available} entries, fewer than the ${n} anchored`

  function entriesFor(filter: AuditEntriesFilter, options: AuditEntriesOptions = {}): AuditEntriesResult {
    const whole = (value: number | undefined, fallback: number) =>
      value !== undefined && Number.isFinite(value) ? Math.floor(value) : fallback
    const fromSeq = Math.max(0, whole(options.fromSeq, 0))
    const limit = Math.min(MAX_LIMIT, Math.max(1, whole(options.limit, DEFAULT_LIMIT)))
    const rows = (
      'all' in filter
        ? selectRange.all(fromSeq, limit)
        : 'patient' in filter
          ? selectByPatient.all(filter.patient.toLowerCase(), fromSeq, limit)
          : selectByActor.all(filter.actor.toLowerCase(), fromSeq, limit)
    ) as EntryRow[]
    const anchor = latestAnchor()
    let tree: MerkleTree | undefined
    let problem: string | undefined
    if (anchor && rows.some((r) => r.seq < anchor.size)) {
      const built = treeOf(anchor.size)
      if (built.available < anchor.size) problem = tooShort(built.available, anchor.size)
      else {
        tree = built.tree
        if (bytesToHex(tree.root(anchor.size)) !== anchor.root) {
          problem = `the stored entries below ${anchor.size} no longer hash to the anchored root`
        }
      }
      if (problem) logger.error({ anchoredSize: anchor.size, problem }, 'audit log does not match its anchor')
    }
    const entries = rows.map((row): ServedEntry => {
      let entry: AuditEntry
      try {
        entry = JSON.parse(row.entry) as AuditEntry
      } catch {
        // Served as is: the client's verification names it.
        entry = null as unknown as AuditEntry
      }
      const proof =
        anchor && tree && row.seq < anchor.size
          ? { size: anchor.size, path: tree.inclusionProof(row.seq, anchor.size).map((p) => bytesToHex(p)) }
          : null
      return { entry, hash: row.hash as Hex, proof }
    })
    const last = rows.at(-1)
    return {
      entries,
      anchor,
      size: size(),
      nextSeq: rows.length === limit && last ? last.seq + 1 : null,
      ...(problem ? { problem } : {}),
    }
  }

  function consistencyProofs(sizes: readonly number[]): AuditConsistencyProof[] {
    if (!sizes.every((s) => Number.isSafeInteger(s) && s >= 0)) {
      throw new BaseError('Invalid audit log sizes', {
        code: 'INVALID_AUDIT_SIZES',
        details: 'sizes must be non-negative integers',
      })
    }
    const sorted = [...new Set(sizes)].sort((a, b) => a - b)
    const max = sorted.at(-1)
    if (max === undefined || sorted.length < 2) return []
    // A pair the stored log is too short for gets no proof: the client then reports it unproven.
    const { tree, available } = treeOf(max)
    if (available < max) {
      logger.error({ sizes: sorted, entries: available }, 'audit log too short for the requested sizes')
    }
    return sorted.slice(1).flatMap((toSize, i) => {
      const fromSize = sorted[i]!
      if (toSize > available) return []
      return [{ fromSize, toSize, path: tree.consistencyProof(fromSize, toSize).map((p) => bytesToHex(p)) }]
    })
  }

  /** Recomputes the entries after `from` from their stored JSON and checks their hashes and links. */
  function checkNewEntries(from: number, to: number): void {
    const rows = selectRange.all(from, to - from) as EntryRow[]
    let previous: Hex | undefined
    if (from > 0) {
      const before = selectRange.all(from - 1, 1) as EntryRow[]
      previous = before[0]?.seq === from - 1 ? (before[0].hash as Hex) : undefined
      if (!previous) throw new AuditLogCorruptError(`entry ${from - 1} is missing`)
    }
    rows.forEach((row, i) => {
      const seq = from + i
      if (row.seq !== seq) throw new AuditLogCorruptError(`entry ${seq} is missing`)
      let checked: ReturnType<typeof canonicalizeAuditEntry>
      try {
        checked = canonicalizeAuditEntry(JSON.parse(row.entry))
      } catch {
        throw new AuditLogCorruptError(`entry ${seq} is malformed`)
      }
      const { entry } = checked
      if (entry.seq !== seq || checked.hash !== row.hash) {
        throw new AuditLogCorruptError(`entry ${seq} does not match its stored hash`)
      }
      if (seq > 0 && entry.prevHash !== previous) {
        throw new AuditLogCorruptError(`entry ${seq} does not link to entry ${seq - 1}`)
      }
      previous = row.hash as Hex
    })
  }

  async function anchorNow(send: AuditAnchorSender): Promise<AuditAnchor | null> {
    const previous = latestAnchor()
    const n = size()
    if (n === 0 || (previous && n <= previous.size)) return null
    const { tree, available } = treeOf(n)
    if (available < n) throw new AuditLogCorruptError(tooShort(available, n))
    // Never anchor over a log that was changed below the last anchor: that would launder the change.
    if (previous && bytesToHex(tree.root(previous.size)) !== previous.root) {
      throw new AuditLogCorruptError(`entries below ${previous.size} no longer hash to the anchored root`)
    }
    checkNewEntries(previous?.size ?? 0, n)
    const root = bytesToHex(tree.root(n))
    const txHash = await send(n, root)
    const anchor: AuditAnchor = { size: n, root, txHash, anchoredAt: now().toISOString() }
    insertAnchor.run(anchor.size, anchor.root, anchor.txHash, anchor.anchoredAt)
    logger.info({ size: n, root, tx: txHash }, 'audit log anchored')
    return anchor
  }

  function anchor(send: AuditAnchorSender | undefined = params.send): Promise<AuditAnchor | null> {
    if (!send) return Promise.reject(new BaseError('No audit anchor sender', { code: 'NO_AUDIT_SENDER' }))
    // One anchor at a time: sizes must grow on chain.
    const run = (anchoring ?? Promise.resolve(null)).catch(() => null).then(() => anchorNow(send))
    anchoring = run
    return run.finally(() => {
      if (anchoring === run) anchoring = undefined
    })
  }

  async function anchorLogged(): Promise<void> {
    try {
      await anchor()
    } catch (error) {
      logger.error(
        {
          error: (error as BaseError).shortMessage ?? (error as Error).message,
          details: (error as BaseError).details,
        },
        'audit anchoring failed',
      )
    }
  }

  return {
    append,
    entriesFor,
    consistencyProofs,
    size,
    pendingSize: () => size() - (latestAnchor()?.size ?? 0),
    latestAnchor,
    anchors: () => (selectAnchors.all() as AnchorRow[]).map(fromAnchorRow),
    anchor,
    start() {
      const interval = params.anchorIntervalS ?? 0
      if (timer || interval <= 0 || !params.send) return
      timer = setInterval(() => void anchorLogged(), interval * 1000)
      timer.unref()
    },
    async stop() {
      if (timer) clearInterval(timer)
      timer = undefined
      await anchoring?.catch(() => undefined)
      if (params.send && size() > (latestAnchor()?.size ?? 0)) await anchorLogged()
    },
  }
}
