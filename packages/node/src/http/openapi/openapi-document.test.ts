import { compileErrors, validate } from '@readme/openapi-parser'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { type ApiSpec, apiSpec } from './api-spec.js'
import {
  buildOpenApiDocument,
  OPENAPI_PATH,
  type OpenApiDocument,
  openapiRoutes,
} from './openapi-document.js'
import { component } from './schemas.js'

const origin = 'http://127.0.0.1:8080'
const build = (spec: ApiSpec = apiSpec) => buildOpenApiDocument(spec, { origin, version: '1.2.3' })

/** Every JSON Schema the document holds, with where it is. */
function schemasOf(document: OpenApiDocument): Array<[string, unknown]> {
  const found: Array<[string, unknown]> = []
  const walk = (value: unknown, at: string) => {
    if (value === null || typeof value !== 'object') return
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'schema') found.push([`${at}/schema`, inner])
      else walk(inner, `${at}/${key}`)
    }
  }
  walk(document.paths, '#/paths')
  walk(document.components.responses, '#/components/responses')
  for (const [name, schema] of Object.entries(document.components.schemas)) {
    found.push([`#/components/schemas/${name}`, schema])
  }
  return found
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const document = build()
    expect(document.openapi).toMatch(/^3\.1\.\d+$/)
    // validate() dereferences in place: give it a copy.
    const result = await validate(structuredClone(document) as never)
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true)
    expect(result.warnings).toEqual([])
    // The validator does look: a parameter in a place OpenAPI does not have is refused.
    const broken = structuredClone(document)
    broken.paths['/api/v1/records']!.get!.parameters![0]!.in = 'body' as never
    expect((await validate(broken as never)).valid).toBe(false)
  })

  it('holds JSON Schemas (2020-12) that compile, references and all', () => {
    const document = build()
    const ajv = new Ajv2020({ strict: true, validateFormats: false, allErrors: true })
    // Each named schema under an $id of its own, so that strict mode sees nothing but JSON Schema.
    const resolve = (schema: unknown) =>
      JSON.parse(
        JSON.stringify(schema).replaceAll('"#/components/schemas/', '"https://pcmims.invalid/schemas/'),
      )
    for (const [name, schema] of Object.entries(document.components.schemas)) {
      ajv.addSchema({ ...resolve(schema), $id: `https://pcmims.invalid/schemas/${name}` })
    }
    for (const [at, schema] of schemasOf(document)) {
      expect(() => ajv.compile(resolve(schema)), at).not.toThrow()
    }
  })

  it('lists each route once, with its path parameters, security and problems', () => {
    const document = build()
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({ path, method, operation: operation! })),
    )
    expect(operations).toHaveLength(apiSpec.routes.length)
    expect(new Set(operations.map((o) => o.operation.operationId)).size).toBe(apiSpec.routes.length)
    for (const route of apiSpec.routes) {
      const operation = document.paths[route.path]?.[route.method]
      expect(operation?.operationId).toBe(route.operationId)
      expect(operation?.security).toEqual(
        route.security === 'session' ? [{ sessionToken: [] }, { sessionCookie: [] }] : [],
      )
      const pathParams = (operation?.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name)
      expect(pathParams.sort()).toEqual([...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort())
      for (const status of route.problems) {
        expect(operation?.responses[String(status)]?.$ref).toMatch(/^#\/components\/responses\//)
      }
      if (route.params || route.query) expect(operation?.responses['400']).toBeDefined()
      expect(operation?.responses.default).toEqual({ $ref: '#/components/responses/Error' })
    }
    expect(document.servers).toEqual([{ url: origin, description: 'This node' }])
    expect(document.info.version).toBe('1.2.3')
    expect(document.components.securitySchemes.sessionCookie).toMatchObject({
      in: 'cookie',
      name: 'pcmims_session',
    })
  })

  it('describes answers as the node writes them: strict objects, nulls, numbers and strings', () => {
    const document = build()
    const schemas = document.components.schemas
    expect(schemas.UploadStatus).toMatchObject({
      additionalProperties: false,
      properties: {
        txHash: { anyOf: [{ $ref: '#/components/schemas/TxHash' }, { type: 'null' }] },
        gasUsed: { anyOf: [{ $ref: '#/components/schemas/DecimalString' }, { type: 'null' }] },
      },
    })
    expect(schemas.IsoTime).toMatchObject({ type: 'string', format: 'date-time' })
    expect(schemas.Session).toMatchObject({
      properties: { expiresAt: { $ref: '#/components/schemas/IsoTime', description: expect.any(String) } },
    })
    const records = document.paths['/api/v1/records']?.get?.responses['200'] as {
      content: Record<string, { schema: { properties: { records: { items: Record<string, unknown> } } } }>
    }
    expect(records.content['application/json']?.schema.properties.records.items).toMatchObject({
      additionalProperties: false,
      properties: { createdAt: { $ref: '#/components/schemas/UnixSeconds' } },
    })
    expect(document.paths['/api/v1/records/{id}/blobs/{cid}']?.get?.responses['200']).toMatchObject({
      content: { 'application/octet-stream': {} },
    })
  })

  it('refuses a registry it cannot describe', () => {
    const route = apiSpec.routes.find((r) => r.operationId === 'getRecord')!
    expect(() => build({ ...apiSpec, routes: [route, { ...route }] })).toThrow(/operationId/)
    expect(() => build({ ...apiSpec, routes: [route, { ...route, operationId: 'other' }] })).toThrow(
      /Two operations/,
    )
    expect(() =>
      build({ ...apiSpec, routes: [{ ...route, params: z.object({ other: z.string() }) }] }),
    ).toThrow(/path parameters/)
    expect(() =>
      build({
        ...apiSpec,
        routes: [{ ...route, responses: { 200: { description: 'x', json: z.bigint() } } }],
      }),
    ).toThrow()
  })

  it('refuses a named schema that reads differently as input and as output', () => {
    const Named = component('DifferentByDirection', z.object({ a: z.string() }))
    const route = apiSpec.routes.find((r) => r.operationId === 'listRecords')!
    const spec: ApiSpec = {
      ...apiSpec,
      routes: [
        {
          ...route,
          body: { json: Named },
          responses: { 200: { description: 'x', json: z.strictObject({ named: Named }) } },
        },
      ],
    }
    expect(() => build(spec)).toThrow(/DifferentByDirection/)
  })

  it(`is served at GET ${OPENAPI_PATH}, without a session`, async () => {
    const app = new Hono()
    openapiRoutes(app, { origin: `${origin}/`, version: '1.2.3' })
    const response = await app.request(OPENAPI_PATH)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await response.json()).toEqual(build())
  })
})
