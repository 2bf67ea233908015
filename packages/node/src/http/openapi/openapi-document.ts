import type { Hono } from 'hono'
import { z } from 'zod'
import type { NodeContext } from '../../context.js'
import { SESSION_COOKIE } from '../authenticate.js'
import { type ApiRoute, type ApiSpec, apiSpec, type HttpMethod } from './api-spec.js'
import { apiSchemas, Problem } from './schemas.js'

export const OPENAPI_PATH = '/api/v1/openapi.json'
export const OPENAPI_VERSION = '3.1.1'

type JsonSchema = Record<string, unknown>
type Json = Record<string, unknown>

export type OpenApiParameter = {
  name: string
  in: 'path' | 'query' | 'header'
  required: boolean
  description?: string
  schema: JsonSchema
}

export type OpenApiOperation = {
  operationId: string
  tags: string[]
  summary: string
  description?: string
  security: Array<Record<string, string[]>>
  parameters?: OpenApiParameter[]
  requestBody?: Json
  responses: Record<string, Json>
}

/** The parts of an OpenAPI 3.1 document this node writes. */
export type OpenApiDocument = {
  openapi: string
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } }
  servers: Array<{ url: string; description: string }>
  tags: Array<{ name: string; description: string }>
  paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>>>
  components: {
    schemas: Record<string, JsonSchema>
    responses: Record<string, Json>
    securitySchemes: Record<string, Json>
  }
}

/** Error statuses by the name of their shared response in `components.responses`. */
const PROBLEM_RESPONSES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Gone',
  412: 'PreconditionFailed',
  413: 'ContentTooLarge',
  415: 'UnsupportedMediaType',
  416: 'RangeNotSatisfiable',
  429: 'TooManyRequests',
  503: 'ServiceUnavailable',
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is malformed (see `code` and `detail`).',
  401: 'No valid session: sign in (again).',
  403: 'The caller may not do this (the chain decides).',
  404: 'No such resource, or none the caller may see.',
  406: 'The resource cannot be given in a media type the `Accept` header takes.',
  409: 'The request conflicts with the current state.',
  410: 'Gone.',
  412: 'A required protocol header is missing or of another version.',
  413: 'The body is larger than the node accepts.',
  415: 'The body is of a media type the route does not take.',
  416: 'The range cannot be served.',
  429: 'Too many requests: retry after `Retry-After` seconds.',
  503: 'The chain (or IPFS) cannot be reached; nothing was decided.',
}

export type BuildOpenApiDocumentParameters = {
  /** The node's origin (its public URL): the document's one server. */
  origin: string
  /** The node software's version, as `info.version`. */
  version: string
}

/** The OpenAPI 3.1 document of `spec`, generated from its zod schemas (JSON Schema 2020-12). */
export function buildOpenApiDocument(
  spec: ApiSpec,
  { origin, version }: BuildOpenApiDocumentParameters,
): OpenApiDocument {
  const schemas = createSchemaCollector()
  const usedProblems = new Set<number>()
  const paths: OpenApiDocument['paths'] = {}
  const operationIds = new Set<string>()

  for (const route of spec.routes) {
    if (operationIds.has(route.operationId)) throw new Error(`Duplicate operationId ${route.operationId}`)
    operationIds.add(route.operationId)
    paths[route.path] ??= {}
    const item = paths[route.path] as Partial<Record<HttpMethod, OpenApiOperation>>
    if (item[route.method]) throw new Error(`Two operations for ${route.method.toUpperCase()} ${route.path}`)
    item[route.method] = operation(route, spec.commonProblems, schemas, usedProblems)
  }

  const problemResponses: Record<string, Json> = {}
  for (const status of [...usedProblems].sort((a, b) => a - b)) {
    problemResponses[problemResponseName(status)] = {
      description: PROBLEM_DESCRIPTIONS[status] ?? 'An error.',
      ...(status === 429
        ? { headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'string' } } } }
        : {}),
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    }
  }
  problemResponses.Error = {
    description: 'Any other error; a 500 says nothing about its cause.',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  }
  // Referenced from components.responses only: converting it files it under components.schemas.
  schemas.convert(Problem, 'output')

  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: spec.title,
      version,
      description: spec.description,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: new URL(origin).origin, description: 'This node' }],
    tags: spec.tags.map((tag) => ({ ...tag })),
    paths,
    components: {
      schemas: sortKeys(schemas.components),
      responses: problemResponses,
      securitySchemes: {
        sessionToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The token from `POST /api/v1/auth/sign-in`.',
        },
        sessionCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description:
            'The session cookie set at sign-in (browsers). Requests other than GET, HEAD and OPTIONS that ' +
            'ride on it must carry this node as their Origin.',
        },
      },
    },
  }
}

