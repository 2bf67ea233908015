import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import { FsDatastore } from 'datastore-fs'
import { Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { DurableFsBlockstore, DurableFsDatastore } from './durable-fs.js'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pcmims-durable-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function bytesOf(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Buffer> {
  const pieces: Uint8Array[] = []
  for await (const piece of source) pieces.push(piece)
  return Buffer.concat(pieces)
}

it('writes blocks where blockstore-fs reads them, with nothing left over', async () => {
  const store = new DurableFsBlockstore(path.join(dir, 'blocks'))
  await store.open()
  const bytes = new Uint8Array(300_000).map((_, i) => i % 256)
  const cid = CID.createV1(raw.code, await sha256.digest(bytes))
  await store.put(cid, bytes)
  // Written from pieces too (the interface allows iterables).
  const other = new Uint8Array([1, 2, 3])
  const otherCid = CID.createV1(raw.code, await sha256.digest(other))
  await store.put(otherCid, [other.subarray(0, 1), other.subarray(1)])
  await store.syncBlocks([cid, otherCid])

  const plain = new FsBlockstore(path.join(dir, 'blocks'))
  await plain.open()
  expect((await bytesOf(plain.get(cid))).equals(bytes)).toBe(true)
  expect((await bytesOf(store.get(otherCid))).equals(other)).toBe(true)
  expect(await store.has(cid)).toBe(true)
  const files = await readdir(path.join(dir, 'blocks'), { recursive: true })
  expect(files.filter((name) => name.endsWith('.tmp'))).toEqual([])
  expect(files.filter((name) => name.endsWith('.data'))).toHaveLength(2)

  const absent = CID.createV1(raw.code, await sha256.digest(new Uint8Array([9])))
  await expect(bytesOf(store.get(absent))).rejects.toMatchObject({ name: 'NotFoundError' })
})

it('datastore puts and deletes are visible to datastore-fs', async () => {
  const store = new DurableFsDatastore(path.join(dir, 'datastore'))
  await store.open()
  const key = new Key('/pcmims/pins/abc')
  await store.put(key, new Uint8Array([7]))
  const plain = new FsDatastore(path.join(dir, 'datastore'))
  expect([...(await plain.get(key))]).toEqual([7])
  await store.delete(key)
  await store.delete(key)
  expect(await plain.has(key)).toBe(false)
})

it('removes temp files left by interrupted writes', async () => {
  const store = new DurableFsBlockstore(path.join(dir, 'blocks'))
  await store.open()
  const { writeFile, mkdir } = await import('node:fs/promises')
  await mkdir(path.join(dir, 'blocks', 'AB'), { recursive: true })
  await writeFile(path.join(dir, 'blocks', 'AB', '.CIQXYZ.data.123.1.tmp'), 'partial')
  expect(await store.removeStaleTempFiles()).toBe(1)
  expect(await readdir(path.join(dir, 'blocks', 'AB'))).toEqual([])
})
