import { signRequest, UNSIGNED_PAYLOAD, uploadRecord } from '@pcmims/core'
import { startTestNode, type TestNode } from '@pcmims/test-utils'
import type { LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryFile } from './helpers.js'

/** Hostile HTTP input: every answer is a clear 4xx problem+json and nothing is stored. */
describe('the node refuses malformed requests', () => {
  let t: TestNode
  let recordId: string

  beforeAll(async () => {
    t = await startTestNode({ config: { limits: { maxBlobBytes: 64 * 1024, maxJsonBytes: 16 * 1024 } } })
    const uploader = await t.clientFor(t.dev.uploader!)
    recordId = (
      await uploadRecord(uploader, {
        patient: t.dev.patient!.account.address,
        kind: 'XRAY',
        files: [memoryFile('x.dcm', new Uint8Array(1000))],
      })
    ).recordId
  })
  afterAll(async () => {
    await t?.stop()
  })

  const stored = () => {
    const db = t.node.context.db
    return {
      blobs: (db.prepare('SELECT COUNT(*) AS n FROM blobs').get() as { n: number }).n,
      outbox: (db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n,
    }
  }

  async function signed(
    method: string,
    path: string,
    body?: Uint8Array | string,
    options: {
      account?: LocalAccount
      timestamp?: number
      digest?: string
      headers?: Record<string, string>
    } = {},
  ): Promise<Response> {
    const url = `${t.node.url}${path}`
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body
    const { createHash } = await import('node:crypto')
    const digest =
      options.digest ??
      createHash('sha256')
        .update(bytes ?? new Uint8Array())
        .digest('hex')
    const account = options.account ?? t.dev.uploader!.account
    const authorization = await signRequest({
      account,
      method,
      url,
      bodyDigest: digest,
      timestamp: options.timestamp ?? Date.now(),
    })
    return fetch(url, {
      method,
      body: (bytes as BodyInit | undefined) ?? null,
      headers: { authorization, 'content-type': 'application/json', ...options.headers },
    })
  }

  async function expectProblem(response: Response, status: number, code?: string) {
    expect(response.status).toBe(status)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    const body = (await response.json()) as { code: string; title: string; detail?: string }
    if (code) expect(body.code).toBe(code)
    expect(JSON.stringify(body)).not.toMatch(/at .*\.js:\d+|node_modules|stack/i)
    return body
  }

  it('no signature, a forged signer, a stale signature, a body that differs from the signed one', async () => {
    const before = stored()
    await expectProblem(
      await fetch(`${t.node.url}/api/v1/records?patient=${t.dev.patient!.account.address}`),
      401,
      'UNAUTHENTICATED',
    )
    const forged = await signed(
      'GET',
      `/api/v1/records?patient=${t.dev.patient!.account.address}`,
      undefined,
      {
        account: privateKeyToAccount(generatePrivateKey()),
      },
    )
    // A valid signature by an unregistered key: authenticated, then refused by the chain.
    await expectProblem(forged, 403, 'ACCESS_DENIED')
    const tampered = await fetch(`${t.node.url}/api/v1/records`, {
      headers: {
        authorization: (
          await signRequest({
            account: t.dev.patient!.account,
            method: 'GET',
            url: `${t.node.url}/api/v1/records`,
            bodyDigest: UNSIGNED_PAYLOAD,
            timestamp: Date.now(),
          })
        ).replace(/signature=0x(..)/, (_m, b) => `signature=0x${b === 'ff' ? '00' : 'ff'}`),
      },
    })
    await expectProblem(tampered, 401, 'UNAUTHENTICATED')
    await expectProblem(
      await signed('GET', '/api/v1/records', undefined, { timestamp: Date.now() - 3_600_000 }),
      401,
      'UNAUTHENTICATED',
    )
    await expectProblem(
      await signed('POST', '/api/v1/records', '{"a":1}', { digest: 'ab'.repeat(32) }),
      401,
      'UNAUTHENTICATED',
    )
    expect(stored()).toEqual(before)
  })

  it('a request signed for another node is refused, whatever Host header it carries', async () => {
    const { request } = await import('node:http')
    const other = 'http://127.0.0.1:9/api/v1/records'
    const authorization = await signRequest({
      account: t.dev.patient!.account,
      method: 'GET',
      url: other,
      bodyDigest: UNSIGNED_PAYLOAD,
      timestamp: Date.now(),
    })
    const target = new URL(`${t.node.url}/api/v1/records`)
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          headers: { authorization, host: '127.0.0.1:9' },
        },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', reject)
      req.end()
    })
    expect(status).toBe(401)
  })

  it('bad JSON, wrong types, oversized bodies', async () => {
    const before = stored()
    await expectProblem(await signed('POST', '/api/v1/records', '{"envelope":'), 400, 'INVALID_JSON')
    await expectProblem(
      await signed('POST', '/api/v1/records', JSON.stringify({ envelope: 5, blobs: 'x' })),
      400,
      'BAD_REQUEST',
    )
    await expectProblem(
      await signed('POST', '/api/v1/records', JSON.stringify({ envelope: '!!notbase64', blobs: ['x'] })),
      400,
    )
    await expectProblem(
      await signed('POST', '/api/v1/records', JSON.stringify({ envelope: 'AAAA', blobs: ['x'] })),
      400,
      'INVALID_FORMAT',
    )
    await expectProblem(
      await signed('POST', '/api/v1/records', 'x'.repeat(17 * 1024)),
      413,
      'PAYLOAD_TOO_LARGE',
    )
    expect(stored()).toEqual(before)
  })

  it('an oversized blob is refused and nothing of it is kept', async () => {
    const before = stored()
    const big = new Uint8Array(100 * 1024)
    const response = await signed('POST', '/api/v1/blobs', big, {
      digest: UNSIGNED_PAYLOAD,
      headers: { 'content-type': 'application/octet-stream' },
    })
    await expectProblem(response, 413)
    // Streamed without a length: refused while streaming.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(16 * 1024))
        controller.close()
      },
    })
    const url = `${t.node.url}/api/v1/blobs`
    const authorization = await signRequest({
      account: t.dev.uploader!.account,
      method: 'POST',
      url,
      bodyDigest: UNSIGNED_PAYLOAD,
      timestamp: Date.now(),
    })
    const chunked = await fetch(url, {
      method: 'POST',
      body: stream,
      headers: { authorization },
      duplex: 'half',
    } as RequestInit)
    await expectProblem(chunked, 413)
    expect(stored()).toEqual(before)
  })

  it('bad ids, CIDs and addresses', async () => {
    await expectProblem(await signed('GET', '/api/v1/records/0x1234'), 400)
    await expectProblem(
      await signed('GET', `/api/v1/records/${recordId}/blobs/not-a-cid`),
      400,
      'INVALID_CID',
    )
    await expectProblem(await signed('GET', '/api/v1/records?patient=0xnothex'), 400)
    await expectProblem(await signed('GET', '/api/v1/participants/0x12'), 400)
    await expectProblem(await signed('PUT', '/api/v1/blocks/bafkqaaa', new Uint8Array([1, 2, 3])), 400)
    await expectProblem(await signed('GET', '/api/v1/no-such-route'), 404, 'NOT_FOUND')
  })

  it('a block whose bytes do not hash to its CID is refused', async () => {
    const before = stored()
    const cid = 'bafyreia5dgalvpix55oafnfwj43u53uwieubcsfduep6kwjv6pxa7shaka'
    await expectProblem(
      await signed('PUT', `/api/v1/blocks/${cid}`, new Uint8Array([0xa0]), {
        account: t.dev.patient!.account,
      }),
      400,
    )
    expect(stored()).toEqual(before)
  })

  it('a huge header is refused', async () => {
    const response = await fetch(`${t.node.url}/api/v1/version`, {
      headers: { 'x-filler': 'a'.repeat(64 * 1024) },
    })
    expect(response.status).toBeGreaterThanOrEqual(400)
    expect(response.status).toBeLessThan(500)
  })
})
