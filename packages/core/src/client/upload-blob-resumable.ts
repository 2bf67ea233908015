import { BaseError } from '../errors/base-error.js'
import { abortable } from '../utils/abortable.js'
import { PreconditionError } from './errors.js'
import { NodeRequestError } from './node-client.js'
import type { PcmimsClient } from './pcmims-client.js'

/** Bytes to upload: in memory, a Blob (a File in a browser), or a source that can start again at any offset. */
export type ResumableSource =
  | Uint8Array
  | Blob
  /** Yields the bytes from `offset` to the end; called again after an interruption. */
  | ((offset: number) => AsyncIterable<Uint8Array>)

export type UploadBlobResumableProgress = { bytes: number; size: number }

export type UploadBlobResumableParameters = {
  source: ResumableSource
  /** Total bytes; required for a function source, otherwise taken from the source. */
  size?: number | undefined
  /** Bytes per PATCH request (default 8 MiB): the most an interruption costs, and the memory used. */
  chunkBytes?: number | undefined
  /** An upload created earlier (its path or URL), to go on with instead of creating one. */
  upload?: string | undefined
  /** Called with the upload's path once created: keep it to resume after this process ends. */
  onCreated?: ((upload: string) => void) | undefined
  /** Failed attempts in a row before giving up (default 5); any progress resets the count. */
  retries?: number | undefined
  /** First wait before a retry, doubled each time up to 10 s (default 500 ms). */
  retryDelayMs?: number | undefined
  signal?: AbortSignal | undefined
  /** Called after each acknowledged chunk with the bytes the node holds. */
  onProgress?: ((progress: UploadBlobResumableProgress) => void) | undefined
}

export type UploadBlobResumableReturnType = { cid: string; size: number }

/** The node kept no such upload (it expired or was terminated) or answered outside the protocol. */
export class ResumableUploadError extends BaseError {
  override name = 'ResumableUploadError'
  constructor(message: string, params: { code?: string; details?: string; cause?: unknown } = {}) {
    super(message, { code: 'UPLOAD_FAILED', ...params })
  }
}

const TUS = { 'tus-resumable': '1.0.0' }
const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024
const MAX_RETRY_DELAY_MS = 10_000

/**
 * Uploads ciphertext to the node in chunks over the tus resumable-upload protocol
 * (`/api/v1/uploads`), and returns the blob's CID as `POST /api/v1/blobs` would. A chunk cut off by a
 * network error or a node restart is sent again from the offset the node acknowledged (asked with HEAD),
 * so an interruption costs at most one chunk.
 */
export async function uploadBlobResumable(
  client: PcmimsClient,
  params: UploadBlobResumableParameters,
): Promise<UploadBlobResumableReturnType> {
  const { source, signal, onProgress } = params
  const size = params.size ?? (typeof source === 'function' ? undefined : sizeOf(source))
  if (size === undefined || !Number.isSafeInteger(size) || size < 0) {
    throw new PreconditionError('The upload needs its size', { details: 'pass size with a function source' })
  }
  if (typeof source !== 'function' && sizeOf(source) !== size) {
    throw new PreconditionError('size does not match the source')
  }
  const chunkBytes = params.chunkBytes ?? DEFAULT_CHUNK_BYTES
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new PreconditionError('Invalid chunkBytes')
  const retries = params.retries ?? 5
  const retryDelayMs = params.retryDelayMs ?? 500
  const node = client.node

  let failures = 0
  const backoff = () =>
    abortable(
      new Promise((resolve) =>
        setTimeout(resolve, Math.min(retryDelayMs * 2 ** (failures - 1), MAX_RETRY_DELAY_MS)),
      ),
      signal,
    )
  /** Runs `attempt` until it succeeds, waiting after transient failures; others are thrown. */
  async function retrying<T>(attempt: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await attempt()
      } catch (error) {
        if (signal?.aborted || !isTransient(error) || ++failures > retries) throw error
        await backoff()
      }
    }
  }

  let location = params.upload
  let offset = 0
  let done: UploadBlobResumableReturnType | undefined
  if (location === undefined) {
    const created = await retrying(() =>
      node.raw('POST', '/api/v1/uploads', {
        headers: { ...TUS, 'upload-length': String(size) },
        signal,
      }),
    )
    const header = created.headers.get('location')
    if (!header) throw new ResumableUploadError('The node did not say where the upload is')
    location = header
    params.onCreated?.(location)
    done = blobOf(created)
  } else {
    const status = await retrying(() => head(location as string))
    offset = offsetOf(status)
    done = blobOf(status)
  }
  const path = new URL(location, node.url).pathname

  async function head(at: string): Promise<Response> {
    return node.raw('HEAD', new URL(at, node.url).pathname, { headers: TUS, signal })
  }

  const reader = chunkReader(source, chunkBytes)
  try {
    while (!done) {
      signal?.throwIfAborted()
      if (offset === size) {
        // Every byte is there but the import has not answered (a restart came in between): ask again.
        const status = await retrying(() => head(path))
        offset = offsetOf(status)
        done = blobOf(status)
        if (!done && offset === size) {
          throw new ResumableUploadError('The node holds the upload but made no blob of it')
        }
        continue
      }
      const chunk = await reader.read(offset, Math.min(chunkBytes, size - offset))
      try {
        const response = await node.raw('PATCH', path, {
          body: chunk,
          contentType: 'application/offset+octet-stream',
          headers: { ...TUS, 'upload-offset': String(offset) },
          signal,
        })
        const next = offsetOf(response)
        if (next > offset) failures = 0
        offset = next
        done = blobOf(response)
        onProgress?.({ bytes: offset, size })
      } catch (error) {
        const conflict = error instanceof NodeRequestError && error.status === 409
        if (signal?.aborted || !(conflict || isTransient(error)) || ++failures > retries) throw error
        // A conflict needs no wait: the node is there, only elsewhere than this client thought.
        if (!conflict) await backoff()
        // Where the node really is: the chunk may have been kept or dropped, or another client moved on.
        const status = await retrying(() => head(path))
        offset = offsetOf(status)
        done = blobOf(status)
      }
    }
  } finally {
    await reader.close()
  }
  if (done.size !== size) {
    throw new ResumableUploadError('The node stored a different size', { details: `${done.size} != ${size}` })
  }
  return done
}

