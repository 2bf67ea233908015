import { BaseError } from '../errors/base-error.js'

/** Stable codes of {@link MediaError}. */
export type MediaErrorCode =
  /** Not a ZIP archive (no end of central directory record), or a structure that cannot be right. */
  | 'ZIP_CORRUPT'
  /** More entries than the reader allows. */
  | 'ZIP_TOO_MANY_ENTRIES'
  /** One entry declares or inflates to more than the per-entry cap, or past its declared size. */
  | 'ZIP_ENTRY_TOO_LARGE'
  /** The entries together declare more than the total cap. */
  | 'ZIP_TOO_LARGE'
  /** An entry name that is absolute, has a drive letter, `..`, a backslash, a NUL or an empty segment. */
  | 'ZIP_UNSAFE_PATH'
  /** The same name twice. */
  | 'ZIP_DUPLICATE_ENTRY'
  /** A password-protected (traditional or AES) entry: PCMIMS never asks for archive passwords. */
  | 'ZIP_ENCRYPTED'
  /** ZIP64, multi-disk archives, compression methods other than stored/deflate, symbolic links. */
  | 'ZIP_UNSUPPORTED'
  /** A ZIP inside the ZIP: refused, one level only. */
  | 'ZIP_NESTED'
  /** The entry's data does not inflate, or its size or CRC-32 differs from the directory's. */
  | 'ZIP_BAD_DATA'
  /** The DICOMDIR is not a readable DICOMDIR (no Directory Record Sequence, not a Media Storage Directory). */
  | 'DICOMDIR_INVALID'
  /** A Referenced File ID that is not a CD-style relative path (1–8 components of A–Z 0–9 _ , ≤ 8 chars). */
  | 'DICOMDIR_BAD_FILE_ID'
  /** A file the DICOMDIR references is not on the medium. */
  | 'DICOMDIR_MISSING_FILE'
  /** More directory records than the reader allows. */
  | 'DICOMDIR_TOO_LARGE'
  /** Not a PNG or JPEG, a broken header, or more pixels than allowed. */
  | 'IMAGE_INVALID'

/**
 * An archive, medium or image that cannot be read as given. The message names the source (archive
 * file name, `archive.zip!entry/name` for an entry) and the problem; never file contents.
 */
export class MediaError extends BaseError {
  override name = 'MediaError'
  declare readonly code: MediaErrorCode
  /** The archive or file, as the caller named it. */
  readonly source: string | undefined
  /** The entry inside the archive, or the referenced file of a DICOMDIR. */
  readonly entry: string | undefined
  /** The problem alone, without the names. */
  readonly problem: string

  constructor(
    code: MediaErrorCode,
    problem: string,
    params: {
      source?: string | undefined
      entry?: string | undefined
      details?: string | undefined
      cause?: unknown
    } = {},
  ) {
    const where = [params.source, params.entry].filter((s) => s !== undefined).join('!')
    super(`${where || 'media'}: ${problem}`, { code, details: params.details, cause: params.cause })
    this.source = params.source
    this.entry = params.entry
    this.problem = problem
  }
}
