import { BaseError } from '../errors/base-error.js'

/** Stable codes of {@link ReportError}. */
export type ReportErrorCode =
  /** Not a PDF, FHIR JSON, DICOM SR or encapsulated PDF. */
  | 'REPORT_UNRECOGNIZED'
  /** Larger than the cap for its format; nothing was parsed. */
  | 'REPORT_TOO_LARGE'
  /** A PDF (or the document inside an encapsulated PDF) without the `%PDF-` header. */
  | 'REPORT_BAD_PDF'
  /** JSON that is not a FHIR R4 DiagnosticReport, Observation or Bundle of them, as far as PCMIMS reads it. */
  | 'REPORT_BAD_FHIR'
  /** A DICOM SR or encapsulated PDF that is not sound. */
  | 'REPORT_BAD_DICOM'

/** A report file that cannot be taken as given. The message names the file and the problem, never values. */
export class ReportError extends BaseError {
  override name = 'ReportError'
  declare readonly code: ReportErrorCode
  readonly fileName: string | undefined
  readonly problem: string

  constructor(
    code: ReportErrorCode,
    problem: string,
    params: { fileName?: string | undefined; details?: string | undefined; cause?: unknown } = {},
  ) {
    super(`${params.fileName ?? 'report'}: ${problem}`, {
      code,
      details: params.details,
      cause: params.cause,
    })
    this.fileName = params.fileName
    this.problem = problem
  }
}
