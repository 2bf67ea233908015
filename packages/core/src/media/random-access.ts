/**
 * Random access to bytes that may not be in memory: a file on disk (Node file handle), a browser
 * `Blob`/`File`, or a buffer. Archive readers read the directory and then only the ranges they inflate.
 */
export type RandomAccessSource = {
  /** Total size in bytes. */
  readonly size: number
  /** Exactly `length` bytes at `offset` (the caller keeps the range inside `size`). */
  read(offset: number, length: number, options?: { signal?: AbortSignal | undefined }): Promise<Uint8Array>
}

/** A {@link RandomAccessSource} over bytes already in memory (no copy). */
export function bytesRandomAccess(bytes: Uint8Array): RandomAccessSource {
  return {
    size: bytes.length,
    async read(offset, length) {
      return bytes.subarray(offset, offset + length)
    },
  }
}

/** A {@link RandomAccessSource} over a `Blob` (a browser `File`), reading slices on demand. */
export function blobRandomAccess(blob: Blob): RandomAccessSource {
  return {
    size: blob.size,
    async read(offset, length, options) {
      options?.signal?.throwIfAborted()
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer())
    },
  }
}
