import { BaseError } from '../../errors/base-error.js'

/** The per-set secret for UID remapping is missing or too short. */
export class InvalidDeidentifySecretError extends BaseError {
  override name = 'InvalidDeidentifySecretError'
  constructor(shortMessage: string, params: { details?: string | undefined; cause?: unknown } = {}) {
    super(shortMessage, { ...params, code: 'DEIDENTIFY_INVALID_SECRET' })
  }
}

/**
 * One file could not be de-identified (unreadable, no SOP Instance UID, or it cannot be written back). The
 * message names the file by its index in the set; it never carries attribute values (they may be PHI).
 */
export class DeidentifyError extends BaseError {
  override name = 'DeidentifyError'
  /** Position of the file in the set given to `deidentifyStudy`, when known. */
  readonly index: number | undefined
  constructor(
    shortMessage: string,
    params: { index?: number | undefined; details?: string | undefined; cause?: unknown } = {},
  ) {
    super(params.index === undefined ? shortMessage : `file #${params.index}: ${shortMessage}`, {
      details: params.details,
      cause: params.cause,
      code: 'DEIDENTIFY_FAILED',
    })
    this.index = params.index
  }
}
