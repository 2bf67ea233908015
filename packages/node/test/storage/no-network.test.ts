import dgram from 'node:dgram'
import net from 'node:net'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import { BlockNotFoundError, createBlobStore } from '../../src/storage/index.js'
import { chunked, collect, MiB, random, tempDirectory } from './helpers.js'

let dir: { path: string; remove: () => Promise<void> }

beforeEach(async () => {
  dir = await tempDirectory()
})

afterEach(async () => {
  vi.restoreAllMocks()
  await dir.remove()
})

it('never opens a network connection, not even for content it does not have', async () => {
  // Every TCP client (net, tls, http, fetch/undici) goes through Socket#connect; mDNS and other UDP
  // through dgram sockets.
  const connect = vi.spyOn(net.Socket.prototype, 'connect')
  const listen = vi.spyOn(net.Server.prototype, 'listen')
  const bind = vi.spyOn(dgram.Socket.prototype, 'bind')
  const send = vi.spyOn(dgram.Socket.prototype, 'send')

  const store = await createBlobStore({ directory: dir.path })
  const bytes = random(2 * MiB + 1)
  const { cid } = await store.add(chunked(bytes))
  expect(Buffer.from(await collect(store.cat(cid))).equals(Buffer.from(bytes))).toBe(true)
  await store.putBlock(dagCbor.encode({ a: 1 }), { codec: 'dag-cbor' })
  // A CID nobody stored: an online node would ask the network; this one answers "not found" at once.
  const absent = CID.createV1(raw.code, await sha256.digest(random(8)))
  await expect(collect(store.cat(absent))).rejects.toBeInstanceOf(BlockNotFoundError)
  await store.unpin(cid)
  await store.gc()
  await store.stop()
  await new Promise((resolve) => setTimeout(resolve, 200))

  expect(connect).not.toHaveBeenCalled()
  expect(listen).not.toHaveBeenCalled()
  expect(bind).not.toHaveBeenCalled()
  expect(send).not.toHaveBeenCalled()

  // The spies do see connections (probing a local port only).
  const probe = net.connect({ host: '127.0.0.1', port: 9 })
  probe.on('error', () => {})
  probe.destroy()
  expect(connect).toHaveBeenCalled()
})
