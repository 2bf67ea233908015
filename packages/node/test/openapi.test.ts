import { Writable } from 'node:stream'
import {
  closeRecord,
  createGrant,
  createPcmimsClient,
  declareEmergency,
  getChainTime,
  listRecords,
  openRecord,
  type PcmimsClient,
  readRecordFile,
  requestAccess,
  rotateRecordKey,
  uploadBlobResumable,
  uploadRecord,
} from '@pcmims/core'
import type { NodeContext } from '@pcmims/node'
import { startTestNode, type TestIdentity, type TestNode } from '@pcmims/test-utils'
import { compileErrors, validate } from '@readme/openapi-parser'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/http/app.js'
import { NotFoundError } from '../src/http/errors.js'
import { apiSpec } from '../src/http/openapi/api-spec.js'
import {
  buildOpenApiDocument,
  OPENAPI_PATH,
  type OpenApiDocument,
  openapiRoutes,
} from '../src/http/openapi/openapi-document.js'
import { Problem } from '../src/http/openapi/schemas.js'
import { createRouteMatcher, validateAgainstSpec } from '../src/http/openapi/validate.js'
import { errorToResponse } from '../src/http/problem.js'
import { createLogger } from '../src/logger.js'
import { collect, memoryFile } from './helpers.js'

type Exchange = { method: string; path: string; status: number; type: string; body?: unknown }

const MISMATCH = 'does not match the API document'

/** `/api/v1/records/:id` as OpenAPI writes it. */
const openApiPath = (honoPath: string) => honoPath.replace(/:(\w+)/g, '{$1}')

/** The documented routes a Hono app serves: its handlers, not its middleware (`app.use` is method ALL). */
/** The API's routes: the web portal's pages (`GET *`, portal.ts) are not part of the API document. */
function servedRoutes(app: Hono): Set<string> {
  return new Set(
    app.routes
      .filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/'))
      .map((r) => `${r.method} ${openApiPath(r.path)}`),
  )
}

/** JSON Schema validators for the answers the document describes, by `METHOD path status`. */
function documentValidators(
  document: OpenApiDocument,
): (method: string, path: string, status: number) => ValidateFunction {
  const ajv = new Ajv2020({ strict: true, validateFormats: false, allErrors: true })
  const resolve = (schema: unknown) =>
    JSON.parse(
      JSON.stringify(schema).replaceAll('"#/components/schemas/', '"https://pcmims.invalid/schemas/'),
    )
  for (const [name, schema] of Object.entries(document.components.schemas)) {
    ajv.addSchema({ ...resolve(schema), $id: `https://pcmims.invalid/schemas/${name}` })
  }
  const cache = new Map<string, ValidateFunction>()
  return (method, path, status) => {
    const key = `${method} ${path} ${status}`
    let compiled = cache.get(key)
    if (!compiled) {
      const operation = document.paths[path]?.[method as 'get']
      let response = (operation?.responses[String(status)] ?? operation?.responses.default) as Record<
        string,
        unknown
      >
      const ref = response?.$ref
      if (typeof ref === 'string') response = document.components.responses[ref.split('/').pop() as string]!
      const content = response?.content as Record<string, { schema: unknown }> | undefined
      const schema = content?.['application/json']?.schema ?? content?.['application/problem+json']?.schema
      if (!schema) throw new Error(`The document has no JSON schema for ${key}`)
      compiled = ajv.compile(resolve(schema))
      cache.set(key, compiled)
    }
    return compiled
  }
}

