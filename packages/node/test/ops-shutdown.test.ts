import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPcmimsClient, type PcmimsClient } from '@pcmims/core'
import { defaultConfig, type NodeHandle, startNode } from '@pcmims/node'
import { CLI, identity } from '@pcmims/test-utils'
import { CID } from 'multiformats/cid'
import { afterEach, describe, expect, it } from 'vitest'
import { collect } from './helpers.js'

const KiB = 1024

async function start(dataDir: string, drainTimeoutMs?: number): Promise<NodeHandle> {
  return startNode({
    config: {
      ...defaultConfig(dataDir),
      port: 0,
      chain: { mode: 'embedded', port: 0, chainId: 31337, stateInterval: 1 },
      logLevel: 'silent',
    },
    ...(drainTimeoutMs !== undefined ? { drainTimeoutMs } : {}),
  })
}

async function clientFor(node: NodeHandle, role: string): Promise<PcmimsClient> {
  const account = node.devAccounts.find((a) => a.role === role)
  if (!account) throw new Error(`no ${role} account`)
  const who = await identity(account.privateKey)
  const client = await createPcmimsClient({
    nodeUrl: node.url,
    account: who.account,
    encryptionKeyPair: who.encryptionKeyPair,
  })
  // Signed in beforehand, so the upload below is one request.
  await client.node.signIn()
  return client
}

/**
 * A request body that sends `pieces` pieces of `pieceBytes`, `delayMs` apart; `sent` counts them, so the
 * test knows the node is in the middle of the upload.
 */
function slowBody(bytes: Uint8Array, pieceBytes: number, delayMs: number) {
  let offset = 0
  const progress = { sent: 0 }
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (offset >= bytes.byteLength) {
        controller.close()
        return
      }
      if (offset > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
      controller.enqueue(bytes.slice(offset, offset + pieceBytes))
      offset += pieceBytes
      progress.sent++
    },
  })
  return { stream, progress }
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

async function pinned(node: NodeHandle): Promise<string[]> {
  const cids: string[] = []
  for await (const pin of node.context.store.pins()) cids.push(pin.cid.toString())
  return cids.sort()
}

function uploadStatus(client: PcmimsClient, body: ReadableStream<Uint8Array>) {
  return client.node.raw('POST', '/api/v1/blobs', { body, contentType: 'application/octet-stream' }).then(
    async (response) => ({
      status: response.status,
      body: (await response.json()) as { cid: string; size: number },
    }),
    (error: unknown) => ({ status: 0, error }),
  )
}

