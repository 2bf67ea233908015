import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type BlobStore,
  BlockNotFoundError,
  CidMismatchError,
  createBlobStore,
  InvalidBlockError,
  InvalidRangeError,
  StoreClosedError,
  StoreLockedError,
  TooLargeError,
} from '../../src/storage/index.js'
import { blockFiles, chunked, collect, MiB, random, tempDirectory, toArray } from './helpers.js'

const DICOM_DIR = path.resolve(import.meta.dirname, '../../../../fixtures/dicom/valid')

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))

async function rawLeafCid(bytes: Uint8Array): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(bytes))
}

async function linksOf(store: BlobStore, cid: CID): Promise<CID[]> {
  return dagPb.decode(await store.getBlock(cid)).Links.map((link) => link.Hash)
}

let dir: { path: string; remove: () => Promise<void> }
let store: BlobStore

beforeEach(async () => {
  dir = await tempDirectory()
  store = await createBlobStore({ directory: dir.path })
})

afterEach(async () => {
  await store.stop()
  await dir.remove()
})

describe('add / cat roundtrip', () => {
  it.each([
    ['empty', 0],
    ['one byte', 1],
    ['1 MiB - 1', MiB - 1],
    ['1 MiB', MiB],
    ['1 MiB + 1', MiB + 1],
    ['5 MiB + 7', 5 * MiB + 7],
  ])('%s (%i bytes) comes back byte for byte', async (_, size) => {
    const bytes = random(size)
    const { cid, size: stored } = await store.add(chunked(bytes))
    expect(stored).toBe(size)
    expect(cid.version).toBe(1)
    expect(same(await collect(store.cat(cid)), bytes)).toBe(true)
    const stat = await store.stat(cid)
    expect(stat.size).toBe(size)

    if (size <= MiB) {
      // One chunk: the root is the raw leaf itself.
      expect(cid.equals(await rawLeafCid(bytes))).toBe(true)
      expect(stat.blocks).toBe(1)
    } else {
      expect(cid.code).toBe(dagPb.code)
      const leaves = await linksOf(store, cid)
      expect(leaves.length).toBe(Math.ceil(size / MiB))
      expect(leaves.every((leaf) => leaf.code === raw.code && leaf.version === 1)).toBe(true)
      // Fixed 1 MiB chunks: every leaf but the last is exactly 1 MiB and is the raw-leaf CID of that slice.
      for (const [i, leaf] of leaves.entries()) {
        expect(leaf.equals(await rawLeafCid(bytes.subarray(i * MiB, (i + 1) * MiB)))).toBe(true)
      }
      expect(stat.blocks).toBe(leaves.length + 1)
    }
    expect((await toArray(store.pins())).map((pin) => pin.cid.toString())).toEqual([cid.toString()])
  })

  it('stores the real DICOM fixtures byte for byte', async () => {
    const files = (await readdir(DICOM_DIR)).filter((name) => name.endsWith('.dcm'))
    expect(files.length).toBeGreaterThan(3)
    for (const name of files) {
      const bytes = new Uint8Array(await readFile(path.join(DICOM_DIR, name)))
      const { cid, size } = await store.add(chunked(bytes, [4096, 333]))
      expect(size).toBe(bytes.byteLength)
      expect(cid.equals(await rawLeafCid(bytes))).toBe(true)
      expect(same(await collect(store.cat(cid)), bytes)).toBe(true)
    }
  })

  it('accepts any async iterable, reports progress and is idempotent for the same content', async () => {
    const bytes = random(2 * MiB + 5)
    const seen: number[] = []
    const first = await store.add(chunked(bytes), { onProgress: (n) => seen.push(n) })
    expect(seen.at(-1)).toBe(bytes.byteLength)
    expect(seen.every((n, i) => i === 0 || n >= seen[i - 1]!)).toBe(true)
    const second = await store.add(chunked(bytes, [MiB]))
    expect(second.cid.equals(first.cid)).toBe(true)
    expect(await toArray(store.pins())).toHaveLength(1)
  })
})

