import { concatBytes } from '@pcmims/core'
import type { z } from 'zod'
import { BadRequestError, PayloadTooLargeError } from './errors.js'

/** Reads a request body up to `limit` bytes, refusing early on a too-large Content-Length. */
export async function readBodyLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length')
  if (declared !== null) {
    const length = Number(declared)
    if (!Number.isSafeInteger(length) || length < 0) throw new BadRequestError('Invalid Content-Length')
    if (length > limit) throw new PayloadTooLargeError(limit)
  }
  if (!request.body) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength
    if (total > limit) throw new PayloadTooLargeError(limit)
    chunks.push(chunk)
  }
  return concatBytes(...chunks)
}

/** Parses a JSON body (already size-checked), mapping syntax errors to a 400. */
export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new BadRequestError('Request body is not valid JSON', undefined, 'INVALID_JSON')
  }
}

/** Parses a size-checked JSON body against its schema; a mismatch is a 400 naming the first fields. */
export function parseJsonBody<T extends z.ZodType>(
  schema: T,
  bytes: Uint8Array,
  what = 'request body',
): z.output<T> {
  const parsed = schema.safeParse(parseJson(bytes))
  if (!parsed.success) throw new BadRequestError(`Invalid ${what}`, zodIssues(parsed.error), 'INVALID_BODY')
  return parsed.data
}

export function zodIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
    .join('; ')
}
