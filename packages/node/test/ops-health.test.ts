import { startTestChain, startTestNode, type TestChain } from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RpcNode, startRpcNode } from './rpc-node.js'
import { startTcpForwarder, type TcpForwarder } from './tcp-forwarder.js'

type Health = {
  status: 'ok' | 'degraded'
  chain: { ok: boolean; reachable: boolean; blockNumber: number | null; latencyMs: number; chainId: number }
  ipfs: { mode: string; ok: boolean; latencyMs?: number; error?: string }
  outbox: {
    queued: number
    submitted: number
    confirmed: number
    failed: number
    oldestQueuedAgeS: number | null
  }
  indexer: { lastBlock: number | null; lagBlocks: number | null }
  uptimeS: number
  version: string
}

async function health(url: string): Promise<{ status: number; body: Health; text: string }> {
  const response = await fetch(`${url}/api/v1/health`)
  const text = await response.text()
  return { status: response.status, body: JSON.parse(text) as Health, text }
}

/** Nothing the health answer shows may tell where the node keeps its data or how it reaches things. */
function expectNothingPrivate(text: string, secrets: string[]): void {
  for (const secret of secrets) expect(text).not.toContain(secret)
  expect(text).not.toMatch(/\/tmp\/|pcmims-|keystore|passphrase|127\.0\.0\.1/)
}

describe('GET /api/v1/health', () => {
  let chain: TestChain
  let forwarder: TcpForwarder
  let rpc: RpcNode
  let chainStopped = false

  beforeAll(async () => {
    chain = await startTestChain()
    // The node reaches anvil through a forwarder the test can cut and restore.
    forwarder = await startTcpForwarder({ target: chain.rpcUrl })
    rpc = await startRpcNode({ chain, rpcUrl: forwarder.url })
  })
  afterAll(async () => {
    await rpc?.stop()
    await forwarder?.close()
    if (!chainStopped) await chain?.stop()
  })

  it('reports chain, IPFS, outbox and indexer state; 503 while the chain is unreachable, 200 when it is back', async () => {
    const secrets = [rpc.dataDir, forwarder.url, chain.rpcUrl, rpc.node.config.unit.keystore ?? 'none']
    const up = await health(rpc.node.url)
    expect(up.status).toBe(200)
    expect(up.body).toMatchObject({
      status: 'ok',
      chain: { ok: true, reachable: true, chainId: 31337 },
      ipfs: { mode: 'embedded', ok: true },
      outbox: { queued: 0, submitted: 0, failed: 0, oldestQueuedAgeS: null },
      version: rpc.node.context.version,
    })
    const head = Number(await chain.publicClient.getBlockNumber())
    expect(up.body.chain.blockNumber).toBe(head)
    expect(up.body.indexer.lastBlock).toBeGreaterThanOrEqual(0)
    expect(up.body.indexer.lagBlocks).toBe(head - (up.body.indexer.lastBlock ?? 0))
    expect(up.body.uptimeS).toBeGreaterThanOrEqual(0)
    expectNothingPrivate(up.text, secrets)

    await forwarder.cut()
    // An anchor waiting for the chain: the age of the oldest one tells an operator how long it waited.
    const queuedAt = Date.now() - 90_000
    rpc.node.context.db
      .prepare(
        `INSERT INTO outbox (record_id, envelope_cid, patient, uploader, kind, previous, state, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'CT', NULL, 'queued', ?, ?)`,
      )
      .run(
        `0x${'ab'.repeat(32)}`,
        'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
        chain.accounts[1]!.address,
        chain.accounts[2]!.address,
        queuedAt,
        queuedAt,
      )
    const down = await health(rpc.node.url)
    expect(down.status).toBe(503)
    expect(down.body).toMatchObject({
      status: 'degraded',
      chain: { ok: false, reachable: false, blockNumber: null, chainId: 31337 },
      ipfs: { mode: 'embedded', ok: true },
      indexer: { lagBlocks: null },
    })
    expect(down.body.chain.latencyMs).toBeLessThan(5_000)
    expect(down.body.outbox.queued).toBe(1)
    expect(down.body.outbox.oldestQueuedAgeS).toBeGreaterThanOrEqual(90)
    expect(down.body.outbox.oldestQueuedAgeS).toBeLessThan(200)
    expectNothingPrivate(down.text, secrets)
    // Made up, so never to be sent once the chain is back.
    rpc.node.context.db.prepare(`DELETE FROM outbox WHERE record_id = ?`).run(`0x${'ab'.repeat(32)}`)

    await forwarder.restore()
    const back = await health(rpc.node.url)
    expect(back.status).toBe(200)
    expect(back.body).toMatchObject({ status: 'ok', chain: { reachable: true }, outbox: { queued: 0 } })

    // anvil itself stopped: the node says so instead of hanging.
    chainStopped = true
    await chain.stop()
    const stopped = await health(rpc.node.url)
    expect(stopped.status).toBe(503)
    expect(stopped.body.chain.reachable).toBe(false)
  })
})

describe('GET /api/v1/health on an embedded node whose store stopped', () => {
  it('is degraded (503) once the content store is closed', async () => {
    const t = await startTestNode()
    try {
      expect((await health(t.node.url)).status).toBe(200)
      await t.node.context.store.stop()
      const closed = await health(t.node.url)
      expect(closed.status).toBe(503)
      expect(closed.body).toMatchObject({
        status: 'degraded',
        chain: { reachable: true },
        ipfs: { mode: 'embedded', ok: false, error: 'stopped' },
      })
    } finally {
      await t.stop()
    }
  })
})
