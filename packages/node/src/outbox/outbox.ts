import type { DatabaseSync } from 'node:sqlite'
import type { Address, Hex } from 'viem'
import { transaction } from '../db/open-database.js'
import type { Logger } from '../logger.js'

export type OutboxState = 'queued' | 'submitted' | 'confirmed' | 'failed'

export type OutboxEntry = {
  recordId: Hex
  envelopeCid: string
  patient: Address
  uploader: Address
  kind: string
  /** Set for a key rotation: the record the new one replaces. */
  previous: Hex | null
  /** Set for a de-identified copy: the record it was made from, and its one audience. */
  source: Hex | null
  audience: Address | null
  state: OutboxState
  txHash: Hex | null
  gasUsed: bigint | null
  blockNumber: bigint | null
  attempts: number
  lastError: string | null
  createdAt: number
}

/** What the chain says about a record id the outbox is responsible for. */
export type AnchorCheck = { anchored: false } | { anchored: true; matches: boolean }

export type SubmitResult = { hash: Hex; gasUsed: bigint; blockNumber: bigint }

export type OutboxChain = {
  check(entry: OutboxEntry): Promise<AnchorCheck>
  /** Anchors (or rotates, or anchors a de-identified copy of) the entries in one transaction. */
  submit(entries: OutboxEntry[]): Promise<SubmitResult>
  /** True when an error means "this entry can never be anchored as is" rather than "try again". */
  isPermanent(error: unknown): boolean
}

export type Outbox = {
  /** Adds an entry in the caller's SQLite transaction; the caller acknowledges after commit. */
  enqueueInTransaction(
    entry: Pick<OutboxEntry, 'recordId' | 'envelopeCid' | 'patient' | 'uploader' | 'kind' | 'previous'> &
      Partial<Pick<OutboxEntry, 'source' | 'audience'>>,
  ): void
  get(recordId: Hex): OutboxEntry | undefined
  counts(): Record<OutboxState, number>
  /** Resolves when the entry is confirmed or failed. */
  waitFor(recordId: Hex, timeoutMs: number): Promise<OutboxEntry>
  /** Puts confirmed entries the chain no longer has back in the queue (after a rollback). */
  recheckConfirmed(): Promise<number>
  processOnce(): Promise<void>
  kick(): void
  start(): void
  stop(): Promise<void>
}

export type CreateOutboxParameters = {
  db: DatabaseSync
  chain: OutboxChain
  batchSize: number
  pollMs: number
  logger: Logger
  /** Runs after each confirmed transaction (the embedded node dumps the chain state; rotations unpin). */
  afterConfirm?: (entries: OutboxEntry[]) => Promise<void>
}

type Row = {
  record_id: string
  envelope_cid: string
  patient: string
  uploader: string
  kind: string
  previous: string | null
  source: string | null
  audience: string | null
  state: string
  tx_hash: string | null
  gas_used: string | null
  block_number: number | null
  attempts: number
  last_error: string | null
  created_at: number
}

function fromRow(row: Row): OutboxEntry {
  return {
    recordId: row.record_id as Hex,
    envelopeCid: row.envelope_cid,
    patient: row.patient as Address,
    uploader: row.uploader as Address,
    kind: row.kind,
    previous: row.previous as Hex | null,
    source: row.source as Hex | null,
    audience: row.audience as Address | null,
    state: row.state as OutboxState,
    txHash: row.tx_hash as Hex | null,
    gasUsed: row.gas_used === null ? null : BigInt(row.gas_used),
    blockNumber: row.block_number === null ? null : BigInt(row.block_number),
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: row.created_at,
  }
}

/**
 * The durable queue between "stored" and "anchored". An upload is acknowledged once its row is
 * committed here (SQLite, synchronous=FULL); this worker then anchors it, retrying after crashes and
 * chain outages. Record ids are content-derived and the contract refuses duplicates, so a retry can
 * never anchor twice: before sending, each entry is checked on chain and marked confirmed if there.
 */
