import type { DcmjsDataset } from '../dicom/dcmjs.js'
import { DicomParseError } from '../dicom/errors.js'
import { parseDicomFile } from '../dicom/parse/parse-dicom-file.js'
import { MediaError } from './errors.js'

/** Media Storage Directory Storage (PS3.4 Annex F): the SOP class of a DICOMDIR. */
export const MEDIA_STORAGE_DIRECTORY_SOP_CLASS = '1.2.840.10008.1.3.10'
export const DICOMDIR_LIMITS = { maxRecords: 200_000, maxBytes: 64 * 1024 * 1024 }

const DIRECTORY_RECORD_SEQUENCE = '00041220'
const DIRECTORY_RECORD_TYPE = '00041430'
const REFERENCED_FILE_ID = '00041500'
const MEDIA_STORAGE_SOP_CLASS = '00020002'
/** PS3.10 8.5 / PS3.12: each component of a File ID is 1–8 of A–Z, 0–9 and `_`; at most 8 components. */
const COMPONENT = /^[A-Z0-9_]{1,8}$/

export type DicomdirReference = {
  /** The Referenced File ID as a `/`-separated path relative to the DICOMDIR's folder. */
  path: string
  /** Directory Record Type (IMAGE, SR DOCUMENT, ENCAP DOC, …). */
  recordType: string
}

export type ReadDicomdirParameters = {
  /** For error messages only. */
  fileName?: string | undefined
  maxRecords?: number | undefined
}

/**
 * Reads a DICOMDIR (PS3.10 / PS3.3 F.3) and returns the files its directory records reference, each
 * Referenced File ID checked as a CD-style relative path (so it can never leave the medium's folder).
 * A file referenced twice is returned once. The DICOMDIR itself is an index, not an instance.
 */
export function readDicomdir(bytes: Uint8Array, params: ReadDicomdirParameters = {}): DicomdirReference[] {
  const source = params.fileName
  const maxRecords = params.maxRecords ?? DICOMDIR_LIMITS.maxRecords
  if (bytes.length > DICOMDIR_LIMITS.maxBytes)
    throw new MediaError('DICOMDIR_TOO_LARGE', `larger than ${DICOMDIR_LIMITS.maxBytes} bytes`, { source })
  let dataset: DcmjsDataset
  let meta: DcmjsDataset
  try {
    ;({ dataset, meta } = parseDicomFile(bytes, { fileName: source, maxBytes: DICOMDIR_LIMITS.maxBytes }))
  } catch (error) {
    if (!(error instanceof DicomParseError)) throw error
    throw new MediaError('DICOMDIR_INVALID', `not a readable DICOMDIR (${error.problem})`, {
      source,
      cause: error,
    })
  }
  const sopClass = firstString(meta[MEDIA_STORAGE_SOP_CLASS]?.Value)
  if (sopClass !== undefined && sopClass !== MEDIA_STORAGE_DIRECTORY_SOP_CLASS)
    throw new MediaError('DICOMDIR_INVALID', 'not a DICOMDIR (another Media Storage SOP Class)', { source })
  const records = dataset[DIRECTORY_RECORD_SEQUENCE]?.Value
  if (!Array.isArray(records))
    throw new MediaError('DICOMDIR_INVALID', 'not a DICOMDIR (no Directory Record Sequence)', { source })
  if (records.length > maxRecords)
    throw new MediaError(
      'DICOMDIR_TOO_LARGE',
      `${records.length} directory records, more than ${maxRecords}`,
      {
        source,
      },
    )
  const out: DicomdirReference[] = []
  const seen = new Set<string>()
  for (const [index, record] of records.entries()) {
    if (typeof record !== 'object' || record === null) continue
    const item = record as DcmjsDataset
    const id = item[REFERENCED_FILE_ID]?.Value
    if (id === undefined || id.length === 0) continue
    const components = id.map((c) => (typeof c === 'string' ? c.trim() : ''))
    if (components.length > 8 || !components.every((c) => COMPONENT.test(c)))
      throw new MediaError(
        'DICOMDIR_BAD_FILE_ID',
        `directory record ${index + 1} references a file ID that is not a CD-style relative path (up to 8 components of A-Z 0-9 _, 8 characters each)`,
        { source, details: JSON.stringify(id.slice(0, 16).map((c) => String(c).slice(0, 64))) },
      )
    const path = components.join('/')
    if (seen.has(path)) continue
    seen.add(path)
    out.push({ path, recordType: firstString(item[DIRECTORY_RECORD_TYPE]?.Value)?.trim() ?? '' })
  }
  return out
}

export type ResolveDicomdirParameters<T> = {
  references: DicomdirReference[]
  /** Files of the medium by path relative to the DICOMDIR's folder (`/`-separated). */
  files: ReadonlyMap<string, T>
  /** For error messages only. */
  fileName?: string | undefined
}

/**
 * Matches each reference to a file of the medium: exactly, else case-insensitively when one file alone
 * matches (CDs mounted or copied with lower-cased names). A reference with no file is an error naming it.
 */
export function resolveDicomdirReferences<T>(
  params: ResolveDicomdirParameters<T>,
): Array<{ path: string; file: T }> {
  const lower = new Map<string, string[]>()
  for (const path of params.files.keys()) {
    const key = path.toUpperCase()
    lower.set(key, [...(lower.get(key) ?? []), path])
  }
  return params.references.map((reference) => {
    const exact = params.files.get(reference.path)
    if (exact !== undefined) return { path: reference.path, file: exact }
    const candidates = lower.get(reference.path.toUpperCase()) ?? []
    if (candidates.length === 1) return { path: candidates[0]!, file: params.files.get(candidates[0]!)! }
    throw new MediaError(
      'DICOMDIR_MISSING_FILE',
      candidates.length > 1
        ? 'referenced by the DICOMDIR, but several files differ only by case'
        : 'referenced by the DICOMDIR, but not on the medium',
      { source: params.fileName, entry: reference.path },
    )
  })
}

function firstString(values: unknown[] | undefined): string | undefined {
  const value = values?.[0]
  return typeof value === 'string' ? value : undefined
}
