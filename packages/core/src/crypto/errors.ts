import { BaseError } from '../errors/base-error.js'

/**
 * Ciphertext did not authenticate or is malformed: a wrong key, a tampered, truncated, reordered or
 * extended stream, or a bad header. Never retry with the same inputs; never use partial output.
 */
export class DecryptionError extends BaseError {
  override name = 'DecryptionError'
  constructor(shortMessage: string, params: { details?: string | undefined; cause?: unknown } = {}) {
    super(shortMessage, { ...params, code: 'DECRYPTION_FAILED' })
  }
}

/** A key has the wrong length or is not a valid key for its algorithm. */
export class InvalidKeyError extends BaseError {
  override name = 'InvalidKeyError'
  constructor(shortMessage: string, params: { details?: string | undefined; cause?: unknown } = {}) {
    super(shortMessage, { ...params, code: 'INVALID_KEY' })
  }
}

/** A parameter is outside what the format allows (chunk size, context field, length). */
export class InvalidParameterError extends BaseError {
  override name = 'InvalidParameterError'
  constructor(shortMessage: string, params: { details?: string | undefined; cause?: unknown } = {}) {
    super(shortMessage, { ...params, code: 'INVALID_PARAMETER' })
  }
}
