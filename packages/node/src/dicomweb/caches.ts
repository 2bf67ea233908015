import type { ManifestFile, StudyManifestInstance } from '@pcmims/core'
import type { Hex } from 'viem'
import { NotFoundError } from '../http/errors.js'
import { ByteLru } from './byte-lru.js'

/** Bounds of the decrypted data a DICOMweb source keeps in memory (never on disk). */
export type DicomwebCacheOptions = {
  /** Opened records (manifest + data key) kept, by count (default 64). */
  records?: number | undefined
  /** Bytes of plaintext instances kept (default 64 MiB; 0 turns the instance cache off). */
  instanceBytes?: number | undefined
  /** Instances larger than this are streamed, never kept (default 8 MiB). */
  maxInstanceBytes?: number | undefined
}

export type DicomwebCaches<R> = {
  record(recordId: Hex, open: () => Promise<R>): Promise<R>
  instance(key: string, size: number, read: () => Promise<Uint8Array>): Promise<Uint8Array>
  /** A cached instance, or undefined (streaming readers do not fill the cache). */
  peekInstance(key: string): Uint8Array | undefined
}

/**
 * The caches of one DICOMweb service: opened records and recently read instances, LRU, in memory only.
 * They hold plaintext and keys, never access decisions: every request still asks the chain first.
 * Concurrent misses for the same key share one read.
 */
export function createDicomwebCaches<R>(options: DicomwebCacheOptions = {}): DicomwebCaches<R> {
  const records = new ByteLru<Hex, R>({ maxBytes: options.records ?? 64, maxEntries: options.records ?? 64 })
  const instances = new ByteLru<string, Uint8Array>({ maxBytes: options.instanceBytes ?? 64 * 1024 * 1024 })
  const maxInstance = options.maxInstanceBytes ?? 8 * 1024 * 1024
  const pendingRecords = new Map<Hex, Promise<R>>()
  const pendingInstances = new Map<string, Promise<Uint8Array>>()
  return {
    async record(recordId, open) {
      const hit = records.get(recordId)
      if (hit) return hit
      let pending = pendingRecords.get(recordId)
      if (!pending) {
        pending = open()
          .then((record) => {
            records.set(recordId, record, 1)
            return record
          })
          .finally(() => pendingRecords.delete(recordId))
        pendingRecords.set(recordId, pending)
      }
      return pending
    },
    async instance(key, size, read) {
      const hit = instances.get(key)
      if (hit) return hit
      let pending = pendingInstances.get(key)
      if (!pending) {
        pending = read()
          .then((bytes) => {
            if (size <= maxInstance) instances.set(key, bytes, bytes.length)
            return bytes
          })
          .finally(() => pendingInstances.delete(key))
        pendingInstances.set(key, pending)
      }
      return pending
    },
    peekInstance: (key) => instances.get(key),
  }
}

export function fileOfInstance(files: ManifestFile[], instance: StudyManifestInstance): ManifestFile {
  const file = files.find((f) => f.path === instance.path)
  if (!file) throw new NotFoundError('The instance has no file in its record')
  return file
}

export async function collect(chunks: AsyncIterable<Uint8Array>, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(size)
  let at = 0
  for await (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}
