import { unixfs } from '@helia/unixfs'
import * as dagCbor from '@ipld/dag-cbor'
import type { Helia } from 'helia'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  BlockNotFoundError,
  CidMismatchError,
  InvalidBlockError,
  StoreClosedError,
  TooLargeError,
} from './errors.js'
import { meterSource } from './meter-source.js'
import { PinStore } from './pin-store.js'
import type {
  AddParameters,
  AddReturnType,
  BlobStore,
  CatParameters,
  GcReturnType,
  Pin,
  PutBlockParameters,
  SignalParameters,
  StatReturnType,
  StoreHealth,
} from './types.js'
import {
  type BlockSource,
  countBlocks,
  MAX_BLOCK_BYTES,
  openContent,
  readContent,
  resolveRange,
  walkDag,
} from './unixfs-reader.js'
import { blockKey, WriteGuard } from './write-guard.js'

/** UnixFS chunk size: 1 MiB, the IPIP-499 `unixfs-v1-2025` profile. */
export const CHUNK_SIZE = 1024 * 1024
/** DAG-CBOR blocks (record envelopes, grant key bundles) are small; this bounds hostile input. */
export const MAX_DAG_CBOR_BYTES = 1024 * 1024

const SHA2_256 = sha256.code

// Blocks hashed and written concurrently by the importer; memory per upload is about this many chunks.
const BLOCK_WRITE_CONCURRENCY = 8

const importerOptions = {
  profile: 'unixfs-v1-2025',
  cidVersion: 1,
  rawLeaves: true,
  reduceSingleLeafToSelf: true,
  chunker: fixedSize({ chunkSize: CHUNK_SIZE }),
  layout: balanced({ maxChildrenPerNode: 1024 }),
  blockWriteConcurrency: BLOCK_WRITE_CONCURRENCY,
} as const

export type CreateHeliaBlobStoreParameters = {
  /** A started Helia; its blockstore holds the blocks and its datastore the pins. */
  helia: Helia
  /**
   * Makes the given blocks durable (for the filesystem store: fsync their directories, the files are
   * already synced when written). Awaited before a pin is written and before `add` resolves.
   */
  syncBlocks?: ((cids: CID[], options: SignalParameters) => Promise<void>) | undefined
  /** Housekeeping run at the end of `gc()`, e.g. removing temp files a crash left behind. */
  afterGc?: (() => Promise<void>) | undefined
  /** Runs after Helia stopped, e.g. to release a directory lock. */
  afterStop?: (() => Promise<void>) | undefined
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'BlockNotFoundWhileOfflineError' ||
      error.name === 'NotFoundError' ||
      (error as NodeJS.ErrnoException).code === 'ENOENT')
  )
}

/** Rejects a block that is not canonical DAG-CBOR or is over {@link MAX_DAG_CBOR_BYTES}. */
export function validateDagCbor(bytes: Uint8Array, cid?: CID): void {
  if (bytes.byteLength > MAX_DAG_CBOR_BYTES) throw new TooLargeError({ limit: MAX_DAG_CBOR_BYTES })
  let reencoded: Uint8Array
  try {
    reencoded = dagCbor.encode(dagCbor.decode(bytes))
  } catch (error) {
    throw new InvalidBlockError({ reason: 'not DAG-CBOR', cid: cid?.toString(), cause: error })
  }
  // Only the canonical encoding has one CID; anything else is a second name for the same object.
  if (reencoded.byteLength !== bytes.byteLength || !reencoded.every((byte, i) => byte === bytes[i])) {
    throw new InvalidBlockError({ reason: 'DAG-CBOR is not canonically encoded', cid: cid?.toString() })
  }
}

/**
 * A {@link BlobStore} over any Helia: the embedded offline one from {@link createBlobStore} today, a
 * networked one (libp2p + bitswap) later. Reads never go to the network (`offline`), so a missing block
 * is a `BlockNotFoundError`, not a hang.
 */