describe('ranged reads', () => {
  it('returns exactly the requested slice at chunk boundaries and inside chunks', async () => {
    const bytes = random(3 * MiB + 123)
    const { cid } = await store.add(chunked(bytes))
    const cases: Array<[number, number | undefined]> = [
      [0, 0],
      [0, 1],
      [0, undefined],
      [MiB - 1, 2],
      [MiB, MiB],
      [MiB + 17, 2 * MiB],
      [3 * MiB, undefined],
      [3 * MiB + 122, 10],
      [3 * MiB + 123, undefined],
      [5, 10 * MiB],
    ]
    for (const [offset, length] of cases) {
      const end = length === undefined ? bytes.byteLength : Math.min(bytes.byteLength, offset + length)
      const got = await collect(store.cat(cid, { offset, length }))
      expect(same(got, bytes.subarray(offset, end)), `offset ${offset} length ${length}`).toBe(true)
    }
  })

  it('matches Uint8Array#subarray for arbitrary ranges (property)', async () => {
    const bytes = random(2 * MiB + 4321)
    const { cid } = await store.add(chunked(bytes))
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: bytes.byteLength }),
        fc.option(fc.integer({ min: 0, max: 3 * MiB }), { nil: undefined }),
        async (offset, length) => {
          const end = length === undefined ? undefined : offset + length
          expect(same(await collect(store.cat(cid, { offset, length })), bytes.subarray(offset, end))).toBe(
            true,
          )
        },
      ),
      { numRuns: 40 },
    )
  })

  it('slices a single raw block', async () => {
    const bytes = random(1000)
    const { cid } = await store.add(chunked(bytes))
    expect(same(await collect(store.cat(cid, { offset: 10, length: 20 })), bytes.subarray(10, 30))).toBe(true)
  })

  it('rejects ranges outside the content', async () => {
    const { cid } = await store.add(chunked(random(MiB + 1)))
    await expect(collect(store.cat(cid, { offset: MiB + 2 }))).rejects.toBeInstanceOf(InvalidRangeError)
    await expect(collect(store.cat(cid, { offset: -1 }))).rejects.toBeInstanceOf(InvalidRangeError)
    await expect(collect(store.cat(cid, { offset: 0, length: 1.5 }))).rejects.toBeInstanceOf(
      InvalidRangeError,
    )
  })

  it('stops reading when the consumer stops', async () => {
    const { cid } = await store.add(chunked(random(4 * MiB)))
    let read = 0
    for await (const piece of store.cat(cid)) {
      read += piece.byteLength
      if (read >= 100_000) break
    }
    expect(read).toBeLessThanOrEqual(MiB)
    // The store is still usable and nothing is left locked.
    await expect(store.gc()).resolves.toEqual({ removedBlocks: 0 })
  })
})

describe('missing content', () => {
  it('is reported as BlockNotFoundError', async () => {
    const absent = await rawLeafCid(random(10))
    expect(await store.has(absent)).toBe(false)
    await expect(collect(store.cat(absent))).rejects.toBeInstanceOf(BlockNotFoundError)
    await expect(store.stat(absent)).rejects.toBeInstanceOf(BlockNotFoundError)
    await expect(store.getBlock(absent)).rejects.toBeInstanceOf(BlockNotFoundError)
  })
})

describe('restart', () => {
  it('keeps content and pins across stop and reopen', async () => {
    const big = random(3 * MiB + 1)
    const small = random(500)
    const a = await store.add(chunked(big))
    const b = await store.add(chunked(small))
    const envelope = dagCbor.encode({ manifest: a.cid, wrapped: new Uint8Array([1, 2, 3]) })
    const c = await store.putBlock(envelope, { codec: 'dag-cbor' })
    const pinsBefore = (await toArray(store.pins())).map((p) => `${p.cid}:${p.type}:${p.size}`).sort()
    await store.stop()
    await expect(store.has(a.cid)).rejects.toBeInstanceOf(StoreClosedError)

    store = await createBlobStore({ directory: dir.path })
    expect(same(await collect(store.cat(a.cid)), big)).toBe(true)
    expect(same(await collect(store.cat(b.cid)), small)).toBe(true)
    expect(same(await store.getBlock(c), envelope)).toBe(true)
    const pinsAfter = (await toArray(store.pins())).map((p) => `${p.cid}:${p.type}:${p.size}`).sort()
    expect(pinsAfter).toEqual(pinsBefore)
    expect(pinsAfter).toHaveLength(3)
    // gc after a restart keeps everything that is pinned.
    expect(await store.gc()).toEqual({ removedBlocks: 0 })
    expect(same(await collect(store.cat(a.cid)), big)).toBe(true)
  })

  it('refuses a second open of the same directory while the first is open', async () => {
    await expect(createBlobStore({ directory: dir.path })).rejects.toBeInstanceOf(StoreLockedError)
  })
})

