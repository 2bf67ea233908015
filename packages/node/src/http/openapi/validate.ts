import { BaseError } from '@pcmims/core'
import type { MiddlewareHandler } from 'hono'
import type { z } from 'zod'
import type { Logger } from '../../logger.js'
import { zodIssues } from '../body.js'
import { BadRequestError } from '../errors.js'
import { errorToResponse } from '../problem.js'
import type { ApiRoute, ApiSpec, HttpMethod } from './api-spec.js'
import { Problem, problemCodeOf } from './schemas.js'

/** A handler answered something its API document does not describe: a bug of the node, never the client's. */
export class ResponseMismatchError extends BaseError {
  override name = 'ResponseMismatchError'
  constructor(details: string) {
    super('The response does not match the API document', { code: 'RESPONSE_MISMATCH', details })
  }
}

export type RouteMatch = { route: ApiRoute; params: Record<string, string> }

/**
 * Finds the registry entry of a request by method and path (as Hono routes it: HEAD falls back to
 * GET, a parameter is one non-empty segment). The most literal template wins.
 */
export function createRouteMatcher(spec: ApiSpec): (method: string, path: string) => RouteMatch | undefined {
  const compiled = spec.routes.map((route) => ({
    route,
    segments: route.path.split('/').map((segment) => {
      const name = /^\{([^}]+)\}$/.exec(segment)?.[1]
      return name === undefined ? { literal: segment } : { param: name }
    }),
  }))
  const find = (method: HttpMethod, parts: string[]): RouteMatch | undefined => {
    let best: RouteMatch | undefined
    let bestLiterals = -1
    for (const { route, segments } of compiled) {
      if (route.method !== method || segments.length !== parts.length) continue
      const params: Record<string, string> = {}
      let literals = 0
      const matches = segments.every((segment, i) => {
        const part = parts[i] as string
        if ('literal' in segment) {
          literals++
          return segment.literal === part
        }
        if (part === '') return false
        params[segment.param] = decodeSegment(part)
        return true
      })
      if (matches && literals > bestLiterals) {
        best = { route, params }
        bestLiterals = literals
      }
    }
    return best
  }
  return (method, path) => {
    const parts = path.split('/')
    const lower = method.toLowerCase() as HttpMethod
    return find(lower, parts) ?? (lower === 'head' ? find('get', parts) : undefined)
  }
}

export type ValidateAgainstSpecOptions = { logger: Logger }

/**
 * Checks each request of a documented route against its registry entry: path parameters and query
 * before the handler (a mismatch is a 400 problem, INVALID_PARAMS or INVALID_QUERY, through the usual
 * error mapping), and the JSON answer after it. An answer the document does not describe is a bug: it
 * is logged by route template, status and issue paths only (answers carry PHI), and the client gets a
 * 500 that says nothing. Request bodies are left to the handlers, which read them bounded.
 */
export function validateAgainstSpec(
  spec: ApiSpec,
  { logger }: ValidateAgainstSpecOptions,
): MiddlewareHandler {
  const match = createRouteMatcher(spec)
  return async (c, next) => {
    const matched = match(c.req.method, c.req.path)
    if (!matched) return next()
    const { route, params } = matched
    if (route.params) checkInput(route.params, params, 'Invalid path parameters', 'INVALID_PARAMS')
    if (route.query) checkInput(route.query, queryOf(c.req.url), 'Invalid query', 'INVALID_QUERY')
    await next()
    const mismatch = await responseMismatch(c.res, route).catch(() => 'the answer could not be checked')
    if (mismatch === undefined) return
    const original = c.res
    const replacement = errorToResponse(
      new ResponseMismatchError(
        `${route.method.toUpperCase()} ${route.path} ${original.status}: ${mismatch}`,
      ),
      logger,
      crypto.randomUUID(),
    )
    for (const name of ['cache-control', 'x-content-type-options']) {
      const value = original.headers.get(name)
      if (value !== null) replacement.headers.set(name, value)
    }
    await original.body?.cancel().catch(() => {})
    // Unset first: Hono's setter would carry the old answer's headers over (cookies, lengths).
    c.res = undefined
    c.res = replacement
  }
}

function checkInput(schema: z.ZodObject, value: Record<string, unknown>, title: string, code: string): void {
  const parsed = schema.safeParse(value)
  if (parsed.success) return
  const first = parsed.error.issues[0]?.path[0]
  const specific = typeof first === 'string' ? problemCodeOf(schema.shape[first]) : undefined
  throw new BadRequestError(title, zodIssues(parsed.error), specific ?? code)
}

/** A path segment as Hono decodes a parameter: percent-decoded, or as is when that fails. */
function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** The query as an object; a key given twice becomes an array, which no query schema accepts. */
function queryOf(url: string): Record<string, string | string[]> {
  const search = new URL(url).searchParams
  const query: Record<string, string | string[]> = {}
  for (const key of new Set(search.keys())) {
    const values = search.getAll(key)
    query[key] = values.length === 1 ? (values[0] as string) : values
  }
  return query
}

/** Why `response` is not what `route` documents, without any of its content; undefined when it is. */
async function responseMismatch(response: Response, route: ApiRoute): Promise<string | undefined> {
  const status = response.status
  const declared = route.responses[status]
  const type = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
  let schema: z.ZodType
  if (declared) {
    // Streams, DAG-CBOR and empty answers are described by their media type only.
    if (!declared.json) return undefined
    if (type !== 'application/json') return `content-type ${type ?? 'missing'}, expected application/json`
    schema = declared.json
  } else if (status >= 400) {
    if (type !== 'application/problem+json') return `content-type ${type ?? 'missing'} for an error`
    schema = Problem
  } else {
    return 'undocumented status'
  }
  let body: unknown
  try {
    body = JSON.parse(await response.clone().text())
  } catch {
    return 'body is not JSON'
  }
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    return parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.map(String).join('.') || '(body)'} (${issue.code})`)
      .join('; ')
  }
  if (!declared && (parsed.data as { status: number }).status !== status) return 'status (problem status)'
  return undefined
}