export function createHeliaBlobStore({
  helia,
  syncBlocks,
  afterGc,
  afterStop,
}: CreateHeliaBlobStoreParameters): BlobStore {
  const pins = new PinStore(helia.datastore)
  const guard = new WriteGuard()
  let closed = false

  const assertOpen = () => {
    if (closed) throw new StoreClosedError()
  }

  const source: BlockSource = {
    async *stream(cid, signal) {
      try {
        yield* helia.blockstore.get(cid, { offline: true, ...(signal ? { signal } : {}) })
      } catch (error) {
        if (isNotFound(error)) throw new BlockNotFoundError({ cid: cid.toString(), cause: error })
        throw error
      }
    },
    async bytes(cid, maxBytes, signal) {
      const pieces: Uint8Array[] = []
      let length = 0
      for await (const piece of source.stream(cid, signal)) {
        length += piece.byteLength
        if (length > maxBytes) throw new InvalidBlockError({ reason: 'block too large', cid: cid.toString() })
        pieces.push(piece)
      }
      if (pieces.length === 1) return pieces[0]!
      const bytes = new Uint8Array(length)
      let offset = 0
      for (const piece of pieces) {
        bytes.set(piece, offset)
        offset += piece.byteLength
      }
      return bytes
    },
  }

  /** Stores `bytes` under `cid`, makes it durable and pins it directly. */
  const storeBlock = async (cid: CID, bytes: Uint8Array, signal?: AbortSignal): Promise<CID> => {
    const write = guard.begin()
    try {
      await write.put(cid, () => helia.blockstore.put(cid, bytes, signal ? { signal } : {}))
      await syncBlocks?.(write.cids, { signal })
      signal?.throwIfAborted()
      await pins.put({ cid, type: 'direct', size: bytes.byteLength, pinnedAt: Date.now() })
      return cid
    } catch (error) {
      await write.close()
      throw error
    } finally {
      write.release()
    }
  }

  return {
    async add(input: AsyncIterable<Uint8Array>, { signal, onProgress, maxBytes }: AddParameters = {}) {
      assertOpen()
      signal?.throwIfAborted()
      const write = guard.begin()
      let size = 0
      const blockstore = {
        put: async (cid: CID, bytes: unknown) => {
          if (!(bytes instanceof Uint8Array)) throw new TypeError('importer must write whole blocks')
          return write.put(cid, () => helia.blockstore.put(cid, bytes, signal ? { signal } : {}))
        },
        get: (cid: CID) => helia.blockstore.get(cid, { offline: true }),
        has: (cid: CID) => helia.blockstore.has(cid),
      }
      try {
        const content = meterSource(input, {
          signal,
          maxBytes,
          onProgress: (bytes) => {
            size = bytes
            onProgress?.(bytes)
          },
        })
        const cid = await unixfs({ blockstore }).addByteStream(content, {
          ...importerOptions,
          ...(signal ? { signal } : {}),
        })
        signal?.throwIfAborted()
        await syncBlocks?.(write.cids, { signal })
        signal?.throwIfAborted()
        await pins.put({ cid, type: 'recursive', size, pinnedAt: Date.now() })
        return { cid, size } satisfies AddReturnType
      } catch (error) {
        await write.close()
        if (signal?.aborted) throw signal.reason
        throw findCause(error, TooLargeError) ?? error
      } finally {
        write.release()
      }
    },

    async *cat(cid: CID, { signal, offset, length }: CatParameters = {}) {
      assertOpen()
      const content = await openContent(source, cid, signal)
      const { start, end } = resolveRange(content.size, offset, length)
      yield* readContent(source, content, start, end, signal)
    },

    async stat(cid: CID, { signal }: SignalParameters = {}): Promise<StatReturnType> {
      assertOpen()
      const content = await openContent(source, cid, signal)
      return { size: content.size, blocks: await countBlocks(source, content, signal) }
    },

    async has(cid: CID, { signal }: SignalParameters = {}) {
      assertOpen()
      return helia.blockstore.has(cid, signal ? { signal } : {})
    },

    async putBlock(bytes: Uint8Array, { codec, signal }: PutBlockParameters) {
      assertOpen()
      if (codec !== 'dag-cbor') throw new InvalidBlockError({ reason: `unsupported codec ${String(codec)}` })
      validateDagCbor(bytes)
      const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
      return storeBlock(cid, bytes, signal)
    },

    async putBlockWithCid(cid: CID, bytes: Uint8Array, { signal }: SignalParameters = {}) {
      assertOpen()
      if (cid.version !== 1 || cid.code !== dagCbor.code) {
        throw new InvalidBlockError({
          reason: 'only CIDv1 DAG-CBOR blocks are accepted',
          cid: cid.toString(),
        })
      }
      if (cid.multihash.code !== SHA2_256 || cid.multihash.size !== 32) {
        throw new InvalidBlockError({ reason: 'only sha2-256 CIDs are accepted', cid: cid.toString() })
      }
      if (bytes.byteLength > MAX_DAG_CBOR_BYTES) throw new TooLargeError({ limit: MAX_DAG_CBOR_BYTES })
      const digest = await sha256.digest(bytes)
      if (!digest.digest.every((byte, i) => byte === cid.multihash.digest[i])) {
        throw new CidMismatchError({ cid: cid.toString() })
      }
      validateDagCbor(bytes, cid)
      return storeBlock(cid, bytes, signal)
    },

    async getBlock(cid: CID, { signal }: SignalParameters = {}) {
      assertOpen()
      return source.bytes(cid, MAX_BLOCK_BYTES, signal)
    },

    async unpin(cid: CID, { signal }: SignalParameters = {}) {
      assertOpen()
      await pins.delete(cid, { signal })
    },

    async *pins({ signal }: SignalParameters = {}): AsyncGenerator<Pin> {
      assertOpen()
      yield* pins.list({ signal })
    },

    gc({ signal }: SignalParameters = {}): Promise<GcReturnType> {
      assertOpen()
      return guard.runGc(async () => {
        // Mark: everything reachable from a pin. A pinned DAG that cannot be walked aborts the run
        // before anything is deleted, since its unreadable parts would otherwise look like garbage.
        const live = new Set<string>()
        for await (const pin of pins.list({ signal })) {
          if (pin.type === 'direct') live.add(blockKey(pin.cid))
          else
            await walkDag(
              source,
              pin.cid,
              (cid) => {
                const key = blockKey(cid)
                if (live.has(key)) return false
                live.add(key)
                return true
              },
              signal,
            )
        }
        // Sweep: list first (the listing holds Helia's block store read lock, deletes take its write
        // lock), then delete what is neither live nor protected by an upload in progress.
        const garbage: CID[] = []
        for await (const { cid } of helia.blockstore.getAll(signal ? { signal } : {})) {
          if (!live.has(blockKey(cid))) garbage.push(cid)
        }
        let removedBlocks = 0
        for (const cid of garbage) {
          signal?.throwIfAborted()
          const removed = await guard.deleteUnlessProtected(blockKey(cid), async () => {
            await helia.blockstore.delete(cid, signal ? { signal } : {})
          })
          if (removed) removedBlocks++
        }
        await afterGc?.()
        return { removedBlocks }
      })
    },

    async health({ signal }: SignalParameters = {}): Promise<StoreHealth> {
      if (closed) return { mode: 'embedded', ok: false, error: 'stopped' }
      const started = performance.now()
      try {
        // Reads the pin datastore: a store whose directory vanished or became unreadable fails here.
        for await (const _ of pins.list({ signal })) break
        return { mode: 'embedded', ok: true, latencyMs: Math.round(performance.now() - started) }
      } catch {
        return {
          mode: 'embedded',
          ok: false,
          latencyMs: Math.round(performance.now() - started),
          error: 'error',
        }
      }
    },

    async stop() {
      if (closed) return
      closed = true
      try {
        await helia.stop()
      } finally {
        await afterStop?.()
      }
    },
  }
}

function findCause<T extends Error>(
  error: unknown,
  type: abstract new (...args: never[]) => T,
): T | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (current instanceof type) return current
  }
  return undefined
}