describe('graceful shutdown', () => {
  const dirs: string[] = []
  const nodes: NodeHandle[] = []
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pcmims-ops-'))
    dirs.push(dir)
    return dir
  }
  const track = (node: NodeHandle) => {
    nodes.push(node)
    return node
  }
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.stop()
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })

  it('lets an upload in flight finish and refuses new requests while it drains', async () => {
    const dataDir = await tempDir()
    const node = track(await start(dataDir))
    const client = await clientFor(node, 'uploader')
    const content = new Uint8Array(randomBytes(2 * 1024 * KiB))
    const { stream, progress } = slowBody(content, 256 * KiB, 120)
    const upload = uploadStatus(client, stream)
    await until(() => progress.sent >= 2)

    const stopped = node.stop()
    // The listener is closed at once: a new request is refused (503 on a kept-alive connection, or no
    // connection at all), never served.
    await new Promise((resolve) => setTimeout(resolve, 50))
    const late = await fetch(`${node.url}/api/v1/health`).then(
      (r) => r.status,
      () => 'refused',
    )
    expect([503, 'refused']).toContain(late)

    const answer = await upload
    expect(answer.status).toBe(201)
    expect(progress.sent).toBe(8)
    await stopped
    const { cid, size } = (answer as { body: { cid: string; size: number } }).body
    expect(size).toBe(content.byteLength)

    // Acknowledged means stored: after a restart the whole blob is there, pinned and owned.
    const again = track(await start(dataDir))
    expect(await pinned(again)).toContain(cid)
    const stored = await collect(again.context.store.cat(CID.parse(cid)))
    expect(Buffer.from(stored).equals(Buffer.from(content))).toBe(true)
    expect(again.context.db.prepare('SELECT size FROM blobs WHERE cid = ?').get(cid)).toMatchObject({
      size: content.byteLength,
    })
  })

  it('cuts an upload that outlasts the drain without storing any of it', async () => {
    const dataDir = await tempDir()
    const node = track(await start(dataDir, 300))
    const client = await clientFor(node, 'uploader')
    const before = await pinned(node)
    const blobsBefore = node.context.db.prepare('SELECT COUNT(*) AS n FROM blobs').get() as { n: number }
    // 5 MiB at 256 KiB every 200 ms: about 4 s, far longer than the 300 ms drain.
    const content = new Uint8Array(randomBytes(5 * 1024 * KiB))
    const { stream, progress } = slowBody(content, 256 * KiB, 200)
    const upload = uploadStatus(client, stream)
    await until(() => progress.sent >= 7)

    const started = Date.now()
    await node.stop()
    const stopMs = Date.now() - started
    const answer = await upload
    expect(answer.status).toBe(0)
    expect(progress.sent).toBeLessThan(20)
    // 300 ms of drain, then the rest of the shutdown (chain dump and stop); never the whole upload.
    expect(stopMs).toBeLessThan(10_000)

    const again = track(await start(dataDir))
    expect(await pinned(again)).toEqual(before)
    expect(again.context.db.prepare('SELECT COUNT(*) AS n FROM blobs').get()).toEqual(blobsBefore)
  })

  it('runs shutdown hooks after the server and workers stopped, while chain, database and store are open', async () => {
    const dataDir = await tempDir()
    const node = track(await start(dataDir))
    const seen: string[] = []
    node.onShutdown(async () => {
      seen.push('first')
      // The HTTP server no longer answers.
      const http = await fetch(`${node.url}/api/v1/health`).then(
        (r) => String(r.status),
        () => 'refused',
      )
      seen.push(`http ${http}`)
      seen.push(`db ${JSON.stringify(node.context.db.prepare('SELECT 1 AS one').get())}`)
      seen.push(`store ${(await node.context.store.health?.())?.ok}`)
      seen.push(`chain ${(await node.context.chain.reader.blockNumber()) >= 0n}`)
    })
    node.onShutdown(() => {
      throw new Error('a failing hook does not stop the shutdown')
    })
    const removed = node.onShutdown(() => {
      seen.push('removed hook ran')
    })
    removed()
    node.onShutdown((signal) => {
      seen.push(`last, aborted ${signal.aborted}`)
    })
    await node.stop()
    expect(seen).toEqual([
      'first',
      'http refused',
      'db {"one":1}',
      'store true',
      'chain true',
      'last, aborted false',
    ])
    // Stopped: the store and database are closed, the embedded chain dumped its state and exited.
    expect((await node.context.store.health?.())?.ok).toBe(false)
    expect(() => node.context.db.prepare('SELECT 1').get()).toThrow()
    expect(existsSync(join(dataDir, 'chain', 'anvil.pid'))).toBe(false)
    expect(existsSync(join(dataDir, 'chain', 'state.json'))).toBe(true)
  })

  it('`pcmims start` stops gracefully on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const dataDir = await tempDir()
      const child = spawn(
        process.execPath,
        [CLI, 'start', '--json', '--data-dir', dataDir, '--port', '0', '--chain-port', '0'],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PCMIMS_LOG_LEVEL: 'warn' } },
      )
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => {
        stdout += d
      })
      child.stderr.on('data', (d) => {
        stderr += d
      })
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
      let summary: { url: string } | undefined
      await until(() => {
        try {
          summary = JSON.parse(stdout) as { url: string }
          return true
        } catch {
          return child.exitCode !== null
        }
      }, 60_000)
      expect(summary?.url, stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect((await fetch(`${summary!.url}/api/v1/health`)).status).toBe(200)

      child.kill(signal)
      const code = await exited
      expect(code, stderr).toBe(0)
      expect(stderr).toContain(`${signal}: stopping`)
      expect(stderr).toContain('stopped')
      await expect(fetch(`${summary!.url}/api/v1/health`)).rejects.toThrow()
      // anvil was stopped by the node (after its final state dump), not left behind.
      expect(existsSync(join(dataDir, 'chain', 'anvil.pid'))).toBe(false)
      expect(existsSync(join(dataDir, 'chain', 'state.json'))).toBe(true)
    }
  })
})
