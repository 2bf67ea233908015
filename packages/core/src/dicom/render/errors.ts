import { BaseError } from '../../errors/base-error.js'

/** Stable codes of {@link DicomDecodeError}. */
export type DicomDecodeErrorCode =
  /** The transfer syntax (or a process inside it, e.g. progressive JPEG) has no decoder here. */
  | 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX'
  /** The image attributes ask for something this module does not render (e.g. 64-bit float pixels). */
  | 'DICOM_UNSUPPORTED_IMAGE'
  /** The dataset has no Pixel Data (e.g. a structured report). */
  | 'DICOM_NO_PIXEL_DATA'
  /** Image attributes missing or contradictory (Rows 0, BitsStored > BitsAllocated, …). */
  | 'DICOM_INVALID_IMAGE_ATTRIBUTES'
  /** Pixel Data shorter than the attributes require, or an encapsulated item runs past the end. */
  | 'DICOM_PIXEL_DATA_TRUNCATED'
  /** The bytes are not a DICOM Part 10 file or dataset that can be read. */
  | 'DICOM_UNREADABLE'
  /** A codec rejected the compressed frame. */
  | 'DICOM_DECODE_FAILED'
  /** Frame number outside 1..NumberOfFrames. */
  | 'DICOM_FRAME_OUT_OF_RANGE'

export type DicomDecodeErrorParameters = {
  code: DicomDecodeErrorCode
  details?: string | undefined
  cause?: unknown
  transferSyntaxUid?: string | undefined
}

/** Thrown when pixel data cannot be extracted, decoded or rendered. */
export class DicomDecodeError extends BaseError {
  override name = 'DicomDecodeError'
  override readonly code: DicomDecodeErrorCode
  readonly transferSyntaxUid: string | undefined

  constructor(shortMessage: string, params: DicomDecodeErrorParameters) {
    super(shortMessage, { code: params.code, details: params.details, cause: params.cause })
    this.code = params.code
    this.transferSyntaxUid = params.transferSyntaxUid
  }
}
