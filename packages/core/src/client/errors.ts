import { BaseError, type BaseErrorParameters } from '../errors/base-error.js'

/** A rule of the system refused the operation before anything was stored or anchored. */
export class PreconditionError extends BaseError {
  override name = 'PreconditionError'
  constructor(message: string, params: BaseErrorParameters = {}) {
    super(message, { code: 'PRECONDITION_FAILED', ...params })
  }
}

/** The chain says no (or cannot be asked): nothing is fetched or decrypted. */
export class AccessDeniedError extends BaseError {
  override name = 'AccessDeniedError'
  constructor(message: string, params: BaseErrorParameters = {}) {
    super(message, { code: 'ACCESS_DENIED', ...params })
  }
}
