import { Writable } from 'node:stream'
import fc from 'fast-check'
import { Hono } from 'hono'
import { setCookie } from 'hono/cookie'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createLogger } from '../../logger.js'
import { NotFoundError } from '../errors.js'
import { errorToResponse } from '../problem.js'
import { type ApiRoute, type ApiSpec, apiSpec } from './api-spec.js'
import { createRouteMatcher, validateAgainstSpec } from './validate.js'

const RECORD_ID = `0x${'ab'.repeat(32)}`
const PATIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

const access = {
  allowed: true,
  download: true,
  deidentifiedOnly: false,
  until: 2 ** 40 - 1,
  basis: 'Patient',
}
const record = {
  id: RECORD_ID,
  patient: PATIENT,
  kind: 'CT',
  createdAt: 1_700_000_000,
  unitIndex: 1,
  envelopeCid: CID,
  envelope: 'oWF2AQ==',
  access,
}

/** An app wired as createApp wires the middleware: headers first, then validation, then the routes. */
function appWith(register: (app: Hono) => void) {
  const lines: string[] = []
  const logger = createLogger({
    destination: new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk))
        done()
      },
    }),
  })
  const app = new Hono()
  app.use('*', async (c, next) => {
    c.header('x-content-type-options', 'nosniff')
    c.header('cache-control', 'no-store')
    await next()
  })
  app.use('*', validateAgainstSpec(apiSpec, { logger }))
  register(app)
  app.notFound(() => errorToResponse(new NotFoundError('No such route'), logger, 'test'))
  app.onError((error) => errorToResponse(error, logger, 'test'))
  return { app, log: () => lines.join('') }
}

type Problem = {
  type: string
  title: string
  status: number
  code: string
  detail?: string
  requestId: string
}

describe('createRouteMatcher', () => {
  const match = createRouteMatcher(apiSpec)
  const op = (method: string, path: string) => match(method, path)?.route.operationId

  it('finds the entry by method and template, with the parameters decoded', () => {
    expect(match('GET', `/api/v1/records/${RECORD_ID}`)).toMatchObject({
      route: { operationId: 'getRecord' },
      params: { id: RECORD_ID },
    })
    expect(op('GET', '/api/v1/records')).toBe('listRecords')
    expect(op('POST', '/api/v1/records')).toBe('submitRecord')
    expect(match('GET', '/api/v1/grants/0xA%42/0xcd/bundle')?.params).toEqual({
      patient: '0xAB',
      grantee: '0xcd',
    })
    expect(match('GET', '/api/v1/participants/%E0%A4%A')?.params).toEqual({ address: '%E0%A4%A' })
  })

  it('falls back from HEAD to GET as Hono does, unless HEAD is documented', () => {
    expect(op('HEAD', `/api/v1/records/${RECORD_ID}`)).toBe('getRecord')
    expect(op('HEAD', '/api/v1/uploads/abc')).toBe('getUploadOffset')
    expect(op('GET', '/api/v1/uploads/abc')).toBe('getUploadOffsetByGet')
  })

  it('matches a parameter to one non-empty segment, and nothing else', () => {
    expect(op('GET', '/api/v1/records//blobs/x')).toBeUndefined()
    expect(op('GET', '/api/v1/records/')).toBeUndefined()
    expect(op('GET', '/api/v1/records/a/b')).toBeUndefined()
    expect(op('DELETE', '/api/v1/records')).toBeUndefined()
    expect(op('GET', '/api/v1/nowhere')).toBeUndefined()
  })

  it('prefers the more literal template, whatever the order', () => {
    const base = apiSpec.routes[0] as ApiRoute
    const byParam: ApiRoute = { ...base, path: '/api/v1/things/{x}', operationId: 'byParam' }
    const literal: ApiRoute = { ...base, path: '/api/v1/things/mine', operationId: 'literal' }
    for (const routes of [
      [byParam, literal],
      [literal, byParam],
    ]) {
      const spec: ApiSpec = { ...apiSpec, routes }
      expect(createRouteMatcher(spec)('GET', '/api/v1/things/mine')?.route.operationId).toBe('literal')
      expect(createRouteMatcher(spec)('GET', '/api/v1/things/other')?.route.operationId).toBe('byParam')
    }
  })
})

