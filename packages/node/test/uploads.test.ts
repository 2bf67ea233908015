import { appendFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { createNodeClient, type PcmimsClient, uploadBlobResumable } from '@pcmims/core'
import type { NodeContext } from '@pcmims/node'
import { startTestNode, type TestIdentity, type TestNode } from '@pcmims/test-utils'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NotFoundError } from '../src/http/errors.js'
import { errorToResponse } from '../src/http/problem.js'
import { uploadRoutes } from '../src/http/routes/uploads.js'

const MiB = 1024 * 1024
const TUS = { 'tus-resumable': '1.0.0' }

/**
 * The upload routes of a running node on a server of their own, until the node's app mounts them: the
 * same context (database, blob store, sessions, chain), so a session of the node is good here too.
 */
async function serveUploads(ctx: NodeContext): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Hono()
  uploadRoutes(app, ctx)
  app.notFound(() => errorToResponse(new NotFoundError('No such route'), ctx.logger, 'test'))
  app.onError((error) => errorToResponse(error, ctx.logger, 'test'))
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        ;(server as unknown as { closeAllConnections(): void }).closeAllConnections()
      }),
  }
}

/** A client of the node whose upload requests go to `url`, signed in with the node. */
async function uploadsClient(
  t: TestNode,
  who: TestIdentity,
  url: string,
  fetchImpl?: typeof fetch,
): Promise<PcmimsClient & { token: string }> {
  const base = await t.clientFor(who)
  const session = await base.node.signIn()
  const node = createNodeClient({
    url,
    account: who.account,
    session,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  })
  return { ...base, node, token: session.token }
}

/** Incompressible but cheap bytes (xorshift). */
function pseudoRandom(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const words = new Uint32Array(Math.ceil(size / 4))
  let x = seed >>> 0 || 1
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    words[i] = x >>> 0
  }
  return new Uint8Array(words.buffer, 0, size)
}

async function oneShot(client: PcmimsClient, body: Uint8Array): Promise<{ cid: string; size: number }> {
  const response = await client.node.raw('POST', '/api/v1/blobs', {
    body,
    contentType: 'application/octet-stream',
  })
  return (await response.json()) as { cid: string; size: number }
}

const mbps = (bytes: number, ms: number) => Math.round((bytes / MiB / (ms / 1000)) * 10) / 10

