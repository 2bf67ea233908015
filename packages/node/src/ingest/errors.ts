import { BaseError } from '@pcmims/core'

export type IngestErrorCode =
  | 'INGEST_UNREADABLE'
  | 'INGEST_MISSING_UID'
  | 'INGEST_SOP_MISMATCH'
  | 'INGEST_STUDY_MISMATCH'
  | 'INGEST_PATIENT_MISMATCH'
  | 'INGEST_TOO_LARGE'
  | 'INGEST_STOPPED'

/**
 * An instance the node will not take: the message names the problem, never the patient (messages end up
 * in logs and in DIMSE/STOW answers). `dimseStatus` is the C-STORE failure status that says the same.
 */
export class IngestError extends BaseError {
  override name = 'IngestError'
  readonly dimseStatus: number
  /** The instance's UIDs when they could be read (a STOW-RS answer names the failed instance). */
  readonly sopClassUid: string | undefined
  readonly sopInstanceUid: string | undefined
  constructor(
    code: IngestErrorCode,
    message: string,
    options: {
      details?: string | undefined
      cause?: unknown
      dimseStatus: number
      sopClassUid?: string | undefined
      sopInstanceUid?: string | undefined
    },
  ) {
    super(message, { code, details: options.details, cause: options.cause })
    this.dimseStatus = options.dimseStatus
    this.sopClassUid = options.sopClassUid
    this.sopInstanceUid = options.sopInstanceUid
  }
}