describe('failed uploads', () => {
  it('an abort mid-add leaves nothing pinned and gc removes its blocks', async () => {
    const controller = new AbortController()
    let sent = 0
    async function* stalls() {
      // Enough for the importer to have written blocks (it writes in batches of up to 8 chunks).
      for (let i = 0; i < 20; i++) {
        sent += MiB
        yield random(MiB)
      }
      controller.abort(new Error('client went away'))
      // The client never sends the rest; the abort must not wait for it.
      await new Promise(() => {})
    }
    await expect(store.add(stalls(), { signal: controller.signal })).rejects.toThrow('client went away')
    expect(sent).toBe(20 * MiB)
    expect(await toArray(store.pins())).toEqual([])
    expect((await blockFiles(dir.path)).length).toBeGreaterThan(0)
    const { removedBlocks } = await store.gc()
    expect(removedBlocks).toBeGreaterThan(0)
    expect(await blockFiles(dir.path)).toEqual([])
  })

  it('maxBytes rejects with TooLargeError, pins nothing, and gc cleans up', async () => {
    const bytes = random(3 * MiB)
    const error = await store.add(chunked(bytes), { maxBytes: 2 * MiB }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TooLargeError)
    expect((error as TooLargeError).code).toBe('TOO_LARGE')
    expect((error as TooLargeError).limit).toBe(2 * MiB)
    expect(await toArray(store.pins())).toEqual([])
    await store.gc()
    expect(await blockFiles(dir.path)).toEqual([])
    // Exactly at the limit is allowed.
    const ok = await store.add(chunked(bytes.subarray(0, 2 * MiB)), { maxBytes: 2 * MiB })
    expect(ok.size).toBe(2 * MiB)
  })

  it('a failing source leaves nothing pinned', async () => {
    async function* broken() {
      yield random(2 * MiB)
      throw new Error('connection reset')
    }
    await expect(store.add(broken())).rejects.toThrow('connection reset')
    expect(await toArray(store.pins())).toEqual([])
    await store.gc()
    expect(await blockFiles(dir.path)).toEqual([])
  })
})

describe('DAG-CBOR blocks', () => {
  it('putBlock stores, pins directly and returns the CIDv1 sha2-256 DAG-CBOR CID', async () => {
    const bytes = dagCbor.encode({ kind: 'envelope', n: 1 })
    const cid = await store.putBlock(bytes, { codec: 'dag-cbor' })
    expect(cid.equals(CID.createV1(dagCbor.code, await sha256.digest(bytes)))).toBe(true)
    expect(same(await store.getBlock(cid), bytes)).toBe(true)
    expect(same(await collect(store.cat(cid)), bytes)).toBe(true)
    expect(await store.stat(cid)).toEqual({ size: bytes.byteLength, blocks: 1 })
    const [pin] = await toArray(store.pins())
    expect(pin?.type).toBe('direct')
    await store.gc()
    expect(await store.has(cid)).toBe(true)
  })

  it('putBlockWithCid accepts matching bytes and rejects a mismatch with CidMismatchError', async () => {
    const bytes = dagCbor.encode({ grant: 'bundle', keys: [new Uint8Array(32)] })
    const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
    expect((await store.putBlockWithCid(cid, bytes)).equals(cid)).toBe(true)

    const other = dagCbor.encode({ grant: 'bundle', keys: [new Uint8Array(31)] })
    const otherCid = CID.createV1(dagCbor.code, await sha256.digest(other))
    const error = await store.putBlockWithCid(otherCid, bytes).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CidMismatchError)
    expect((error as CidMismatchError).code).toBe('CID_MISMATCH')
    expect(await store.has(otherCid)).toBe(false)
    expect(await toArray(store.pins())).toHaveLength(1)
  })

  it('rejects non-canonical or non-DAG-CBOR bytes and foreign CIDs', async () => {
    // {"b":1,"a":2}: map keys out of canonical order.
    const unordered = new Uint8Array([0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02])
    await expect(store.putBlock(unordered, { codec: 'dag-cbor' })).rejects.toBeInstanceOf(InvalidBlockError)
    await expect(store.putBlock(new Uint8Array([0xff]), { codec: 'dag-cbor' })).rejects.toBeInstanceOf(
      InvalidBlockError,
    )
    const bytes = dagCbor.encode({ a: 1 })
    const rawCid = CID.createV1(raw.code, await sha256.digest(bytes))
    await expect(store.putBlockWithCid(rawCid, bytes)).rejects.toBeInstanceOf(InvalidBlockError)
    await expect(store.putBlock(new Uint8Array(MiB + 1), { codec: 'dag-cbor' })).rejects.toBeInstanceOf(
      TooLargeError,
    )
    expect(await toArray(store.pins())).toEqual([])
  })
})

