import type { DatabaseSync } from 'node:sqlite'
import { enumName, Kind, pcmimsAbi, Role, Scope, Status } from '@pcmims/contracts'
import { unpackGrantTerms } from '@pcmims/core'
import { type Address, BlockNotFoundError, type Log, type PublicClient, parseEventLogs } from 'viem'
import type { PcmimsEvent } from '../audit/chain-events.js'
import { clearChainIndex, deleteMeta, getMeta, setMeta, transaction } from '../db/open-database.js'
import type { Logger } from '../logger.js'

export type Indexer = {
  /** Indexes up to the chain head once; returns the last indexed block. */
  syncOnce(signal?: AbortSignal): Promise<bigint>
  start(): void
  stop(): Promise<void>
  /** Resolves once `block` is indexed (or rejects on timeout). */
  waitForBlock(block: bigint, timeoutMs?: number): Promise<void>
  lastBlock(): bigint | undefined
}

export type CreateIndexerParameters = {
  db: DatabaseSync
  publicClient: PublicClient
  contract: Address
  fromBlock: bigint
  confirmations?: number
  pollMs: number
  logger: Logger
  /** Called after the index was rebuilt because the chain no longer has what was indexed. */
  onRollback?: () => Promise<void> | void
  /** Called after new blocks were indexed. */
  onBlocks?: (last: bigint) => Promise<void> | void
  /** Called with each batch of decoded events, inside the transaction that indexes them. */
  onEvents?: (events: PcmimsEvent[]) => void
}

const RANGE = 2000n

/**
 * Follows the contract's events into SQLite. The chain is the source of truth: when the block the
 * index ends at is gone or has another hash (a reorg, or an embedded chain restored from an older
 * state dump), the derived tables are dropped and rebuilt from the deployment block.
 */
export function createIndexer(params: CreateIndexerParameters): Indexer {
  const { db, publicClient, contract, logger } = params
  const contractKey = contract.toLowerCase()
  let timer: NodeJS.Timeout | undefined
  let running: Promise<bigint> | undefined
  let stopped = false
  let last: bigint | undefined = readLast()
  const waiters = new Set<{ block: bigint; resolve: () => void }>()

  function readLast(): bigint | undefined {
    if (getMeta(db, 'indexer.contract') !== contractKey) return undefined
    const value = getMeta(db, 'indexer.block')
    return value === undefined ? undefined : BigInt(value)
  }

  async function checkContinuity(): Promise<void> {
    if (last === undefined) {
      if (getMeta(db, 'indexer.contract') !== contractKey) clearChainIndex(db)
      return
    }
    const hash = getMeta(db, 'indexer.hash')
    let same: boolean
    try {
      const block = await publicClient.getBlock({ blockNumber: last })
      same = block.hash === hash
    } catch (error) {
      // Only a block the chain says it does not have means a rollback; any other failure (a timeout,
      // the RPC down) is passed up and the next run tries again.
      if (!(error instanceof BlockNotFoundError)) throw error
      same = false
    }
    if (!same) {
      logger.warn({ lastBlock: String(last) }, 'chain no longer has the indexed block: rebuilding the index')
      transaction(db, () => {
        clearChainIndex(db, { inTransaction: true })
        setMeta(db, 'indexer.recheck', 'pending')
      })
      last = undefined
    }
  }

  /** The outbox re-check after a rollback must complete: it is retried until it does. */
  async function recheckIfPending(): Promise<void> {
    if (getMeta(db, 'indexer.recheck') !== 'pending') return
    await params.onRollback?.()
    deleteMeta(db, 'indexer.recheck')
  }

  async function sync(signal?: AbortSignal): Promise<bigint> {
    await checkContinuity()
    await recheckIfPending()
    const head = (await publicClient.getBlockNumber({ cacheTime: 0 })) - BigInt(params.confirmations ?? 0)
    let from = last === undefined ? params.fromBlock : last + 1n
    const before = last
    while (from <= head) {
      signal?.throwIfAborted()
      const to = from + RANGE - 1n < head ? from + RANGE - 1n : head
      const logs = await publicClient.getLogs({ address: contract, fromBlock: from, toBlock: to })
      const toBlock = await publicClient.getBlock({ blockNumber: to })
      const timestamps = new Map<bigint, bigint>([[to, toBlock.timestamp]])
      for (const log of logs) {
        if (log.blockNumber !== null && !timestamps.has(log.blockNumber)) {
          timestamps.set(
            log.blockNumber,
            (await publicClient.getBlock({ blockNumber: log.blockNumber })).timestamp,
          )
        }
      }
      transaction(db, () => {
        const events = applyLogs(db, logs, timestamps)
        params.onEvents?.(events)
        setMeta(db, 'indexer.contract', contractKey)
        setMeta(db, 'indexer.block', String(to))
        setMeta(db, 'indexer.hash', toBlock.hash)
      })
      last = to
      from = to + 1n
    }
    if (last !== undefined && last !== before) await params.onBlocks?.(last)
    for (const waiter of waiters) {
      if (last !== undefined && last >= waiter.block) {
        waiters.delete(waiter)
        waiter.resolve()
      }
    }
    return last ?? params.fromBlock - 1n
  }

  let queued: Promise<bigint> | undefined
  function syncOnce(signal?: AbortSignal): Promise<bigint> {
    // One sync at a time. A caller arriving while one runs may need blocks mined after that run read
    // the head, so it gets the next run (shared by everyone who arrives meanwhile).
    if (!running) {
      running = sync(signal).finally(() => {
        running = undefined
      })
      return running
    }
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined
        return syncOnce(signal)
      })
    return queued
  }

  function schedule() {
    if (stopped) return
    timer = setTimeout(async () => {
      try {
        await syncOnce()
      } catch (error) {
        logger.warn({ err: { message: (error as Error).message } }, 'indexer sync failed; retrying')
      }
      schedule()
    }, params.pollMs)
  }

  return {
    syncOnce,
    start() {
      stopped = false
      schedule()
    },
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running?.catch(() => undefined)
    },
    waitForBlock(block, timeoutMs = 30_000) {
      if (last !== undefined && last >= block) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const waiter = { block, resolve }
        waiters.add(waiter)
        setTimeout(() => {
          if (waiters.delete(waiter)) reject(new Error(`index did not reach block ${block} in time`))
        }, timeoutMs).unref()
      })
    },
    lastBlock: () => last,
  }
}

