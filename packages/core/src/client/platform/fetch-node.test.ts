import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { iterableToStream } from '../node-client.js'
import { platformFetch } from './fetch-node.js'

describe('Node transport for streamed request bodies', () => {
  let server: Server
  let url: string
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/reject') {
        res.writeHead(413, { 'content-type': 'application/problem+json' }).end('{"code":"TOO_LARGE"}')
        req.destroy()
        return
      }
      const hash = createHash('sha256')
      let size = 0
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk)
        size += chunk.length
      })
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json', 'x-test': 'a' })
        res.end(
          JSON.stringify({
            size,
            sha256: hash.digest('hex'),
            method: req.method,
            auth: req.headers.authorization,
          }),
        )
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('sends every byte of a stream with the given method and headers, and returns the answer', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => new Uint8Array(100_000).fill(i))
    async function* source() {
      yield* chunks
    }
    const expected = createHash('sha256')
    for (const c of chunks) expected.update(c)
    const response = await platformFetch(`${url}/upload`, {
      method: 'PUT',
      body: iterableToStream(source()),
      headers: { authorization: 'x' },
    })
    expect(response.status).toBe(201)
    expect(response.headers.get('x-test')).toBe('a')
    expect(await response.json()).toEqual({
      size: 4_000_000,
      sha256: expected.digest('hex'),
      method: 'PUT',
      auth: 'x',
    })
  })

  it('surfaces an early refusal or a failed source instead of hanging', async () => {
    async function* endless() {
      for (;;) yield new Uint8Array(65536)
    }
    const outcome = await platformFetch(`${url}/reject`, {
      method: 'POST',
      body: iterableToStream(endless()),
    }).then(
      (r) => r.status,
      (e: Error) => e.name,
    )
    expect([413, 'Error']).toContain(outcome)
    async function* failing() {
      yield new Uint8Array(10)
      throw new Error('disk gone')
    }
    await expect(
      platformFetch(`${url}/upload`, { method: 'POST', body: iterableToStream(failing()) }),
    ).rejects.toThrow()
  })
})
