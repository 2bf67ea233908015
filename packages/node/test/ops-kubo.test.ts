import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import { closeRecord, openRecord, readRecordFile, uploadRecord } from '@pcmims/core'
import { defaultConfig, startNode } from '@pcmims/node'
import { startTestNode, type TestNode } from '@pcmims/test-utils'
import { create as createIpfs, type IPFS } from 'ipfs-core'
import { HttpApi } from 'ipfs-http-server'
import { create as createKuboClient } from 'kubo-rpc-client'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type BlobStore,
  BlockNotFoundError,
  CidMismatchError,
  createBlobStore,
  createKuboBlobStore,
  InvalidBlockError,
  IpfsUnavailableError,
  StoreClosedError,
  TooLargeError,
} from '../src/storage/index.js'
import { collect, memoryFile } from './helpers.js'

// The peer is a real implementation of the Kubo RPC API, not a stand-in: js-ipfs (ipfs-core 0.18 with
// its HTTP API server ipfs-http-server 0.15, the last release of the JavaScript IPFS daemon). Kubo
// itself is a Go binary that no npm or Debian package ships (the `kubo` npm package downloads it at
// install time), so it cannot run here. Differences that matter: js-ipfs ignores `offline=true` (a
// read of a missing block waits for the request timeout, so `blockTimeoutMs` is short below) and
// `max-file-links` (files over 174 MiB would get another CID than the embedded store gives; the sizes
// here stay below that).

const MiB = 1024 * 1024
const random = (size: number) => new Uint8Array(randomBytes(size))

type Peer = { url: string; ipfs: IPFS; api: HttpApi; dir: string; stop(): Promise<void> }