function applyLogs(db: DatabaseSync, logs: Log[], timestamps: Map<bigint, bigint>): PcmimsEvent[] {
  const events = parseEventLogs({ abi: pcmimsAbi, logs, strict: true })
  for (const event of events) {
    const block = Number(event.blockNumber)
    const time = Number(timestamps.get(event.blockNumber) ?? 0n)
    const lower = (a: Address) => a.toLowerCase()
    switch (event.eventName) {
      case 'UnitAdmitted':
        db.prepare(
          `INSERT INTO participants (address, unit, role, status, unit_index, encryption_key, updated_block)
           VALUES (?, ?, 'Unit', 'Approved', ?, ?, ?)
           ON CONFLICT (address) DO UPDATE SET role = 'Unit', status = 'Approved', unit_index = excluded.unit_index,
             encryption_key = excluded.encryption_key, updated_block = excluded.updated_block`,
        ).run(
          lower(event.args.unit),
          lower(event.args.unit),
          event.args.unitIndex,
          event.args.encryptionKey,
          block,
        )
        break
      case 'ParticipantRegistered':
        db.prepare(
          `INSERT INTO participants (address, unit, role, status, unit_index, encryption_key, updated_block)
           VALUES (?, ?, ?, 'Pending', (SELECT unit_index FROM participants WHERE address = ?), ?, ?)
           ON CONFLICT (address) DO UPDATE SET unit = excluded.unit, role = excluded.role, status = 'Pending',
             unit_index = excluded.unit_index, encryption_key = excluded.encryption_key,
             updated_block = excluded.updated_block`,
        ).run(
          lower(event.args.account),
          lower(event.args.unit),
          enumName(Role, event.args.role),
          lower(event.args.unit),
          event.args.encryptionKey,
          block,
        )
        break
      case 'ParticipantStatusChanged':
        db.prepare('UPDATE participants SET status = ?, updated_block = ? WHERE address = ?').run(
          enumName(Status, event.args.status),
          block,
          lower(event.args.account),
        )
        break
      case 'EncryptionKeySet':
        db.prepare('UPDATE participants SET encryption_key = ?, updated_block = ? WHERE address = ?').run(
          event.args.encryptionKey,
          block,
          lower(event.args.account),
        )
        break
      case 'RecordAnchored':
        db.prepare(
          `INSERT INTO records (id, patient, uploader, kind, unit_index, created_at, block_number, tx_hash)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        ).run(
          event.args.id,
          lower(event.args.patient),
          lower(event.args.uploader),
          enumName(Kind, event.args.kind),
          event.args.unitIndex,
          time,
          block,
          event.transactionHash,
        )
        break
      case 'RecordRotated':
        // The replacement keeps the patient, kind, uploader and custodian of the record it replaces (and, for a
        // de-identified copy, its source and audience).
        db.prepare(
          `INSERT INTO records (id, patient, uploader, kind, unit_index, created_at, block_number, tx_hash, source,
             audience)
           SELECT ?, patient, uploader, kind, unit_index, ?, ?, ?, source, audience FROM records WHERE id = ?
           ON CONFLICT (id) DO NOTHING`,
        ).run(event.args.newId, time, block, event.transactionHash, event.args.oldId)
        db.prepare('UPDATE records SET superseded_by = ? WHERE id = ?').run(
          event.args.newId,
          event.args.oldId,
        )
        break
      case 'DeidentifiedCopyAnchored':
        // Same patient, kind and custodian as its source; the patient made it, so the patient is its uploader.
        db.prepare(
          `INSERT INTO records (id, patient, uploader, kind, unit_index, created_at, block_number, tx_hash, source,
             audience)
           SELECT ?, patient, patient, kind, unit_index, ?, ?, ?, ?, ? FROM records WHERE id = ?
           ON CONFLICT (id) DO NOTHING`,
        ).run(
          event.args.id,
          time,
          block,
          event.transactionHash,
          event.args.sourceId,
          lower(event.args.audience),
          event.args.sourceId,
        )
        break
      case 'GrantSet': {
        const terms = unpackGrantTerms(event.args.terms)
        db.prepare(
          `INSERT INTO grants (patient, grantee, scope, kind_mask, expires_at, flags, epoch, key_bundle, block_number)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (patient, grantee) DO UPDATE SET scope = excluded.scope, kind_mask = excluded.kind_mask,
             expires_at = excluded.expires_at, flags = excluded.flags, epoch = excluded.epoch,
             key_bundle = excluded.key_bundle, block_number = excluded.block_number`,
        ).run(
          lower(event.args.patient),
          lower(event.args.grantee),
          enumName(Scope, terms.scope),
          terms.kindMask,
          terms.expiresAt,
          terms.flags,
          terms.epoch,
          event.args.keyBundle,
          block,
        )
        break
      }
      case 'GrantRecords':
        for (const id of event.args.recordIds) {
          db.prepare(
            'INSERT OR IGNORE INTO grant_records (patient, grantee, epoch, record_id) VALUES (?, ?, ?, ?)',
          ).run(lower(event.args.patient), lower(event.args.grantee), event.args.epoch, id)
        }
        break
      case 'GrantRevoked':
        db.prepare(
          `UPDATE grants SET scope = 'None', kind_mask = 0, expires_at = 0, flags = 0, block_number = ?
           WHERE patient = ? AND grantee = ?`,
        ).run(block, lower(event.args.patient), lower(event.args.grantee))
        break
      case 'AccessRequested':
        db.prepare(
          `INSERT INTO requests (id, requestor, patient, scope, kind_mask, purpose, details, status, created_block)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'Pending', ?) ON CONFLICT (id) DO NOTHING`,
        ).run(
          String(event.args.id),
          lower(event.args.requestor),
          lower(event.args.patient),
          enumName(Scope, event.args.scope),
          event.args.kindMask,
          event.args.purposeCode,
          event.args.details,
          block,
        )
        break
      case 'RequestApproved':
      case 'RequestDenied':
        db.prepare('UPDATE requests SET status = ? WHERE id = ?').run(
          event.eventName === 'RequestApproved' ? 'Approved' : 'Denied',
          String(event.args.id),
        )
        break
      case 'EmergencyDeclared':
        db.prepare(
          `INSERT OR REPLACE INTO emergencies (medic, patient, unit_index, reason, until, block_number)
           VALUES (?, ?, ?, ?, ?, ?)`,
        ).run(
          lower(event.args.medic),
          lower(event.args.patient),
          event.args.unitIndex,
          event.args.reasonCode,
          Number(event.args.until),
          block,
        )
        break
      case 'EmergencyEnded':
        db.prepare('UPDATE emergencies SET ended = 1 WHERE medic = ? AND patient = ? AND ended = 0').run(
          lower(event.args.medic),
          lower(event.args.patient),
        )
        break
      default:
        break
    }
  }
  return events
}