/** Network failures, a node restarting or busy, and 5xx answers are worth another try; the rest is not. */
function isTransient(error: unknown): boolean {
  if (error instanceof NodeRequestError) {
    return error.status === 0 || error.status === 429 || error.status === 408 || error.status >= 500
  }
  // fetch rejects with TypeError on a broken connection, and with AbortError when something other
  // than our signal (checked by the callers) cut the request.
  return error instanceof TypeError || (error as Error)?.name === 'AbortError'
}

function sizeOf(source: Uint8Array | Blob): number {
  return source instanceof Uint8Array ? source.byteLength : source.size
}

function offsetOf(response: Response): number {
  const value = response.headers.get('upload-offset')
  const offset = value !== null && /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(offset)) throw new ResumableUploadError('The node sent no valid Upload-Offset')
  return offset
}

function blobOf(response: Response): UploadBlobResumableReturnType | undefined {
  const cid = response.headers.get('pcmims-blob-cid')
  const size = response.headers.get('pcmims-blob-size')
  if (!cid || size === null) return undefined
  return { cid, size: Number(size) }
}

type ChunkReader = {
  read(offset: number, length: number): Promise<Uint8Array>
  close(): Promise<void>
}

/** Reads `[offset, offset + length)`; a function source is restarted only when the offset jumps. */
function chunkReader(source: ResumableSource, chunkBytes: number): ChunkReader {
  if (source instanceof Uint8Array) {
    return { read: async (offset, length) => source.subarray(offset, offset + length), close: async () => {} }
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return {
      read: async (offset, length) =>
        new Uint8Array(await source.slice(offset, offset + length).arrayBuffer()),
      close: async () => {},
    }
  }
  const open = source as (offset: number) => AsyncIterable<Uint8Array>
  let iterator: AsyncIterator<Uint8Array> | undefined
  let position = 0
  let pending: Uint8Array | undefined
  let last: { offset: number; bytes: Uint8Array } | undefined
  const buffer = new Uint8Array(chunkBytes)
  return {
    async read(offset, length) {
      // The same chunk again (its PATCH failed and the node kept nothing): no need to restart the source.
      if (last && last.offset === offset && last.bytes.byteLength === length) return last.bytes
      if (!iterator || offset !== position) {
        await iterator?.return?.()
        iterator = open(offset)[Symbol.asyncIterator]()
        position = offset
        pending = undefined
      }
      let filled = 0
      while (filled < length) {
        let piece = pending
        pending = undefined
        if (!piece) {
          const next = await iterator.next()
          if (next.done) throw new PreconditionError('The source ended before size bytes')
          piece = next.value
        }
        const take = Math.min(piece.byteLength, length - filled)
        buffer.set(piece.subarray(0, take), filled)
        filled += take
        if (take < piece.byteLength) pending = piece.subarray(take)
      }
      position = offset + length
      last = { offset, bytes: buffer.subarray(0, length) }
      return last.bytes
    },
    async close() {
      await iterator?.return?.()
    },
  }
}