describe('validateAgainstSpec: requests', () => {
  it('refuses malformed path parameters before the handler runs (400 INVALID_PARAMS)', async () => {
    let called = 0
    const { app } = appWith((a) =>
      a.get('/api/v1/records/:id', (c) => {
        called++
        return c.json(record)
      }),
    )
    const response = await app.request('/api/v1/records/0x1234')
    expect(response.status).toBe(400)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    const problem = (await response.json()) as Problem
    expect(problem).toMatchObject({ status: 400, code: 'INVALID_PARAMS', title: 'Invalid path parameters' })
    expect(problem.detail).toMatch(/^id: /)
    expect(called).toBe(0)
    expect((await app.request(`/api/v1/records/${RECORD_ID}`)).status).toBe(200)
    expect(called).toBe(1)
  })

  it('keeps the specific code of a parameter that has one (INVALID_CID)', async () => {
    const { app } = appWith((a) => a.get('/api/v1/records/:id/blobs/:cid', (c) => c.body(null, 204)))
    const response = await app.request(`/api/v1/records/${RECORD_ID}/blobs/not-a-cid`)
    expect(response.status).toBe(400)
    expect(((await response.json()) as Problem).code).toBe('INVALID_CID')
    const both = await app.request('/api/v1/records/0x12/blobs/not-a-cid')
    expect(((await both.json()) as Problem).code).toBe('INVALID_PARAMS')
  })

  it('refuses a malformed or repeated query parameter (400 INVALID_QUERY) and ignores unknown ones', async () => {
    let called = 0
    const { app } = appWith((a) =>
      a.get('/api/v1/records', (c) => {
        called++
        return c.json({ patient: PATIENT, records: [] })
      }),
    )
    for (const query of ['kind=NOPE', 'patient=0x12', `patient=${PATIENT}&patient=${PATIENT}`, 'kind=']) {
      const response = await app.request(`/api/v1/records?${query}`)
      expect(response.status, query).toBe(400)
      expect(((await response.json()) as Problem).code).toBe('INVALID_QUERY')
    }
    expect(called).toBe(0)
    for (const query of ['', 'kind=CT', `patient=${PATIENT.toLowerCase()}&kind=MRI`, 'cachebust=1']) {
      expect((await app.request(`/api/v1/records?${query}`)).status, query).toBe(200)
    }
    expect(called).toBe(4)
  })

  it('lets through exactly the record ids the schema allows, decoded as Hono decodes them', async () => {
    const seen: string[] = []
    const { app } = appWith((a) =>
      a.get('/api/v1/records/:id', (c) => {
        seen.push(c.req.param('id'))
        return c.json({ ...record, id: c.req.param('id').toLowerCase() })
      }),
    )
    const hexId = fc
      .string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 64, maxLength: 64 })
      .map((hex) => `0x${hex}`)
    const segment = fc.oneof(
      hexId,
      fc.string({ minLength: 1 }),
      fc.string({ unit: 'grapheme', minLength: 1 }),
    )
    await fc.assert(
      fc.asyncProperty(
        segment.filter((s) => s !== '.' && s !== '..'),
        async (id) => {
          seen.length = 0
          const response = await app.request(`/api/v1/records/${encodeURIComponent(id)}`)
          const valid = /^0x[0-9a-fA-F]{64}$/.test(id)
          expect(response.status).toBe(valid ? 200 : 400)
          expect(seen).toEqual(valid ? [id] : [])
        },
      ),
      { numRuns: 300 },
    )
  })

  it('passes requests of routes it does not know', async () => {
    const { app } = appWith((a) =>
      a.get('/api/v1/unlisted/:x', (c) => c.json({ anything: c.req.param('x') })),
    )
    expect(await (await app.request('/api/v1/unlisted/1')).json()).toEqual({ anything: '1' })
    expect((await app.request('/api/v1/nowhere')).status).toBe(404)
  })
})

