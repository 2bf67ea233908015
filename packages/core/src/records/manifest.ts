import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from 'multiformats/cid'
import type { Address } from 'viem'
import { z } from 'zod'
import { type StudyManifest, studyManifestSchema } from '../dicom/study/study-manifest.js'
import { type ReportSummary, reportSummarySchema } from '../reports/report-summary.js'
import { InvalidFormatError } from './errors.js'
import type { RecordKind } from './schema-helpers.js'
import {
  addressBytesSchema,
  addressToBytes,
  bytesSchema,
  cidSchema,
  decodeDagCborWith,
  recordKindSchema,
} from './schema-helpers.js'

export const MANIFEST_TYPE = 'pcmims/record-manifest'
/** Hard bounds so a hostile manifest cannot make a reader allocate without limit. */
export const MANIFEST_LIMITS = { maxFiles: 100_000, maxText: 4096, maxPath: 1024, maxBytes: 64 * 1024 * 1024 }

const text = z.string().max(MANIFEST_LIMITS.maxText)

const manifestFileSchema = z.strictObject({
  path: z.string().min(1).max(MANIFEST_LIMITS.maxPath),
  mediaType: z.string().min(1).max(255),
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  sha256: bytesSchema(32, 32),
  cid: cidSchema,
  ciphertextSize: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
})

const manifestSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal(MANIFEST_TYPE),
  nonce: bytesSchema(16, 16),
  kind: recordKindSchema,
  patient: z.strictObject({
    address: addressBytesSchema,
    name: text.optional(),
    mrn: text.optional(),
    birthDate: text.optional(),
  }),
  appointment: text.optional(),
  description: text.optional(),
  date: text,
  createdAt: text,
  uploader: addressBytesSchema,
  unit: addressBytesSchema,
  files: z.array(manifestFileSchema).min(1).max(MANIFEST_LIMITS.maxFiles),
  /** A DICOM study: its series and instances, each instance one of `files` (by `path`). */
  study: studyManifestSchema.optional(),
  /** A report (PDF, FHIR, DICOM SR, encapsulated PDF): what the portal shows without opening the file. */
  report: reportSummarySchema.optional(),
})

export type ManifestFile = {
  /** Relative path inside the record, `/`-separated, never absolute, never `..`. */
  path: string
  mediaType: string
  size: number
  /** SHA-256 of the plaintext. */
  sha256: Uint8Array
  /** CID of the ciphertext on IPFS. */
  cid: CID
  ciphertextSize: number
}

/**
 * The encrypted half of a record: everything identifying or clinical lives here, never on chain and
 * never in the plaintext envelope.
 */
export type RecordManifest = {
  v: 1
  type: typeof MANIFEST_TYPE
  nonce: Uint8Array
  kind: RecordKind
  patient: {
    address: Address
    name?: string | undefined
    mrn?: string | undefined
    birthDate?: string | undefined
  }
  appointment?: string | undefined
  description?: string | undefined
  /** Date of the examination or report (ISO 8601). */
  date: string
  /** When the record was built (ISO 8601). */
  createdAt: string
  uploader: Address
  unit: Address
  files: ManifestFile[]
  /** For a DICOM study: the study / series / instance hierarchy and what search and display need. */
  study?: StudyManifest | undefined
  /** For a report: title, date, status and the results table (clinical data: sealed here only). */
  report?: ReportSummary | undefined
}

export function encodeManifest(manifest: RecordManifest): Uint8Array {
  for (const file of manifest.files) assertSafeRelativePath(file.path)
  const value = {
    ...stripUndefined(manifest),
    patient: stripUndefined({ ...manifest.patient, address: addressToBytes(manifest.patient.address) }),
    uploader: addressToBytes(manifest.uploader),
    unit: addressToBytes(manifest.unit),
  }
  return dagCbor.encode(value)
}

export function decodeManifest(bytes: Uint8Array): RecordManifest {
  const value = decodeDagCborWith(manifestSchema, bytes, 'Manifest', MANIFEST_LIMITS.maxBytes)
  for (const file of value.files) assertSafeRelativePath(file.path)
  return value as RecordManifest
}

/**
 * Manifest paths end up as file names on the reader's disk, so they are checked on both ends:
 * no absolute paths, no `..`, no backslashes or NUL, no empty segments.
 */
export function assertSafeRelativePath(path: string): void {
  const bad =
    path.length === 0 ||
    path.startsWith('/') ||
    path.includes('\\') ||
    path.includes('\0') ||
    /^[a-zA-Z]:/.test(path) ||
    path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')
  if (bad)
    throw new InvalidFormatError('Unsafe file path in manifest', {
      details: JSON.stringify(path.slice(0, 200)),
    })
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
