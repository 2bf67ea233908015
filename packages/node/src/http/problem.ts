import { BaseError } from '@pcmims/core'
import type { Logger } from '../logger.js'
import { HttpError, RateLimitedError } from './errors.js'

/** Codes of core errors that mean "the client sent something wrong", mapped to their HTTP status. */
const STATUS_BY_CODE: Record<string, number> = {
  UNAUTHENTICATED: 401,
  ACCESS_DENIED: 403,
  NOT_FOUND: 404,
  INVALID_FORMAT: 400,
  INVALID_RECORD_ID: 400,
  INVALID_CID: 400,
  CID_MISMATCH: 400,
  INVALID_BLOCK: 400,
  BLOCK_NOT_FOUND: 404,
  INVALID_RANGE: 416,
  STORE_CLOSED: 503,
  TOO_LARGE: 413,
  PAYLOAD_TOO_LARGE: 413,
  CONTRACT_REVERTED: 409,
  CHAIN_UNAVAILABLE: 503,
  IPFS_UNAVAILABLE: 503,
}

/**
 * The one place any error becomes an HTTP answer (RFC 9457 problem+json). Known errors keep their
 * short message and code; anything else is a 500 that says nothing about its cause, which only the
 * log sees.
 */
export function errorToResponse(error: unknown, logger: Logger, requestId: string): Response {
  let status = 500
  let body: Record<string, unknown> = {
    type: 'about:blank',
    title: 'Internal error',
    status,
    code: 'INTERNAL',
    requestId,
  }
  if (error instanceof BaseError) {
    status = error instanceof HttpError ? error.status : (STATUS_BY_CODE[error.code] ?? 500)
    if (status < 500 || error instanceof HttpError) {
      body = {
        type: 'about:blank',
        title: error.shortMessage,
        status,
        code: error.code,
        ...(error.details && status < 500 ? { detail: error.details } : {}),
        requestId,
      }
    }
  }
  if (status >= 500) logger.error({ err: serializeError(error), requestId }, 'request failed')
  else logger.info({ code: body.code, status, requestId }, 'request refused')
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' }
  if (error instanceof RateLimitedError) headers['retry-after'] = String(error.retryAfterS)
  return new Response(JSON.stringify(body), { status, headers })
}

function serializeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return {
      // `type`, not `name`: the logger censors every `name` key (patient names).
      type: error.name,
      message: error.message,
      stack: error.stack,
      cause: serializeCause(error.cause),
    }
  }
  return { value: String(error) }
}

function serializeCause(cause: unknown): unknown {
  return cause instanceof Error ? { type: cause.name, message: cause.message } : undefined
}