describe('validateAgainstSpec: answers', () => {
  it('passes an answer that matches its schema, untouched', async () => {
    const { app, log } = appWith((a) => a.get('/api/v1/records/:id', (c) => c.json(record)))
    const response = await app.request(`/api/v1/records/${RECORD_ID}`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual(record)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(log()).toBe('')
    const head = await app.request(`/api/v1/records/${RECORD_ID}`, { method: 'HEAD' })
    expect(head.status).toBe(200)
  })

  it('turns an answer that does not match into a 500 that says nothing, logged without its content', async () => {
    const phi = 'Quartermaine^Ottoline'
    const wrong = [
      { ...record, kind: phi },
      { ...record, patientName: phi },
      { ...record, createdAt: new Date(0).toISOString() },
      { ...record, patient: PATIENT.toLowerCase() },
      { ...record, patient: '0x12' },
      { ...record, access: { ...access, until: undefined } },
    ]
    for (const body of wrong) {
      const { app, log } = appWith((a) => a.get('/api/v1/records/:id', (c) => c.json(body)))
      const response = await app.request(`/api/v1/records/${RECORD_ID}`)
      expect(response.status).toBe(500)
      expect(response.headers.get('content-type')).toBe('application/problem+json')
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      const problem = (await response.json()) as Problem
      expect(problem).toEqual({
        type: 'about:blank',
        title: 'Internal error',
        status: 500,
        code: 'INTERNAL',
        requestId: expect.any(String),
      })
      const text = log()
      expect(text).toContain('GET /api/v1/records/{id} 200')
      expect(text).toContain(problem.requestId)
      expect(text).not.toContain(phi)
      expect(text).not.toContain('patientName')
      expect(text).not.toContain('1970')
    }
    const { app, log } = appWith((a) => a.get('/api/v1/records/:id', (c) => c.json({ ...record, kind: 'X' })))
    await app.request(`/api/v1/records/${RECORD_ID}`)
    expect(log()).toMatch(/kind \(invalid_value\)/)
  })

  it('drops the headers of the answer it replaces, cookies included', async () => {
    const { app } = appWith((a) =>
      a.post('/api/v1/auth/sign-in', (c) => {
        setCookie(c, 'pcmims_session', 'secret-token', { httpOnly: true })
        c.header('x-extra', '1')
        return c.json({ token: 'secret-token' })
      }),
    )
    const response = await app.request('/api/v1/auth/sign-in', { method: 'POST' })
    expect(response.status).toBe(500)
    expect(response.headers.get('set-cookie')).toBeNull()
    expect(response.headers.get('x-extra')).toBeNull()
    expect(await response.text()).not.toContain('secret-token')
  })

  it('refuses an undocumented status, a JSON answer sent as something else, and a body that is not JSON', async () => {
    const cases: Array<[string, (a: Hono) => void, string]> = [
      ['/api/v1/blobs', (a) => a.post('/api/v1/blobs', (c) => c.json({ cid: CID, size: 3 }, 200)), 'POST'],
      ['/api/v1/version', (a) => a.get('/api/v1/version', (c) => c.text('pcmims-node v1')), 'GET'],
      [
        '/api/v1/version',
        (a) =>
          a.get(
            '/api/v1/version',
            () => new Response('{', { headers: { 'content-type': 'application/json' } }),
          ),
        'GET',
      ],
      ['/api/v1/auth/sign-out', (a) => a.post('/api/v1/auth/sign-out', (c) => c.body(null, 200)), 'POST'],
    ]
    for (const [path, register, method] of cases) {
      const { app, log } = appWith(register)
      const response = await app.request(path, { method })
      expect(response.status, path).toBe(500)
      expect(log()).toContain('does not match the API document')
    }
  })

  it('checks problems against the shared problem schema, whatever their status', async () => {
    const { app, log } = appWith((a) => {
      a.get('/api/v1/records', () => {
        throw new NotFoundError('Nothing here', 'really')
      })
      a.get('/api/v1/emergencies', (c) =>
        c.body(JSON.stringify({ status: 409, title: 'x' }), 409, {
          'content-type': 'application/problem+json',
        }),
      )
      a.get('/api/v1/requests', (c) =>
        c.body(
          JSON.stringify({ type: 'about:blank', title: 'x', status: 404, code: 'X', requestId: 'r' }),
          409,
          { 'content-type': 'application/problem+json' },
        ),
      )
      a.get('/api/v1/grants', (c) => c.json({ error: 'nope' }, 403))
    })
    const notFound = await app.request('/api/v1/records')
    expect(notFound.status).toBe(404)
    expect(await notFound.json()).toMatchObject({ code: 'NOT_FOUND', detail: 'really' })
    expect(log()).not.toContain('does not match the API document')
    for (const path of ['/api/v1/emergencies', '/api/v1/requests', '/api/v1/grants']) {
      expect((await app.request(path)).status, path).toBe(500)
    }
  })

  it('checks a documented non-problem error body against its own schema (health at 503)', async () => {
    const degraded = {
      status: 'degraded',
      chain: { ok: false, reachable: false, chainId: 31337, blockNumber: null, latencyMs: 3000 },
      ipfs: { mode: 'embedded', ok: true, latencyMs: 1 },
      outbox: { queued: 0, submitted: 0, confirmed: 2, failed: 0, oldestQueuedAgeS: null },
      indexer: { lastBlock: 12, lagBlocks: null },
      audit: { size: 3, pending: 3, anchoredSize: 0, anchoredAt: null, anchorIntervalS: 600 },
      uptimeS: 5,
      version: '0.1.0',
    }
    const { app } = appWith((a) => a.get('/api/v1/health', (c) => c.json(degraded, 503)))
    const response = await app.request('/api/v1/health')
    expect(response.status).toBe(503)
    expect(await response.json()).toEqual(degraded)
    const { app: wrong } = appWith((a) =>
      a.get('/api/v1/health', (c) => c.json({ ...degraded, outbox: { queued: 0 } }, 503)),
    )
    expect((await wrong.request('/api/v1/health')).status).toBe(500)
  })

  it('leaves streamed answers alone', async () => {
    const bytes = new Uint8Array(100_000).map((_, i) => i % 251)
    const { app } = appWith((a) =>
      a.get(
        '/api/v1/records/:id/blobs/:cid',
        () => new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }),
      ),
    )
    const response = await app.request(`/api/v1/records/${RECORD_ID}/blobs/${CID}`)
    expect(response.status).toBe(200)
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes)
  })

  it('is usable with a registry of its own', async () => {
    const spec: ApiSpec = {
      ...apiSpec,
      routes: [
        {
          method: 'get',
          path: '/api/v1/things/{n}',
          operationId: 'getThing',
          tag: 'meta',
          summary: 'A thing',
          security: 'none',
          params: z.object({ n: z.string().regex(/^\d+$/) }),
          responses: { 200: { description: 'It', json: z.strictObject({ n: z.number() }) } },
          problems: [],
        },
      ],
    }
    const app = new Hono()
    const logger = createLogger({ level: 'silent' })
    app.use('*', validateAgainstSpec(spec, { logger }))
    app.get('/api/v1/things/:n', (c) => c.json({ n: c.req.param('n') === '7' ? 7 : 'seven' }))
    app.onError((error) => errorToResponse(error, logger, 'test'))
    expect(await (await app.request('/api/v1/things/7')).json()).toEqual({ n: 7 })
    expect((await app.request('/api/v1/things/8')).status).toBe(500)
    expect((await app.request('/api/v1/things/x')).status).toBe(400)
  })
})
