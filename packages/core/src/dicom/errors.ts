import { BaseError } from '../errors/base-error.js'

/** Stable codes of {@link DicomParseError}. */
export type DicomParseErrorCode =
  /** The input is larger than `maxBytes`; nothing was parsed. */
  | 'DICOM_TOO_LARGE'
  /** Deflated Explicit VR Little Endian that inflates beyond `maxInflatedBytes` (a decompression bomb). */
  | 'DICOM_INFLATE_TOO_LARGE'
  /** The deflated dataset is not a valid raw DEFLATE stream. */
  | 'DICOM_BAD_DEFLATE'
  /** No `DICM` prefix, no file meta group, and the bytes are not a readable dataset in any transfer syntax. */
  | 'DICOM_NOT_DICOM'
  /** A dataset without file meta that reads as a valid dataset in more than one transfer syntax. */
  | 'DICOM_AMBIGUOUS'
  /** The file meta information group has no Transfer Syntax UID (0002,0010). */
  | 'DICOM_NO_TRANSFER_SYNTAX'
  /** The file meta information group is structurally broken. */
  | 'DICOM_BAD_META'
  /** An element, item or sequence runs past the end of the data that contains it. */
  | 'DICOM_TRUNCATED'
  /** An explicit-VR element carries bytes that are not a value representation. */
  | 'DICOM_BAD_VR'
  /** A length that cannot be right: undefined where not allowed, not a multiple of the value size, or not tiling its container. */
  | 'DICOM_BAD_LENGTH'
  /** Something other than an item or delimiter where a sequence item must be. */
  | 'DICOM_BAD_SEQUENCE'
  /** The same tag twice in one dataset or item (readers disagree on which one counts). */
  | 'DICOM_DUPLICATE_ELEMENT'
  /** Sequences nested deeper than the reader allows. */
  | 'DICOM_TOO_DEEP'
  /** A Specific Character Set the reader cannot decode. */
  | 'DICOM_UNSUPPORTED_CHARSET'
  /** Structurally sound, yet the DICOM library refused it (the library's message is in `details`). */
  | 'DICOM_UNREADABLE'

/**
 * A file that is not readable DICOM. The message names the file (when known) and the problem; `tag` and
 * `offset` point at the culprit when there is one. Never contains attribute values (they may be PHI).
 */
export class DicomParseError extends BaseError {
  override name = 'DicomParseError'
  declare readonly code: DicomParseErrorCode
  readonly fileName: string | undefined
  /** `(gggg,eeee)` of the element at fault, if any. */
  readonly tag: string | undefined
  /** Byte offset in the file (or in the inflated dataset, for deflated files) of the element at fault. */
  readonly offset: number | undefined
  /** The problem alone, without the file name. */
  readonly problem: string

  constructor(
    code: DicomParseErrorCode,
    problem: string,
    params: {
      fileName?: string | undefined
      tag?: string | undefined
      offset?: number | undefined
      details?: string | undefined
      cause?: unknown
    } = {},
  ) {
    super(`${params.fileName ?? 'DICOM data'}: ${problem}`, {
      code,
      details: params.details,
      cause: params.cause,
    })
    this.fileName = params.fileName
    this.problem = problem
    this.tag = params.tag
    this.offset = params.offset
  }
}

/** Stable codes of {@link DicomStudyError}. */
export type DicomStudyErrorCode =
  | 'DICOM_MIXED_PATIENTS'
  | 'DICOM_MISSING_UID'
  | 'DICOM_DUPLICATE_INSTANCE'
  | 'DICOM_SERIES_CONFLICT'

/** A set of instances that cannot be grouped into studies as they are. */
export class DicomStudyError extends BaseError {
  override name = 'DicomStudyError'
  declare readonly code: DicomStudyErrorCode

  constructor(code: DicomStudyErrorCode, message: string, params: { details?: string | undefined } = {}) {
    super(message, { code, details: params.details })
  }
}

/** A dataset that cannot be written as asked. */
export class DicomWriteError extends BaseError {
  override name = 'DicomWriteError'

  constructor(message: string, params: { details?: string | undefined; cause?: unknown } = {}) {
    super(message, { code: 'DICOM_WRITE_FAILED', ...params })
  }
}
