import { createNodeClient, uploadRecord } from '@pcmims/core'
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

  const tokens = new Map<string, string>()
  async function tokenFor(account: LocalAccount): Promise<string> {
    let token = tokens.get(account.address)
    if (!token) {
      token = (await createNodeClient({ url: t.node.url, account }).signIn()).token
      tokens.set(account.address, token)
    }
    return token
  }

  async function signed(
    method: string,
    path: string,
    body?: Uint8Array | string | ReadableStream<Uint8Array>,
    options: { account?: LocalAccount; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const authorization = `Bearer ${await tokenFor(options.account ?? t.dev.uploader!.account)}`
    return fetch(`${t.node.url}${path}`, {
      method,
      body: (typeof body === 'string' ? new TextEncoder().encode(body) : body) ?? null,
      headers: { authorization, 'content-type': 'application/json', ...options.headers },
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit)
  }

  async function expectProblem(response: Response, status: number, code?: string) {
    expect(response.status).toBe(status)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    const body = (await response.json()) as { code: string; title: string; detail?: string }
    if (code) expect(body.code).toBe(code)
    expect(JSON.stringify(body)).not.toMatch(/at .*\.js:\d+|node_modules|stack/i)
    return body
  }

  it('no credential, an unknown or malformed token, an unregistered key', async () => {
    const before = stored()
    const records = `/api/v1/records?patient=${t.dev.patient!.account.address}`
    await expectProblem(await fetch(`${t.node.url}${records}`), 401, 'UNAUTHENTICATED')
    const unknown = await fetch(`${t.node.url}${records}`, {
      headers: { authorization: `Bearer ${'A'.repeat(43)}` },
    })
    await expectProblem(unknown, 401, 'UNAUTHENTICATED')
    for (const authorization of ['Basic Zm9vOmJhcg==', 'Bearer', 'Bearer a b', `Bearer ${'x'.repeat(500)}`]) {
      await expectProblem(await fetch(`${t.node.url}${records}`, { headers: { authorization } }), 401)
    }
    // A valid sign-in by a key the chain does not know: authenticated, then refused by the chain.
    const stranger = await signed('GET', records, undefined, {
      account: privateKeyToAccount(generatePrivateKey()),
    })
    await expectProblem(stranger, 403, 'ACCESS_DENIED')
    expect(stored()).toEqual(before)
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
    const chunked = await signed('POST', '/api/v1/blobs', stream, {
      headers: { 'content-type': 'application/octet-stream' },
    })
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