describe('resumable uploads (tus 1.0) on a real node', () => {
  let t: TestNode
  let uploads: { url: string; close(): Promise<void> }
  beforeAll(async () => {
    t = await startTestNode()
    uploads = await serveUploads(t.node.context)
  })
  afterAll(async () => {
    await uploads?.close()
    await t?.stop()
  })

  const uploadsDir = () => join(t.dataDir, 'uploads')

  it('a 100 MB upload cut off mid-chunk resumes and ends with the CID of a one-shot upload', async () => {
    const size = 100 * MiB
    const content = pseudoRandom(size, 42)
    const uploader = await t.clientFor(t.dev.uploader!)

    let started = performance.now()
    const direct = await oneShot(uploader, content)
    const oneShotMs = performance.now() - started
    expect(direct.size).toBe(size)

    // The fourth PATCH sends half its chunk, then the connection drops.
    const log: string[] = []
    let patches = 0
    const flaky: typeof fetch = async (input, init) => {
      const method = init?.method ?? 'GET'
      const offset = new Headers(init?.headers).get('upload-offset')
      if (method === 'PATCH' && ++patches === 4) {
        const body = init?.body as Uint8Array
        const cut = new AbortController()
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(body.slice(0, body.length / 2))
          },
          async pull() {
            await new Promise((resolve) => setTimeout(resolve, 300))
            cut.abort()
          },
        })
        await fetch(input, {
          ...init,
          body: stream,
          duplex: 'half',
          signal: cut.signal,
        } as RequestInit).catch(() => undefined)
        log.push(`PATCH ${offset} cut`)
        throw new TypeError('fetch failed')
      }
      const response = await fetch(input, init)
      if (method === 'HEAD') log.push(`HEAD ${response.headers.get('upload-offset')}`)
      if (method === 'PATCH') log.push(`PATCH ${offset} ${response.status}`)
      return response
    }
    const client = await uploadsClient(t, t.dev.uploader!, uploads.url, flaky)
    const progress: number[] = []
    started = performance.now()
    const resumed = await uploadBlobResumable(client, {
      source: content,
      chunkBytes: 8 * MiB,
      retryDelayMs: 10,
      onProgress: ({ bytes }) => progress.push(bytes),
    })
    const interruptedMs = performance.now() - started
    expect(resumed).toEqual(direct)
    // Nothing of the cut chunk was kept: the upload went on from where it was before it.
    expect(log.slice(3, 6)).toEqual([`PATCH ${24 * MiB} cut`, `HEAD ${24 * MiB}`, `PATCH ${24 * MiB} 204`])
    expect(progress.at(-1)).toBe(size)
    expect(progress).toEqual([...progress].sort((a, b) => a - b))

    // Other bytes, uninterrupted, for a fair speed figure: blocks already stored are not written again.
    const other = pseudoRandom(size, 43)
    const steady = await uploadsClient(t, t.dev.uploader!, uploads.url)
    started = performance.now()
    const steadyResult = await uploadBlobResumable(steady, { source: new Blob([other]), chunkBytes: 8 * MiB })
    const resumableMs = performance.now() - started
    expect(steadyResult).toEqual(await oneShot(uploader, other))

    const row = t.node.context.db
      .prepare('SELECT uploader, size, kind FROM blobs WHERE cid = ?')
      .get(direct.cid)
    expect(row).toMatchObject({ uploader: t.dev.uploader!.account.address, size, kind: 'blob' })
    expect(await readdir(uploadsDir())).not.toContainEqual(expect.stringMatching(/\.bin$/))
    console.info(
      `100 MiB: one-shot POST ${mbps(size, oneShotMs)} MB/s; resumable, 8 MiB chunks ${mbps(size, resumableMs)} MB/s; ` +
        `same bytes as the one-shot again, with one cut chunk ${mbps(size, interruptedMs)} MB/s`,
    )
  })

  it('speaks the protocol and refuses what it must, changing nothing', async () => {
    const owner = await uploadsClient(t, t.dev.uploader!, uploads.url)
    const other = await uploadsClient(t, t.dev.patient!, uploads.url)
    const medic = await uploadsClient(t, t.dev.medic!, uploads.url)
    const at = (path = '') => `${uploads.url}/api/v1/uploads${path}`
    const auth = (who: { token: string }, headers: Record<string, string> = {}) => ({
      ...TUS,
      authorization: `Bearer ${who.token}`,
      ...headers,
    })
    const problem = async (response: Response, status: number, code?: string) => {
      expect(response.status).toBe(status)
      expect(response.headers.get('content-type')).toBe('application/problem+json')
      if (code) expect(((await response.json()) as { code: string }).code).toBe(code)
    }

    const states = async () =>
      (await readdir(uploadsDir()).catch(() => [])).filter((n) => n.endsWith('.json'))
    const statesBefore = await states()

    const options = await fetch(at(), { method: 'OPTIONS' })
    expect(options.status).toBe(204)
    expect(options.headers.get('tus-version')).toBe('1.0.0')
    expect(options.headers.get('tus-extension')?.split(',')).toEqual([
      'creation',
      'termination',
      'expiration',
    ])
    expect(Number(options.headers.get('tus-max-size'))).toBe(t.node.config.limits.maxBlobBytes)

    const noVersion = await fetch(at(), {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}` },
    })
    await problem(noVersion, 412, 'TUS_VERSION')
    expect(noVersion.headers.get('tus-version')).toBe('1.0.0')
    await problem(await fetch(at(), { method: 'POST', headers: { ...TUS, 'upload-length': '10' } }), 401)
    await problem(
      await fetch(at(), { method: 'POST', headers: auth(medic, { 'upload-length': '10' }) }),
      403,
      'ACCESS_DENIED',
    )
    await problem(await fetch(at(), { method: 'POST', headers: auth(owner) }), 400)
    await problem(await fetch(at(), { method: 'POST', headers: auth(owner, { 'upload-length': '-1' }) }), 400)
    await problem(
      await fetch(at(), { method: 'POST', headers: auth(owner, { 'upload-length': '1e3' }) }),
      400,
    )
    const over = String(t.node.config.limits.maxBlobBytes + 1)
    await problem(
      await fetch(at(), { method: 'POST', headers: auth(owner, { 'upload-length': over }) }),
      413,
      'PAYLOAD_TOO_LARGE',
    )
    expect(await states()).toEqual(statesBefore)

    const created = await fetch(at(), { method: 'POST', headers: auth(owner, { 'upload-length': '1000' }) })
    expect(created.status).toBe(201)
    expect(created.headers.get('tus-resumable')).toBe('1.0.0')
    const location = created.headers.get('location') as string
    expect(location).toMatch(/^\/api\/v1\/uploads\/[0-9a-f]{32}$/)
    const expires = Date.parse(created.headers.get('upload-expires') as string)
    expect(expires).toBeGreaterThan(Date.now() + t.node.config.orphans.ttlMs - 60_000)
    const id = location.split('/').at(-1) as string
    const url = `${uploads.url}${location}`
    const data = join(uploadsDir(), `${id}.bin`)
    const patch = (headers: Record<string, string>, body: BodyInit | null, who = owner) =>
      fetch(url, {
        method: 'PATCH',
        headers: auth(who, { 'content-type': 'application/offset+octet-stream', ...headers }),
        body,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit)
    const offsetNow = async () => {
      const head = await fetch(url, { method: 'HEAD', headers: auth(owner) })
      expect(head.status).toBe(200)
      expect(head.headers.get('upload-length')).toBe('1000')
      expect((await stat(data)).size).toBe(Number(head.headers.get('upload-offset')))
      return Number(head.headers.get('upload-offset'))
    }

    expect(await offsetNow()).toBe(0)
    const first = await patch({ 'upload-offset': '0' }, new Uint8Array(300).fill(1))
    expect(first.status).toBe(204)
    expect(first.headers.get('upload-offset')).toBe('300')
    expect(first.headers.get('tus-resumable')).toBe('1.0.0')
    expect(first.headers.get('upload-expires')).toBeTruthy()

    await problem(await patch({ 'upload-offset': '0' }, new Uint8Array(10)), 409, 'OFFSET_MISMATCH')
    await problem(await patch({ 'upload-offset': '500' }, new Uint8Array(10)), 409, 'OFFSET_MISMATCH')
    await problem(await patch({ 'upload-offset': 'x' }, new Uint8Array(10)), 400)
    await problem(await patch({}, new Uint8Array(10)), 400)
    await problem(
      await patch({ 'upload-offset': '300', 'content-type': 'application/octet-stream' }, new Uint8Array(10)),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    )
    await problem(await patch({ 'upload-offset': '300' }, new Uint8Array(701)), 413, 'UPLOAD_LENGTH_EXCEEDED')
    // Chunked, so the overflow shows only while reading.
    const overflowing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(400).fill(2))
        controller.enqueue(new Uint8Array(400).fill(2))
        controller.close()
      },
    })
    await problem(await patch({ 'upload-offset': '300' }, overflowing), 413, 'UPLOAD_LENGTH_EXCEEDED')
    expect(await offsetNow()).toBe(300)

    // A body cut short of its Content-Length: the connection closes after 400 of 700 bytes.
    await new Promise<void>((resolve) => {
      const request = httpRequest(url, {
        method: 'PATCH',
        headers: auth(owner, {
          'content-type': 'application/offset+octet-stream',
          'upload-offset': '300',
          'content-length': '700',
        }),
      })
      request.on('error', () => resolve())
      request.write(new Uint8Array(400).fill(3), () => setTimeout(() => request.destroy(), 200))
    })
    expect(await offsetNow()).toBe(300)

    // Someone else's upload does not exist for them; nor does any other id.
    for (const method of ['HEAD', 'DELETE']) {
      expect((await fetch(url, { method, headers: auth(other) })).status).toBe(404)
    }
    await problem(await patch({ 'upload-offset': '300' }, new Uint8Array(10), other), 404, 'NOT_FOUND')
    await problem(await fetch(at(`/${'0'.repeat(32)}`), { method: 'DELETE', headers: auth(owner) }), 404)
    await problem(await fetch(at('/..%2F..%2Fnode.sqlite'), { method: 'DELETE', headers: auth(owner) }), 404)
    for (const method of ['HEAD', 'PATCH', 'DELETE']) {
      expect((await fetch(url, { method, headers: TUS })).status).toBe(401)
    }
    expect(await offsetNow()).toBe(300)

    const rest = await patch({ 'upload-offset': '300' }, new Uint8Array(700).fill(4))
    expect(rest.status).toBe(204)
    expect(rest.headers.get('upload-offset')).toBe('1000')
    const cid = rest.headers.get('pcmims-blob-cid')
    expect(cid).toMatch(/^bafk/)
    expect(rest.headers.get('pcmims-blob-size')).toBe('1000')
    expect(rest.headers.get('upload-expires')).toBeNull()
    const head = await fetch(url, { method: 'HEAD', headers: auth(owner) })
    expect(head.headers.get('pcmims-blob-cid')).toBe(cid)
    expect(head.headers.get('upload-offset')).toBe('1000')
    const expected = new Uint8Array(1000).fill(1, 0, 300).fill(4, 300)
    expect(await oneShot(await t.clientFor(t.dev.uploader!), expected)).toEqual({ cid, size: 1000 })

    const removed = await fetch(url, { method: 'DELETE', headers: auth(owner) })
    expect(removed.status).toBe(204)
    expect((await fetch(url, { method: 'HEAD', headers: auth(owner) })).status).toBe(404)
    expect((await readdir(uploadsDir())).filter((n) => n.startsWith(id))).toEqual([])
  })

  it('an empty upload is refused, as an empty one-shot blob is: a blob has at least one byte', async () => {
    const owner = await uploadsClient(t, t.dev.uploader!, uploads.url)
    const resumable = await uploadBlobResumable(owner, { source: new Uint8Array() }).catch((e: unknown) => e)
    expect((resumable as { status?: number }).status).toBe(400)
    const direct = await oneShot(await t.clientFor(t.dev.uploader!), new Uint8Array()).catch(
      (e: unknown) => e,
    )
    expect((direct as { status?: number }).status).toBe(400)
  })
})

describe('a resumable upload survives a node restart', () => {
  let dataDir: string | undefined
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it('the upload goes on from the acknowledged offset after the node stopped mid-chunk', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pcmims-uploads-restart-'))
    const size = 20 * MiB
    const content = pseudoRandom(size, 7)
    const opened: number[] = []
    const source = async function* (offset: number) {
      opened.push(offset)
      for (let i = offset; i < size; i += 1_000_003) yield content.subarray(i, Math.min(size, i + 1_000_003))
    }

    let t = await startTestNode({ dataDir })
    let uploads = await serveUploads(t.node.context)
    let location: string | undefined
    try {
      const client = await uploadsClient(t, t.dev.uploader!, uploads.url)
      const stop = new AbortController()
      await expect(
        uploadBlobResumable(client, {
          source,
          size,
          chunkBytes: 4 * MiB,
          signal: stop.signal,
          onCreated: (at) => {
            location = at
          },
          onProgress: ({ bytes }) => {
            if (bytes >= 12 * MiB) stop.abort()
          },
        }),
      ).rejects.toThrow()
      expect(location).toBeDefined()
      const id = (location as string).split('/').at(-1) as string
      const data = join(dataDir, 'uploads', `${id}.bin`)
      expect((await stat(data)).size).toBe(12 * MiB)

      // A chunk in flight when the node goes down: 1 MiB of it arrives, then the server closes.
      const cut = new Promise<void>((resolve) => {
        const request = httpRequest(`${uploads.url}${location}`, {
          method: 'PATCH',
          headers: {
            ...TUS,
            authorization: `Bearer ${client.token}`,
            'content-type': 'application/offset+octet-stream',
            'upload-offset': String(12 * MiB),
            'content-length': String(4 * MiB),
          },
        })
        request.on('error', () => resolve())
        request.on('response', () => resolve())
        request.write(content.subarray(12 * MiB, 13 * MiB))
      })
      await new Promise((resolve) => setTimeout(resolve, 300))
      await uploads.close()
      await cut
      await t.stop({ keepData: true })
      // What a crash mid-write can leave: bytes past the acknowledged offset.
      await appendFile(data, new Uint8Array(123_456).fill(0xee))

      t = await startTestNode({ dataDir })
      uploads = await serveUploads(t.node.context)
      const again = await uploadsClient(t, t.dev.uploader!, uploads.url)
      opened.length = 0
      const done = await uploadBlobResumable(again, { source, size, chunkBytes: 4 * MiB, upload: location })
      expect(opened).toEqual([12 * MiB])
      expect(done).toEqual(await oneShot(await t.clientFor(t.dev.uploader!), content))
    } finally {
      await uploads.close()
      await t.stop({ keepData: true })
    }
  })
})
