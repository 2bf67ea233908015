import type { DatabaseSync } from 'node:sqlite'
import { CID } from 'multiformats/cid'
import type { Logger } from '../logger.js'
import type { BlobStore } from '../storage/index.js'

export type SweepOrphansParameters = {
  db: DatabaseSync
  store: BlobStore
  /** Blobs younger than this stay: their record may still be on its way. */
  ttlMs: number
  now?: number
  logger: Logger
}

/**
 * Unpins ciphertext that was uploaded but never became part of a record (an upload abandoned half
 * way, or a submission the node refused), then collects the blocks. Blobs of records, queued or
 * anchored, are never touched.
 */
export async function sweepOrphans({
  db,
  store,
  ttlMs,
  now = Date.now(),
  logger,
}: SweepOrphansParameters): Promise<number> {
  const rows = db
    .prepare(
      `SELECT cid FROM blobs WHERE kind = 'blob' AND created_at < ? AND cid NOT IN (SELECT cid FROM record_blobs)
       AND cid NOT IN (SELECT cid FROM ingest_instances)`,
    )
    .all(now - ttlMs) as Array<{ cid: string }>
  let swept = 0
  for (const { cid } of rows) {
    // Claim the row first, in one statement: a submission that adopted the blob meanwhile keeps it,
    // and a submission that comes after finds no row and is refused.
    const claimed = db
      .prepare(
        `DELETE FROM blobs WHERE cid = ? AND cid NOT IN (SELECT cid FROM record_blobs)
         AND cid NOT IN (SELECT cid FROM ingest_instances)`,
      )
      .run(cid).changes
    if (claimed === 0) continue
    await store.unpin(CID.parse(cid))
    swept++
  }
  if (swept > 0) {
    const { removedBlocks } = await store.gc()
    logger.info({ orphans: swept, removedBlocks }, 'unpinned ciphertext that never became a record')
  }
  return swept
}