describe('unpin and gc', () => {
  it('deletes the blocks of an unpinned file but keeps blocks shared with a pinned one', async () => {
    const shared = random(2 * MiB)
    const a = random(3 * MiB + 10)
    a.set(shared, 0)
    const b = random(2 * MiB + 99)
    b.set(shared, 0)
    const addedA = await store.add(chunked(a))
    const addedB = await store.add(chunked(b))
    const leavesA = await linksOf(store, addedA.cid)
    const leavesB = await linksOf(store, addedB.cid)
    // Identical chunks dedupe to the same leaf blocks.
    expect(leavesA[0]!.equals(leavesB[0]!)).toBe(true)
    expect(leavesA[1]!.equals(leavesB[1]!)).toBe(true)
    // 2 shared leaves, A's 2 other leaves, B's other leaf, 2 roots.
    expect((await blockFiles(dir.path)).length).toBe(7)

    await store.unpin(addedA.cid)
    await store.unpin(addedA.cid) // idempotent
    const { removedBlocks } = await store.gc()
    expect(removedBlocks).toBe(3) // A's root and its two unshared leaves
    expect(await store.has(addedA.cid)).toBe(false)
    expect(await store.has(leavesA[2]!)).toBe(false)
    expect(await store.has(leavesA[3]!)).toBe(false)
    expect(await store.has(leavesA[0]!)).toBe(true)
    expect(same(await collect(store.cat(addedB.cid)), b)).toBe(true)
    expect((await blockFiles(dir.path)).length).toBe(4)

    await store.unpin(addedB.cid)
    await store.gc()
    expect(await blockFiles(dir.path)).toEqual([])
  })

  it('keeps shared blocks after unpin, re-pin and unpin of the other file', async () => {
    // The sequence that loses shared blocks with helia 7's reference-counted pins.
    const shared = random(MiB)
    const a = new Uint8Array(2 * MiB)
    a.set(shared, 0)
    a.set(random(MiB), MiB)
    const b = new Uint8Array(2 * MiB)
    b.set(shared, 0)
    b.set(random(MiB), MiB)
    const addedA = await store.add(chunked(a))
    const addedB = await store.add(chunked(b))
    await store.unpin(addedA.cid)
    await store.add(chunked(a))
    await store.unpin(addedB.cid)
    await store.gc()
    expect(same(await collect(store.cat(addedA.cid)), a)).toBe(true)
  })

  it('does not delete the blocks of an upload that is still in progress', async () => {
    const bytes = random(21 * MiB)
    let resume!: () => void
    const paused = new Promise<void>((resolve) => {
      resume = resolve
    })
    let reachedPause!: () => void
    const atPause = new Promise<void>((resolve) => {
      reachedPause = resolve
    })
    async function* slow() {
      yield bytes.subarray(0, 20 * MiB)
      reachedPause()
      await paused
      yield bytes.subarray(20 * MiB)
    }
    const adding = store.add(slow())
    await atPause
    // Give the importer time to write what it has.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect((await blockFiles(dir.path)).length).toBeGreaterThan(0)
    expect(await store.gc()).toEqual({ removedBlocks: 0 })
    resume()
    const { cid } = await adding
    expect(await store.gc()).toEqual({ removedBlocks: 0 })
    expect(same(await collect(store.cat(cid)), bytes)).toBe(true)
  })
})
