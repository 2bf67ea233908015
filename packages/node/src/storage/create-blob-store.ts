import path from 'node:path'
import { createHeliaLight } from 'helia'
import { acquireDirectoryLock } from './directory-lock.js'
import { DurableFsBlockstore, DurableFsDatastore } from './durable-fs.js'
import { createHeliaBlobStore } from './helia-blob-store.js'
import type { BlobStore } from './types.js'

export type CreateBlobStoreParameters = {
  /** Holds `blocks/` (block files, blockstore-fs layout), `datastore/` (pins) and `repo.lock`. */
  directory: string
  signal?: AbortSignal | undefined
}

export type CreateBlobStoreReturnType = BlobStore

/**
 * Opens (creating if needed) the node's embedded content store: a Helia without networking
 * (`createHeliaLight`: no libp2p, no routers, no block brokers, so no connection is ever opened) over a
 * filesystem block store and datastore whose writes are fsynced. One process at a time may open a
 * directory (`StoreLockedError` otherwise).
 */
export async function createBlobStore({
  directory,
  signal,
}: CreateBlobStoreParameters): Promise<CreateBlobStoreReturnType> {
  signal?.throwIfAborted()
  const root = path.resolve(directory)
  const blockstore = new DurableFsBlockstore(path.join(root, 'blocks'))
  const datastore = new DurableFsDatastore(path.join(root, 'datastore'))
  await blockstore.open()
  await datastore.open()
  const release = await acquireDirectoryLock(root)
  try {
    signal?.throwIfAborted()
    const helia = createHeliaLight({ blockstore, datastore })
    await helia.start()
    const removeTempFiles = async () => {
      await blockstore.removeStaleTempFiles()
      await datastore.removeStaleTempFiles()
    }
    return createHeliaBlobStore({
      helia,
      syncBlocks: (cids, options) => blockstore.syncBlocks(cids, options),
      afterGc: removeTempFiles,
      afterStop: async () => {
        await blockstore.close()
        await datastore.close()
        await release()
      },
    })
  } catch (error) {
    await release()
    throw error
  }
}
