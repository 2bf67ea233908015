import type { StudyManifest, StudyManifestInstance } from '@pcmims/core'
import type { Context } from 'hono'
import type { Address, Hex } from 'viem'
import type { AuditFacts } from '../http/audit.js'

/** One study of a record a source holds, as its sealed manifest describes it. */
export type IndexedStudy = {
  recordId: Hex
  patient: Address
  createdAt: number
  study: StudyManifest
}

/**
 * `download`: the caller may take the original instances (patient, download grantee, emergency).
 * `view`: a view-only grantee: search, metadata, frames, rendered images and thumbnails, but no Part 10
 * download of the original (the viewer needs pixels; the patient said "look, don't take").
 */
export type StudyAccess = 'download' | 'view'

export type ReadableStudy = IndexedStudy & { emergency: boolean; access: StudyAccess }

export type { AuditFacts as DicomwebFacts }

export type SourceOptions = { signal?: AbortSignal | undefined }

/**
 * Where a DICOMweb service gets its studies from and whom it serves: the node (records it is custodian
 * of, decrypted with the unit's key, for signed-in callers) or a key holder's own machine (records the
 * user's key opens, for that user alone). Access is asked of the chain on every request through
 * `readable`, never remembered, so a revoked grant stops serving on the next request.
 */
export type StudySource = {
  /** Who is asking (the signed-in caller, or the key holder); throws 401 when nobody is. */
  caller(c: Context): Promise<Address>
  /** Runs one request and records it (the node's audit log); the facts may be completed by `run`. */
  audited<T>(c: Context, facts: AuditFacts, run: (facts: AuditFacts) => Promise<T>): Promise<T>
  /** Every study the source holds, whoever may read it (callers only ever see what `readable` keeps). */
  listStudies(options?: SourceOptions): Promise<IndexedStudy[]>
  /** The studies `caller` may read decrypted now, and how: asked of the chain on every call. */
  readable(caller: Address, studies: IndexedStudy[], options?: SourceOptions): Promise<ReadableStudy[]>
  /** One instance's plaintext Part 10 bytes, checked against the manifest's size and SHA-256. */
  readInstance(
    study: ReadableStudy,
    instance: StudyManifestInstance,
    options?: SourceOptions,
  ): Promise<Uint8Array>
  /**
   * One instance streamed chunk by chunk (study- and series-level retrieve), so a whole study is never
   * held in memory. Every chunk is authenticated; a size or SHA-256 mismatch ends the stream with an error.
   */
  streamInstance(
    study: ReadableStudy,
    instance: StudyManifestInstance,
    options?: SourceOptions,
  ): AsyncIterable<Uint8Array>
}