/** Serves the document of `apiSpec` at `GET /api/v1/openapi.json`, without authentication. */
export function openapiRoutes(app: Hono, ctx: Pick<NodeContext, 'origin' | 'version'>): void {
  let body: string | undefined
  app.get(OPENAPI_PATH, (c) => {
    body ??= JSON.stringify(buildOpenApiDocument(apiSpec, { origin: ctx.origin, version: ctx.version }))
    return c.body(body, 200, { 'content-type': 'application/json' })
  })
}

function operation(
  route: ApiRoute,
  commonProblems: number[],
  schemas: SchemaCollector,
  usedProblems: Set<number>,
): OpenApiOperation {
  const parameters = [
    ...parametersOf(route.params, 'path', schemas),
    ...parametersOf(route.query, 'query', schemas),
    ...parametersOf(route.headers, 'header', schemas),
  ]
  const declared = new Set(parameters.filter((p) => p.in === 'path').map((p) => p.name))
  const inPath = new Set([...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]))
  if (declared.size !== inPath.size || [...inPath].some((name) => !declared.has(name as string))) {
    throw new Error(`The path parameters of ${route.operationId} do not match ${route.path}`)
  }

  const responses: Record<string, Json> = {}
  for (const [status, response] of Object.entries(route.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.headers
        ? {
            headers: Object.fromEntries(
              Object.entries(response.headers).map(([name, header]) => [
                name,
                {
                  description: header.description,
                  required: header.required ?? true,
                  schema: schemas.convert(header.schema, 'output'),
                },
              ]),
            ),
          }
        : {}),
      ...(response.json
        ? { content: { 'application/json': { schema: schemas.convert(response.json, 'output') } } }
        : response.content
          ? { content: { [response.content]: {} } }
          : {}),
    }
  }
  const problems = new Set([...route.problems, ...commonProblems])
  // The middleware refuses malformed path and query parameters before the handler runs.
  if (route.params || route.query) problems.add(400)
  for (const status of [...problems].sort((a, b) => a - b)) {
    if (responses[String(status)]) continue
    usedProblems.add(status)
    responses[String(status)] = { $ref: `#/components/responses/${problemResponseName(status)}` }
  }
  responses.default = { $ref: '#/components/responses/Error' }

  return {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    security: route.security === 'session' ? [{ sessionToken: [] }, { sessionCookie: [] }] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: requestBody(route.body, schemas) } : {}),
    responses,
  }
}

function requestBody(body: NonNullable<ApiRoute['body']>, schemas: SchemaCollector): Json {
  if ('json' in body) {
    return {
      required: true,
      ...(body.description ? { description: body.description } : {}),
      content: { 'application/json': { schema: schemas.convert(body.json, 'input') } },
    }
  }
  return { required: true, description: body.description, content: { [body.contentType]: {} } }
}

function parametersOf(
  object: z.ZodObject | undefined,
  where: 'path' | 'query' | 'header',
  schemas: SchemaCollector,
): OpenApiParameter[] {
  if (!object) return []
  const json = schemas.convert(object, 'input')
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>
  const required = new Set((json.required ?? []) as string[])
  return Object.entries(properties).map(([name, schema]) => {
    const { description, ...rest } = schema
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    }
  })
}

function problemResponseName(status: number): string {
  const name = PROBLEM_RESPONSES[status]
  if (!name) throw new Error(`No shared problem response for status ${status}`)
  return name
}

type SchemaCollector = {
  readonly components: Record<string, JsonSchema>
  /** JSON Schema of `schema`; the named schemas it uses go to `components`, referenced. */
  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema
}

function createSchemaCollector(): SchemaCollector {
  const components: Record<string, JsonSchema> = {}
  const texts = new Map<string, string>()

  function convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const json = z.toJSONSchema(schema, {
      metadata: apiSchemas,
      target: 'draft-2020-12',
      io,
      unrepresentable: 'throw',
    }) as JsonSchema
    const { $schema: _dialect, $defs, ...root } = json
    for (const [id, definition] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      const rewritten = rewriteRefs(definition) as JsonSchema
      const text = JSON.stringify(rewritten)
      const before = texts.get(id)
      if (before !== undefined && before !== text) {
        throw new Error(`The schema ${id} converts differently where it is used (input and output?)`)
      }
      texts.set(id, text)
      components[id] = rewritten
    }
    return rewriteRefs(root) as JsonSchema
  }

  return { components, convert }
}

/** zod writes references to its own `$defs`; the document keeps them in `components.schemas`. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/')
        ? `#/components/schemas/${inner.slice('#/$defs/'.length)}`
        : rewriteRefs(inner)
  }
  return out
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)))
}
