import { HttpError } from '../http/errors.js'

/** The upload's offset is elsewhere: the client must ask (HEAD) and resume from there. */
export class OffsetMismatchError extends HttpError {
  override name = 'OffsetMismatchError'
  readonly offset: number
  constructor(offset: number) {
    super(409, 'Upload-Offset does not match the upload', {
      code: 'OFFSET_MISMATCH',
      details: `the upload is at ${offset}`,
    })
    this.offset = offset
  }
}

/** The upload was abandoned for too long and is gone. */
export class UploadExpiredError extends HttpError {
  override name = 'UploadExpiredError'
  constructor() {
    super(410, 'The upload has expired', { code: 'UPLOAD_EXPIRED' })
  }
}

/** The bytes sent go past the length declared at creation. */
export class UploadLengthExceededError extends HttpError {
  override name = 'UploadLengthExceededError'
  constructor(room: number) {
    super(413, 'The chunk goes past Upload-Length', {
      code: 'UPLOAD_LENGTH_EXCEEDED',
      details: `${room} bytes remain`,
    })
  }
}

/** The body did not arrive whole (the connection broke, or a newer request took the upload over). */
export class UploadInterruptedError extends HttpError {
  override name = 'UploadInterruptedError'
  constructor(details: string, cause?: unknown) {
    super(400, 'The chunk did not arrive whole; nothing of it was kept', {
      code: 'UPLOAD_INTERRUPTED',
      details,
      cause,
    })
  }
}

/** A client speaking another version of tus. */
export class TusVersionError extends HttpError {
  override name = 'TusVersionError'
  constructor() {
    super(412, 'Unsupported tus version', {
      code: 'TUS_VERSION',
      details: 'Tus-Resumable: 1.0.0 is required',
    })
  }
}

export class UnsupportedMediaTypeError extends HttpError {
  override name = 'UnsupportedMediaTypeError'
  constructor(expected: string) {
    super(415, 'Unsupported Content-Type', {
      code: 'UNSUPPORTED_MEDIA_TYPE',
      details: `expected ${expected}`,
    })
  }
}
