import path from 'node:path'
import { createHeliaLight } from 'helia'
import type { CID } from 'multiformats/cid'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { DurableFsBlockstore, DurableFsDatastore } from '../../src/storage/durable-fs.js'
import { type BlobStore, createHeliaBlobStore } from '../../src/storage/index.js'
import { chunked, MiB, random, tempDirectory } from './helpers.js'

class CountingBlockstore extends DurableFsBlockstore {
  reads = 0
  override get(key: CID, options?: { signal?: AbortSignal | undefined }): AsyncGenerator<Uint8Array> {
    this.reads++
    return super.get(key, options)
  }
}

let dir: { path: string; remove: () => Promise<void> }
let blockstore: CountingBlockstore
let store: BlobStore

beforeEach(async () => {
  dir = await tempDirectory()
  blockstore = new CountingBlockstore(path.join(dir.path, 'blocks'))
  const datastore = new DurableFsDatastore(path.join(dir.path, 'datastore'))
  await blockstore.open()
  await datastore.open()
  const helia = createHeliaLight({ blockstore, datastore })
  await helia.start()
  store = createHeliaBlobStore({ helia, syncBlocks: (cids, options) => blockstore.syncBlocks(cids, options) })
})

afterEach(async () => {
  await store.stop()
  await dir.remove()
})

it('cat reads blocks only as fast as the consumer takes them', async () => {
  const { cid } = await store.add(chunked(random(20 * MiB)))
  blockstore.reads = 0
  const iterator = store.cat(cid)[Symbol.asyncIterator]()
  await iterator.next()
  // A slow consumer: the reader must not run ahead (the UnixFS exporter would fetch all 20 leaves).
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(blockstore.reads).toBe(2) // the root and the first leaf
  await iterator.return?.()
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(blockstore.reads).toBe(2)

  blockstore.reads = 0
  let bytes = 0
  for await (const piece of store.cat(cid, { offset: 5 * MiB + 1, length: 2 * MiB }))
    bytes += piece.byteLength
  expect(bytes).toBe(2 * MiB)
  // Root plus the three leaves the range touches; nothing else.
  expect(blockstore.reads).toBe(4)
})