describe('the OpenAPI document and its validation, on a real node', () => {
  let t: TestNode
  let ctx: NodeContext
  let app: Hono
  const exchanges: Exchange[] = []
  const logLines: string[] = []

  /** A client of the node whose every request goes through `app` in-process (and is recorded). */
  async function clientFor(who: TestIdentity): Promise<PcmimsClient> {
    const viaApp: typeof fetch = async (input, init) => {
      const request = new Request(input, init)
      const response = await app.fetch(request)
      const type = response.headers.get('content-type') ?? ''
      const exchange: Exchange = {
        method: request.method,
        path: new URL(request.url).pathname,
        status: response.status,
        type,
      }
      if (/json/.test(type) && request.method !== 'HEAD') exchange.body = await response.clone().json()
      exchanges.push(exchange)
      return response
    }
    return createPcmimsClient({
      nodeUrl: t.node.url,
      account: who.account,
      encryptionKeyPair: who.encryptionKeyPair,
      fetch: viaApp,
    })
  }

  beforeAll(async () => {
    t = await startTestNode()
    ctx = t.node.context
    const logger = createLogger({
      destination: new Writable({
        write(chunk, _encoding, done) {
          logLines.push(String(chunk))
          done()
        },
      }),
    })
    // As app.ts will mount it: validation in front of every route, the document served beside them.
    app = new Hono()
    app.use('*', validateAgainstSpec(apiSpec, { logger }))
    openapiRoutes(app, ctx)
    app.route('/', createApp(ctx as never))
    app.notFound(() => errorToResponse(new NotFoundError('No such route'), logger, crypto.randomUUID()))
    app.onError((error) => errorToResponse(error, logger, crypto.randomUUID()))
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('documents every route the app serves, and serves every route it documents', () => {
    const served = servedRoutes(createApp(ctx as never))
    // Until app.ts mounts it, add the document's own route.
    if (![...served].some((r) => r === `GET ${OPENAPI_PATH}`)) {
      const extra = new Hono()
      openapiRoutes(extra, ctx)
      for (const route of servedRoutes(extra)) served.add(route)
    }
    const documented = new Set(apiSpec.routes.map((r) => `${r.method.toUpperCase()} ${r.path}`))
    // Hono answers HEAD with the GET route of the same path.
    const serves = (route: string) => served.has(route) || served.has(route.replace(/^HEAD /, 'GET '))
    expect([...documented].filter((route) => !serves(route))).toEqual([])
    expect([...served].filter((route) => !documented.has(route))).toEqual([])
  })

  it('serves a valid OpenAPI 3.1 document naming this node', async () => {
    const response = await app.request(OPENAPI_PATH)
    expect(response.status).toBe(200)
    const document = (await response.json()) as OpenApiDocument
    expect(document.servers[0]?.url).toBe(new URL(t.node.url).origin)
    expect(document.info.version).toBe(ctx.version)
    const result = await validate(document as never)
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true)
  })

  it('describes what a real session gets back', async () => {
    const dev = t.dev as Record<'patient' | 'uploader' | 'medic' | 'requestor' | 'unit', TestIdentity>
    const patient = await clientFor(dev.patient)
    const uploader = await clientFor(dev.uploader)
    const medic = await clientFor(dev.medic)
    const requestor = await clientFor(dev.requestor)
    const unit = await clientFor(dev.unit)
    const me = patient.account.address
    const content = new Uint8Array(30_000).map((_, i) => (i * 7) % 256)

    const runFlow = async () => {
      const uploaded = await uploadRecord(uploader, {
        patient: me,
        kind: 'CT',
        files: [memoryFile('slice-1.dcm', content)],
        patientName: 'Quartermaine^Ottoline',
        patientMrn: 'MRN-OPENAPI',
        description: 'chest CT',
        appointment: 'APT-1',
      })
      await uploadRecord(uploader, {
        patient: me,
        kind: 'REPORT',
        files: [memoryFile('r.pdf', content.slice(0, 99))],
      })
      const id = uploaded.recordId
      await uploader.node.json('GET', `/api/v1/records/${id}/anchoring`)
      const resumable = await uploadBlobResumable(uploader, { source: content, chunkBytes: 10_000 })
      expect(resumable.size).toBe(content.length)
      const tus = { 'tus-resumable': '1.0.0' }
      await uploader.node.raw('OPTIONS', '/api/v1/uploads')
      const created = await uploader.node.raw('POST', '/api/v1/uploads', {
        headers: { ...tus, 'upload-length': '5' },
      })
      const location = created.headers.get('location') as string
      await uploader.node.raw('HEAD', location, { headers: tus })
      await uploader.node.raw('GET', location, { headers: tus })
      await uploader.node.raw('DELETE', location, { headers: tus })
      await uploader.node.raw('HEAD', location, { headers: tus }).catch(() => {})

      expect((await listRecords(patient, {})).map((r) => r.id)).toContain(id)
      await patient.node.json('GET', '/api/v1/records', { query: { kind: 'CT', patient: me.toLowerCase() } })
      await patient.node.json('GET', `/api/v1/records/${id}`)
      await patient.node.json('GET', `/api/v1/records/${id}/decrypted`)
      const file = await patient.node.raw('GET', `/api/v1/records/${id}/decrypted/files/0`)
      expect(await collect(file.body as unknown as AsyncIterable<Uint8Array>)).toEqual(content)
      const record = await openRecord(patient, { recordId: id })
      try {
        expect(await collect(readRecordFile(patient, { record, file: record.manifest.files[0]! }))).toEqual(
          content,
        )
      } finally {
        closeRecord(record)
      }

      const now = await getChainTime(patient.publicClient)
      await createGrant(patient, { grantee: medic.account.address, expiresAt: now + 86_400, download: true })
      await createGrant(patient, {
        grantee: requestor.account.address,
        records: [id],
        expiresAt: now + 3_600,
        download: false,
      })
      await patient.node.json('GET', '/api/v1/grants')
      await medic.node.json('GET', '/api/v1/grants', {
        query: { patient: me, grantee: medic.account.address },
      })
      await medic.node.raw('GET', `/api/v1/grants/${me}/${medic.account.address}/bundle`)
      const received = await medic.node.json<{ grants: Array<{ patient: string }> }>(
        'GET',
        '/api/v1/grants/received',
      )
      expect(received.grants.map((g) => g.patient)).toEqual([me])

      await requestAccess(requestor.walletClient, {
        contract: requestor.config.contract,
        patient: me,
        scope: 'Kinds',
        kinds: ['MRI'],
        purpose: 'Research',
      })
      await declareEmergency(medic.walletClient, {
        contract: medic.config.contract,
        patient: me,
        reasonCode: 3,
        durationSeconds: 3_600,
      })
      for (const client of [patient, requestor, medic]) {
        await client.node.json('GET', '/api/v1/requests')
        await client.node.json('GET', '/api/v1/emergencies')
      }

      await patient.node.json('GET', '/api/v1/auth/session')
      for (const path of ['/api/v1/version', '/api/v1/health', '/api/v1/config', OPENAPI_PATH]) {
        await patient.node.json('GET', path)
      }
      await patient.node.json('GET', `/api/v1/participants/${me}`)
      await patient.node.json('GET', `/api/v1/participants/${'0x'.padEnd(42, '1')}`)
      await unit.node.json('GET', `/api/v1/units/${unit.account.address}/participants`)
      await unit.node.json('GET', `/api/v1/units/${unit.account.address}/participants`, {
        query: { status: 'Pending' },
      })
      const rpc = (body: unknown) => patient.node.json('POST', '/api/v1/chain/rpc', { body })
      await rpc({ jsonrpc: '2.0', id: 1, method: 'eth_chainId' })
      await rpc([
        { jsonrpc: '2.0', id: 'a', method: 'eth_blockNumber', params: [] },
        { jsonrpc: '2.0', id: null, method: 'eth_getLogs', params: [{}] },
        { jsonrpc: '2.0', id: 2, method: 'eth_getTransactionReceipt', params: [`0x${'0'.repeat(64)}`] },
      ])
      await patient.node.json('POST', '/api/v1/dev/fund')
      await patient.node.json('POST', '/api/v1/audit/anchor').catch(() => {})
      await patient.node.json('GET', '/api/v1/audit')
      const anchored = await unit.node.json<{ anchor: { size: number } }>('POST', '/api/v1/audit/anchor')
      await unit.node.json('POST', '/api/v1/audit/anchor')
      await patient.node.json('GET', '/api/v1/audit', { query: { scope: 'actor', fromSeq: 1, limit: 5 } })
      await unit.node.json('GET', '/api/v1/audit', { query: { scope: 'all' } })
      await unit.node.json('GET', '/api/v1/audit/anchors', {
        query: { consistency: `1,${anchored.anchor.size}` },
      })
      const rotated = await rotateRecordKey(patient, { recordId: id })
      expect(rotated.previous).toBe(id)
      // Problems are answers too.
      await patient.node.json('GET', `/api/v1/records/0x${'1'.repeat(64)}`).catch(() => {})
      await requestor.node.json('GET', `/api/v1/records/${rotated.recordId}/decrypted`).catch(() => {})
      await patient.node.signOut()
    }
    // A 500 in the flow is most likely the middleware refusing an answer: the log says which.
    await runFlow().catch((error: Error) => {
      const mismatches = logLines
        .filter((line) => line.includes(MISMATCH))
        .map((line) => (JSON.parse(line) as { err: { message: string } }).err.message)
      throw new Error([error.message, ...mismatches].join('\n'), { cause: error })
    })
    // Every JSON answer matches its zod schema, and the document's JSON Schema says the same.
    const match = createRouteMatcher(apiSpec)
    const validatorFor = documentValidators(
      buildOpenApiDocument(apiSpec, { origin: t.node.url, version: ctx.version }),
    )
    const failures: string[] = []
    const operations = new Set<string>()
    for (const exchange of exchanges) {
      const matched = match(exchange.method, exchange.path)
      const where = `${exchange.method} ${matched?.route.path ?? exchange.path} ${exchange.status}`
      if (!matched) {
        failures.push(`${where}: not documented`)
        continue
      }
      operations.add(`${matched.route.operationId} ${exchange.status}`)
      if (exchange.status >= 500) failures.push(`${where}: server error`)
      if (exchange.body === undefined) continue
      const declared = matched.route.responses[exchange.status]
      const schema = declared?.json ?? (exchange.status >= 400 ? Problem : undefined)
      const parsed = schema?.safeParse(exchange.body)
      if (!parsed?.success)
        failures.push(`${where}: ${parsed?.error.issues.map((i) => i.path.join('.')).join(', ')}`)
      const validateJson = validatorFor(matched.route.method, matched.route.path, exchange.status)
      if (!validateJson(exchange.body))
        failures.push(`${where} (JSON Schema): ${JSON.stringify(validateJson.errors)}`)
    }
    expect(failures).toEqual([])
    expect(logLines.join('')).not.toContain(MISMATCH)
    expect([...operations].sort()).toEqual(
      expect.arrayContaining([
        'createSignInNonce 200',
        'signIn 200',
        'getSession 200',
        'signOut 204',
        'getConfig 200',
        'getHealth 200',
        'getVersion 200',
        'getOpenApiDocument 200',
        'fundDevelopmentAccount 200',
        'getParticipant 200',
        'listUnitParticipants 200',
        'uploadBlob 201',
        'putBlock 201',
        'getRecordBlob 200',
        'submitRecord 201',
        'rotateRecord 201',
        'getAnchoringStatus 200',
        'discoverUploads 204',
        'createUpload 201',
        'appendUpload 204',
        'getUploadOffset 200',
        'getUploadOffsetByGet 200',
        'getUploadOffset 404',
        'deleteUpload 204',
        'listRecords 200',
        'getRecord 200',
        'getRecord 403',
        'getDecryptedRecord 200',
        'getDecryptedRecord 403',
        'getDecryptedFile 200',
        'relayChainRpc 200',
        'listGrants 200',
        'getGrantKeyBundle 200',
        'listEmergencies 200',
        'listAccessRequests 200',
        'listAuditEntries 200',
        'listAuditAnchors 200',
        'anchorAuditLog 200',
        'anchorAuditLog 403',
      ]),
    )
    // The listings were not empty: their items were checked too.
    const longest = (operationId: string, key: string) =>
      Math.max(
        ...exchanges
          .filter((e) => e.status === 200 && match(e.method, e.path)?.route.operationId === operationId)
          .map((e) => ((e.body as Record<string, unknown[]>)[key] ?? []).length),
      )
    expect(longest('listGrants', 'grants')).toBe(2)
    expect(longest('listEmergencies', 'emergencies')).toBe(1)
    expect(longest('listAccessRequests', 'requests')).toBe(1)
    expect(longest('listUnitParticipants', 'participants')).toBeGreaterThan(0)
    expect(longest('listRecords', 'records')).toBe(2)
    expect(longest('listAuditEntries', 'entries')).toBeGreaterThan(0)
    expect(longest('listAuditAnchors', 'consistency')).toBe(1)
  })

  it('refuses a malformed parameter or query with a 400 before the handler, signed in or not', async () => {
    const patient = await clientFor(t.dev.patient!)
    const { token } = await patient.node.signIn()
    const get = (path: string, authorized = true) =>
      app.request(path, authorized ? { headers: { authorization: `Bearer ${token}` } } : {})
    const problem = async (response: Response) => {
      expect(response.headers.get('content-type')).toBe('application/problem+json')
      return { status: response.status, ...((await response.json()) as { code: string }) }
    }
    const id = `0x${'ab'.repeat(32)}`
    const cases: Array<[string, string, boolean?]> = [
      ['/api/v1/records?kind=NOPE', 'INVALID_QUERY'],
      [`/api/v1/records?patient=${t.dev.patient!.account.address}&patient=0x12`, 'INVALID_QUERY'],
      ['/api/v1/records?patient=0xnothex', 'INVALID_QUERY'],
      [`/api/v1/units/${t.dev.unit!.account.address}/participants?status=Gone`, 'INVALID_QUERY'],
      ['/api/v1/records/0x1234', 'INVALID_PARAMS'],
      ['/api/v1/audit?scope=everyone', 'INVALID_QUERY'],
      ['/api/v1/audit/anchors?consistency=1,,2', 'INVALID_QUERY'],
      [`/api/v1/records/${id}/decrypted/files/-1`, 'INVALID_PARAMS'],
      [`/api/v1/records/${id}/blobs/not-a-cid`, 'INVALID_CID'],
      ['/api/v1/grants/0x12/0x34/bundle', 'INVALID_PARAMS'],
      ['/api/v1/participants/0x12', 'INVALID_PARAMS', false],
      ['/api/v1/records/0x1234', 'INVALID_PARAMS', false],
    ]
    for (const [path, code, authorized] of cases) {
      expect(await problem(await get(path, authorized ?? true)), path).toMatchObject({ status: 400, code })
    }
    // The same requests well formed reach their handlers.
    expect((await get(`/api/v1/records?kind=CT&patient=${t.dev.patient!.account.address}`)).status).toBe(200)
    expect((await get(`/api/v1/records/${id}`)).status).toBe(403)
    expect((await get('/api/v1/records', false)).status).toBe(401)
  })
})