async function startPeer(): Promise<Peer> {
  const dir = await mkdtemp(join(tmpdir(), 'pcmims-kubo-peer-'))
  const ipfs = await createIpfs({
    repo: dir,
    offline: true,
    silent: true,
    start: true,
    init: { emptyRepo: true, algorithm: 'Ed25519' },
    preload: { enabled: false },
    config: {
      Addresses: {
        API: '/ip4/127.0.0.1/tcp/0',
        Gateway: '',
        RPC: '',
        Swarm: [],
        Delegates: [],
        Announce: [],
        NoAnnounce: [],
      },
      Bootstrap: [],
      Discovery: { MDNS: { Enabled: false }, webRTCStar: { Enabled: false } },
      Pubsub: { Enabled: false },
      Routing: { Type: 'none' },
    },
  } as never)
  const api = new HttpApi(ipfs)
  await api.start()
  const port = api.apiAddr.nodeAddress().port
  let stopped = false
  return {
    url: `http://127.0.0.1:${port}`,
    ipfs,
    api,
    dir,
    async stop() {
      if (stopped) return
      stopped = true
      await api.stop()
      await ipfs.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

async function* pieces(bytes: Uint8Array, size = 300_001): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size)
}

async function pinSet(store: BlobStore): Promise<string[]> {
  const out: string[] = []
  for await (const pin of store.pins()) out.push(`${pin.type} ${pin.cid.toString()}`)
  return out.sort()
}

describe('the Kubo RPC blob store, against a real Kubo RPC API implementation', () => {
  let peer: Peer
  let kubo: BlobStore
  let embedded: BlobStore
  let embeddedDir: string

  beforeAll(async () => {
    peer = await startPeer()
    kubo = createKuboBlobStore({ url: peer.url, blockTimeoutMs: 300 })
    embeddedDir = await mkdtemp(join(tmpdir(), 'pcmims-kubo-embedded-'))
    embedded = await createBlobStore({ directory: embeddedDir })
  })
  afterAll(async () => {
    await kubo?.stop()
    await embedded?.stop()
    await peer?.stop()
    await rm(embeddedDir, { recursive: true, force: true })
  })

  it('imports with the same CIDs as the embedded store and reads back whole, by range and by block', async () => {
    for (const size of [0, 1_000, MiB, 3 * MiB + 12_345]) {
      const content = random(size)
      const viaKubo = await kubo.add(pieces(content))
      const viaHelia = await embedded.add(pieces(content))
      expect(viaKubo.cid.toString(), `size ${size}`).toBe(viaHelia.cid.toString())
      expect(viaKubo.size).toBe(size)
      expect(await kubo.stat(viaKubo.cid)).toEqual(await embedded.stat(viaHelia.cid))
      expect(Buffer.from(await collect(kubo.cat(viaKubo.cid))).equals(Buffer.from(content))).toBe(true)
      if (size > MiB) {
        // A range across the first leaf boundary.
        const part = await collect(kubo.cat(viaKubo.cid, { offset: MiB - 5, length: 10 }))
        expect(Buffer.from(part).equals(Buffer.from(content.subarray(MiB - 5, MiB + 5)))).toBe(true)
        expect(Buffer.from(await kubo.getBlock(viaKubo.cid))).toEqual(
          Buffer.from(await embedded.getBlock(viaHelia.cid)),
        )
      }
      expect(await kubo.has(viaKubo.cid)).toBe(true)
      expect(await pinSet(kubo)).toContain(`recursive ${viaKubo.cid.toString()}`)
    }
  })

  it('stores DAG-CBOR blocks pinned directly, checks their CIDs, unpins idempotently and collects garbage', async () => {
    const block = dagCbor.encode({ kind: 'pcmims/test', nonce: random(16) })
    const cid = await kubo.putBlock(block, { codec: 'dag-cbor' })
    expect(cid.toString()).toBe((await embedded.putBlock(block, { codec: 'dag-cbor' })).toString())
    expect(Buffer.from(await kubo.getBlock(cid)).equals(Buffer.from(block))).toBe(true)
    expect(await pinSet(kubo)).toContain(`direct ${cid.toString()}`)

    const other = dagCbor.encode({ other: true })
    await expect(kubo.putBlockWithCid(cid, other)).rejects.toBeInstanceOf(CidMismatchError)
    const nonCanonical = new Uint8Array([0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02]) // keys out of order
    await expect(kubo.putBlock(nonCanonical, { codec: 'dag-cbor' })).rejects.toBeInstanceOf(InvalidBlockError)
    expect((await kubo.putBlockWithCid(cid, block)).toString()).toBe(cid.toString())

    await kubo.unpin(cid)
    await kubo.unpin(cid)
    expect(await pinSet(kubo)).not.toContain(`direct ${cid.toString()}`)
    const { removedBlocks } = await kubo.gc()
    expect(removedBlocks).toBeGreaterThanOrEqual(1)
    expect(await kubo.has(cid)).toBe(false)
    await expect(kubo.getBlock(cid)).rejects.toBeInstanceOf(BlockNotFoundError)
    await expect(collect(kubo.cat(cid))).rejects.toBeInstanceOf(BlockNotFoundError)
  })

  it('pins nothing when an upload is too large or aborted', async () => {
    const before = await pinSet(kubo)
    await expect(kubo.add(pieces(random(3 * MiB)), { maxBytes: 2 * MiB })).rejects.toBeInstanceOf(
      TooLargeError,
    )

    const controller = new AbortController()
    const stalled = async function* () {
      yield random(1_500_000)
      controller.abort(new Error('client went away'))
      await new Promise((resolve) => setTimeout(resolve, 5_000))
      yield random(10)
    }
    await expect(kubo.add(stalled(), { signal: controller.signal })).rejects.toThrow('client went away')
    // The peer may still be finishing the request it saw cut.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await pinSet(kubo)).toEqual(before)
  })

  it('says so when the RPC API cannot be reached, and refuses use after stop', async () => {
    const nowhere = createKuboBlobStore({ url: 'http://127.0.0.1:1', probeTimeoutMs: 1_000 })
    expect(await nowhere.health?.()).toMatchObject({ mode: 'kubo', ok: false, error: 'unreachable' })
    await expect(nowhere.add(pieces(random(10)))).rejects.toBeInstanceOf(IpfsUnavailableError)
    await expect(
      nowhere.getBlock(CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')),
    ).rejects.toBeInstanceOf(IpfsUnavailableError)
    await nowhere.stop()
    await expect(nowhere.add(pieces(random(10)))).rejects.toBeInstanceOf(StoreClosedError)
    expect(await nowhere.health?.()).toMatchObject({ ok: false, error: 'stopped' })
  })
})

describe('a node with ipfs.mode "kubo"', () => {
  let peer: Peer
  let t: TestNode

  beforeAll(async () => {
    peer = await startPeer()
    t = await startTestNode({ config: { ipfs: { mode: 'kubo', rpcUrl: peer.url } } })
  })
  afterAll(async () => {
    await t?.stop()
    await peer?.stop()
  })

  it('stores a record on the Kubo peer and serves it back decrypted; health shows the peer', async () => {
    const health = await (await fetch(`${t.node.url}/api/v1/health`)).json()
    expect(health).toMatchObject({ status: 'ok', ipfs: { mode: 'kubo', ok: true, version: '0.18.1' } })
    expect(JSON.stringify(health)).not.toContain(peer.url)

    const uploader = await t.clientFor(t.dev.uploader!)
    const patient = await t.clientFor(t.dev.patient!)
    const content = random(2 * MiB + 777)
    const uploaded = await uploadRecord(uploader, {
      patient: patient.account.address,
      kind: 'MRI',
      files: [memoryFile('series/IM1.dcm', content)],
    })
    expect(uploaded.status).toBe('confirmed')
    const record = await openRecord(patient, { recordId: uploaded.recordId })
    const bytes = await collect(readRecordFile(patient, { record, file: record.manifest.files[0]! }))
    closeRecord(record)
    expect(Buffer.from(bytes).equals(Buffer.from(content))).toBe(true)

    // The ciphertext, manifest and envelope live (pinned) on the peer, not in the node's data directory.
    const client = createKuboClient({ url: peer.url })
    const pins: string[] = []
    for await (const pin of client.pin.ls()) pins.push(pin.cid.toString())
    for (const cid of [uploaded.envelopeCid, uploaded.manifestCid, uploaded.files[0]!.cid]) {
      expect(pins).toContain(CID.parse(cid).toString())
    }

    // The peer goes away: the node reports it and says 503, it does not hang.
    await peer.api.stop()
    const down = await fetch(`${t.node.url}/api/v1/health`)
    expect(down.status).toBe(503)
    expect(await down.json()).toMatchObject({ status: 'degraded', ipfs: { mode: 'kubo', ok: false } })
  })

  it('does not start when the Kubo RPC API is unreachable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pcmims-kubo-none-'))
    try {
      await expect(
        startNode({
          config: {
            ...defaultConfig(dir),
            port: 0,
            chain: { mode: 'embedded', port: 0, chainId: 31337, stateInterval: 1 },
            ipfs: { mode: 'kubo', rpcUrl: 'http://127.0.0.1:1' },
            logLevel: 'silent',
          },
        }),
      ).rejects.toMatchObject({ code: 'IPFS_UNAVAILABLE' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