export function createOutbox(params: CreateOutboxParameters): Outbox {
  const { db, chain, logger } = params
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let stopped = true
  const waiters = new Map<string, Set<(entry: OutboxEntry) => void>>()

  const select = db.prepare('SELECT * FROM outbox WHERE record_id = ?')
  const update = db.prepare(
    `UPDATE outbox SET state = ?, tx_hash = ?, gas_used = ?, block_number = ?, attempts = ?, last_error = ?,
     updated_at = ? WHERE record_id = ?`,
  )

  function get(recordId: Hex): OutboxEntry | undefined {
    const row = select.get(recordId) as Row | undefined
    return row ? fromRow(row) : undefined
  }

  function save(entry: OutboxEntry): void {
    update.run(
      entry.state,
      entry.txHash,
      entry.gasUsed === null ? null : String(entry.gasUsed),
      entry.blockNumber === null ? null : Number(entry.blockNumber),
      entry.attempts,
      entry.lastError,
      Date.now(),
      entry.recordId,
    )
    if (entry.state === 'confirmed' || entry.state === 'failed') {
      for (const resolve of waiters.get(entry.recordId) ?? []) resolve(entry)
      waiters.delete(entry.recordId)
    }
  }

  async function processBatch(): Promise<void> {
    const rows = db
      .prepare(`SELECT * FROM outbox WHERE state IN ('queued', 'submitted') ORDER BY created_at LIMIT ?`)
      .all(params.batchSize) as Row[]
    if (rows.length === 0) return
    const pending: OutboxEntry[] = []
    for (const entry of rows.map(fromRow)) {
      const check = await chain.check(entry)
      if (check.anchored) {
        if (check.matches) save({ ...entry, state: 'confirmed', lastError: null })
        else save({ ...entry, state: 'failed', lastError: 'another record with this id is on chain' })
      } else {
        pending.push(entry)
      }
    }
    if (pending.length === 0) return
    // A rotation or a de-identified copy is its own transaction; plain anchors share one.
    const first = pending[0] as OutboxEntry
    const single = (e: OutboxEntry) => e.previous !== null || e.source !== null
    const batch = single(first) ? [first] : pending.filter((e) => !single(e))
    await submitBatch(batch)
  }

  async function submitBatch(pending: OutboxEntry[]): Promise<void> {
    for (const entry of pending) save({ ...entry, state: 'submitted', attempts: entry.attempts + 1 })
    try {
      const result = await chain.submit(pending)
      // Persist before anything else: a crash here leaves 'submitted' rows that the next run
      // finds anchored on chain.
      transaction(db, () => {
        for (const entry of pending) {
          save({
            ...entry,
            state: 'confirmed',
            attempts: entry.attempts + 1,
            txHash: result.hash,
            gasUsed: result.gasUsed,
            blockNumber: result.blockNumber,
            lastError: null,
          })
        }
      })
      logger.info({ records: pending.length, tx: result.hash, gasUsed: String(result.gasUsed) }, 'anchored')
    } catch (error) {
      if (pending.length > 1 && chain.isPermanent(error)) {
        // One bad entry must not hold back the rest: retry them one by one to find it.
        for (const entry of pending) await submitOne({ ...entry, attempts: entry.attempts + 1 })
        return
      }
      markFailure(
        pending.map((e) => ({ ...e, attempts: e.attempts + 1 })),
        error,
      )
      return
    }
    await runAfterConfirm(pending)
  }

  /** Housekeeping after an anchor; its failure never puts an anchored entry back in the queue. */
  async function runAfterConfirm(entries: OutboxEntry[]): Promise<void> {
    try {
      await params.afterConfirm?.(entries)
    } catch (error) {
      logger.warn({ error: (error as Error).message }, 'after-anchor housekeeping failed')
    }
  }

  async function submitOne(entry: OutboxEntry): Promise<void> {
    try {
      const result = await chain.submit([entry])
      save({
        ...entry,
        state: 'confirmed',
        txHash: result.hash,
        gasUsed: result.gasUsed,
        blockNumber: result.blockNumber,
        lastError: null,
      })
    } catch (error) {
      markFailure([entry], error)
      return
    }
    await runAfterConfirm([entry])
  }

  function markFailure(entries: OutboxEntry[], error: unknown): void {
    const permanent = chain.isPermanent(error)
    const message =
      (error as { shortMessage?: string; message?: string })?.shortMessage ??
      String((error as Error)?.message ?? error)
    for (const entry of entries) {
      save({ ...entry, state: permanent ? 'failed' : 'queued', lastError: message.slice(0, 500) })
    }
    logger.warn({ records: entries.length, permanent, error: message.slice(0, 200) }, 'anchoring failed')
  }

  function processOnce(): Promise<void> {
    running ??= processBatch().finally(() => {
      running = undefined
    })
    return running
  }

  function schedule(delay: number) {
    if (stopped) return
    if (timer) clearTimeout(timer)
    timer = setTimeout(async () => {
      timer = undefined
      try {
        await processOnce()
      } catch (error) {
        logger.warn({ error: (error as Error).message }, 'outbox run failed; retrying')
      }
      const more = (
        db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE state = 'queued'`).get() as { n: number }
      ).n
      schedule(more > 0 ? 10 : params.pollMs)
    }, delay)
  }

  return {
    enqueueInTransaction(entry) {
      const now = Date.now()
      db.prepare(
        `INSERT INTO outbox (record_id, envelope_cid, patient, uploader, kind, previous, source, audience, state,
           created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)`,
      ).run(
        entry.recordId,
        entry.envelopeCid,
        entry.patient,
        entry.uploader,
        entry.kind,
        entry.previous,
        entry.source ?? null,
        entry.audience ?? null,
        now,
        now,
      )
    },
    get,
    counts() {
      const counts: Record<OutboxState, number> = { queued: 0, submitted: 0, confirmed: 0, failed: 0 }
      for (const row of db.prepare('SELECT state, COUNT(*) AS n FROM outbox GROUP BY state').all() as Array<{
        state: OutboxState
        n: number
      }>) {
        counts[row.state] = row.n
      }
      return counts
    },
    waitFor(recordId, timeoutMs) {
      const current = get(recordId)
      if (current && (current.state === 'confirmed' || current.state === 'failed'))
        return Promise.resolve(current)
      return new Promise((resolve, reject) => {
        const set = waiters.get(recordId) ?? new Set()
        waiters.set(recordId, set)
        const done = (entry: OutboxEntry) => {
          clearTimeout(timeout)
          resolve(entry)
        }
        set.add(done)
        const timeout = setTimeout(() => {
          set.delete(done)
          reject(new Error('timed out waiting for the anchor'))
        }, timeoutMs)
      })
    },
    async recheckConfirmed() {
      let requeued = 0
      const rows = db.prepare(`SELECT * FROM outbox WHERE state = 'confirmed'`).all() as Row[]
      for (const entry of rows.map(fromRow)) {
        const check = await chain.check(entry)
        if (!check.anchored) {
          save({
            ...entry,
            state: 'queued',
            txHash: null,
            gasUsed: null,
            blockNumber: null,
            lastError: 'lost by the chain; re-submitting',
          })
          requeued++
        }
      }
      if (requeued > 0) logger.warn({ requeued }, 'the chain lost anchors; re-submitting them')
      return requeued
    },
    processOnce,
    kick() {
      schedule(0)
    },
    start() {
      stopped = false
      schedule(0)
    },
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running?.catch(() => undefined)
    },
  }
}
