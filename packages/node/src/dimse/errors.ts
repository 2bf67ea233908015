import { BaseError } from '@pcmims/core'
import { StoreStatus } from './constants.js'

/** The DICOM receiver could not start (bad parameters, port taken, spool directory unusable). */
export class DimseReceiverError extends BaseError {
  override name = 'DimseReceiverError'
  constructor(message: string, details?: string, cause?: unknown) {
    super(message, { code: 'DIMSE_RECEIVER_FAILED', details, cause })
  }
}

/**
 * Thrown by an `onInstance` handler to refuse an instance with a given C-STORE failure status, e.g.
 * `StoreStatus.CannotUnderstand` (0xC000) for a data set that does not parse, `StoreStatus.OutOfResources`
 * (0xA700) when storage is full. Any other error refuses it with 0x0110 (processing failure).
 */
export class DimseStoreError extends BaseError {
  override name = 'DimseStoreError'
  readonly status: number
  constructor(status: number, message: string, details?: string, cause?: unknown) {
    super(message, { code: 'DIMSE_STORE_REFUSED', details, cause })
    this.status = status === StoreStatus.Success ? StoreStatus.ProcessingFailure : status
  }
}
