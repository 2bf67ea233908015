import { BaseError, type BaseErrorParameters } from '@pcmims/core'

export class HttpError extends BaseError {
  override name = 'HttpError'
  readonly status: number
  constructor(status: number, message: string, params: BaseErrorParameters = {}) {
    super(message, params)
    this.status = status
  }
}

export class AccessDeniedError extends HttpError {
  override name = 'AccessDeniedError'
  constructor(message = 'Access denied', details?: string) {
    super(403, message, { code: 'ACCESS_DENIED', details })
  }
}

export class NotFoundError extends HttpError {
  override name = 'NotFoundError'
  constructor(message = 'Not found', details?: string) {
    super(404, message, { code: 'NOT_FOUND', details })
  }
}

export class BadRequestError extends HttpError {
  override name = 'BadRequestError'
  constructor(message: string, details?: string, code = 'BAD_REQUEST') {
    super(400, message, { code, details })
  }
}

export class PayloadTooLargeError extends HttpError {
  override name = 'PayloadTooLargeError'
  constructor(limit: number) {
    super(413, 'Request body is too large', { code: 'PAYLOAD_TOO_LARGE', details: `limit ${limit} bytes` })
  }
}

/** The chain could not be read: reads fail closed rather than guess. */
export class ChainUnavailableError extends HttpError {
  override name = 'ChainUnavailableError'
  constructor(cause?: unknown) {
    super(503, 'The chain cannot be reached; access cannot be checked', { code: 'CHAIN_UNAVAILABLE', cause })
  }
}

/** No valid session: sign in first (or again). */
export class UnauthenticatedError extends HttpError {
  override name = 'UnauthenticatedError'
  constructor(message = 'Sign in first', details?: string, code = 'UNAUTHENTICATED') {
    super(401, message, { code, details })
  }
}

/** Too many requests from one caller: try again after `retryAfterS` seconds (sent as `retry-after`). */
export class RateLimitedError extends HttpError {
  override name = 'RateLimitedError'
  readonly retryAfterS: number
  constructor(retryAfterS: number) {
    super(429, 'Too many requests', { code: 'RATE_LIMITED', details: `retry after ${retryAfterS} s` })
    this.retryAfterS = retryAfterS
  }
}
