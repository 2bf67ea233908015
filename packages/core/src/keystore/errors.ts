import { BaseError } from '../errors/base-error.js'

/** The passphrase does not open this keystore (its MAC does not match). */
export class WrongPassphraseError extends BaseError {
  override name = 'WrongPassphraseError'
  constructor(params: { details?: string | undefined; cause?: unknown } = {}) {
    super('Wrong passphrase', { ...params, code: 'WRONG_PASSPHRASE' })
  }
}

/** Not a usable Web3 Secret Storage v3 keystore: bad JSON, unsupported cipher or KDF, limits exceeded. */
export class InvalidKeystoreError extends BaseError {
  override name = 'InvalidKeystoreError'
  constructor(shortMessage: string, params: { details?: string | undefined; cause?: unknown } = {}) {
    super(`Invalid keystore: ${shortMessage}`, { ...params, code: 'INVALID_KEYSTORE' })
  }
}
