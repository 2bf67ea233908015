import { createReadStream } from 'node:fs'
import path from 'node:path'
import type { NodeContext } from '../context.js'
import { createUploadStore, type UploadStore } from './upload-store.js'

export {
  OffsetMismatchError,
  TusVersionError,
  UnsupportedMediaTypeError,
  UploadExpiredError,
  UploadInterruptedError,
  UploadLengthExceededError,
} from './errors.js'
export {
  type AppendParameters,
  type CreateUploadStoreParameters,
  createUploadStore,
  type ImportUpload,
  isUploadId,
  type UploadInfo,
  type UploadStore,
} from './upload-store.js'

const stores = new WeakMap<NodeContext, UploadStore>()

/**
 * The node's resumable uploads (`<dataDir>/uploads`), one store per running node: the routes and the
 * periodic sweep share it, so the sweep never removes an upload a request is working on. Uploads expire
 * on the orphan timing (`config.orphans.ttlMs` after their last chunk); a complete upload is imported into
 * the blob store like a one-shot `POST /api/v1/blobs`, `blobs` row included, so the orphan sweep unpins
 * it if no record adopts it.
 */
export function uploadsOf(ctx: NodeContext): UploadStore {
  let store = stores.get(ctx)
  if (!store) {
    store = createUploadStore({
      directory: path.join(ctx.config.dataDir, 'uploads'),
      ttlMs: ctx.config.orphans.ttlMs,
      async importUpload(file, upload) {
        const { cid, size } = await ctx.store.add(createReadStream(file, { highWaterMark: 1024 * 1024 }), {
          maxBytes: ctx.config.limits.maxBlobBytes,
        })
        ctx.db
          .prepare(
            `INSERT INTO blobs (cid, uploader, size, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (cid) DO NOTHING`,
          )
          .run(cid.toString(), upload.owner, size, Date.now())
        return { cid: cid.toString(), size }
      },
    })
    stores.set(ctx, store)
  }
  return store
}

/** Removes expired uploads of this node (for the node's periodic maintenance); returns how many. */
export function sweepUploads(ctx: NodeContext): Promise<number> {
  return uploadsOf(ctx).sweep()
}
