import { BaseError, type BaseErrorParameters } from '../errors/base-error.js'

export class InvalidRecordIdError extends BaseError {
  override name = 'InvalidRecordIdError'
  constructor(message: string, params: BaseErrorParameters = {}) {
    super(message, { code: 'INVALID_RECORD_ID', ...params })
  }
}

/** A manifest, envelope or key bundle that does not decode or does not match its schema. */
export class InvalidFormatError extends BaseError {
  override name = 'InvalidFormatError'
  constructor(message: string, params: BaseErrorParameters = {}) {
    super(message, { code: 'INVALID_FORMAT', ...params })
  }
}

/** Plaintext whose SHA-256 or size differs from what the manifest promised. */
export class IntegrityError extends BaseError {
  override name = 'IntegrityError'
  constructor(message: string, params: BaseErrorParameters = {}) {
    super(message, { code: 'INTEGRITY_FAILED', ...params })
  }
}
