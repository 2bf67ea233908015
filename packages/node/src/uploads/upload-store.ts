import { randomBytes } from 'node:crypto'
import type { Dirent } from 'node:fs'
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  truncate,
  unlink,
} from 'node:fs/promises'
import path from 'node:path'
import { NotFoundError } from '../http/errors.js'
import { fsyncDirectory } from '../storage/durable-fs.js'
import {
  OffsetMismatchError,
  UploadExpiredError,
  UploadInterruptedError,
  UploadLengthExceededError,
} from './errors.js'

/** An upload as its owner sees it. */
export type UploadInfo = {
  id: string
  /** The address that created it; nobody else can see or touch it. */
  owner: string
  /** Bytes the whole upload will have (Upload-Length). */
  length: number
  /** Bytes received, fsynced and acknowledged. */
  offset: number
  createdAt: number
  /** Last acknowledged change: the upload expires `ttlMs` after it. */
  touchedAt: number
  /** The blob the upload became, once every byte arrived and was imported. */
  blob?: { cid: string; size: number } | undefined
}

/** Imports a complete upload's file into the blob store; resolves with the blob's CID and size. */
export type ImportUpload = (file: string, upload: UploadInfo) => Promise<{ cid: string; size: number }>

export type CreateUploadStoreParameters = {
  /** Where uploads in progress live (`<dataDir>/uploads`). */
  directory: string
  /** An upload untouched this long expires (and a finished one's answer is forgotten). */
  ttlMs: number
  importUpload: ImportUpload
  now?: (() => number) | undefined
}

export type AppendParameters = {
  /** Where the client says the chunk starts (Upload-Offset). */
  offset: number
  body: ReadableStream<Uint8Array> | null
  /** Content-Length, when the client sent one: a body that ends short of it is discarded. */
  contentLength?: number | undefined
}

export type UploadStore = {
  readonly directory: string
  create(params: { owner: string; length: number }): Promise<UploadInfo>
  /** The upload's state; a complete upload not yet imported (a crash came between) is imported first. */
  status(id: string, owner: string): Promise<UploadInfo>
  /**
   * Appends one chunk, all or nothing: the offset moves only once the whole body arrived and is on disk.
   * The chunk that completes the upload also imports it.
   */
  append(id: string, owner: string, params: AppendParameters): Promise<UploadInfo>
  remove(id: string, owner: string): Promise<void>
  /** Removes expired uploads and leftovers of interrupted creations; returns how many uploads went. */
  sweep(): Promise<number>
  /** When an unfinished upload expires, unless touched again. */
  expiresAt(upload: UploadInfo): number
}

const ID = /^[0-9a-f]{32}$/
const WRITE_BUFFER_BYTES = 1024 * 1024

/** A random upload id; file names never come from client input. */
export function isUploadId(value: string): boolean {
  return ID.test(value)
}

/**
 * Resumable uploads on disk: for each upload a data file `<id>.bin` and a state file `<id>.json`. The state
 * file holds the acknowledged offset and is replaced atomically (temp file, fsync, rename, directory fsync)
 * after the data file is fsynced, so an offset the node acknowledged survives a crash; data past it (a
 * chunk the crash cut off) is cut away when the upload is next opened. One request at a time works on an
 * upload: a newer one from its owner takes over, interrupting the older one's body (a client that lost its
 * connection comes back while the node may still be waiting on the old one).
 */
export function createUploadStore({
  directory,
  ttlMs,
  importUpload,
  now = Date.now,
}: CreateUploadStoreParameters): UploadStore {
  const locks = new Map<string, { controller: AbortController; released: Promise<void> }>()
  let ready: Promise<void> | undefined
  let tempCounter = 0

  const dataPath = (id: string) => path.join(directory, `${id}.bin`)
  const statePath = (id: string) => path.join(directory, `${id}.json`)
  const expiresAt = (upload: UploadInfo) => upload.touchedAt + ttlMs

  function ensureDirectory(): Promise<void> {
    ready ??= (async () => {
      await mkdir(directory, { recursive: true, mode: 0o700 })
      await fsyncDirectory(path.dirname(directory))
    })().catch((error: unknown) => {
      ready = undefined
      throw error
    })
    return ready
  }

  /** Runs `fn` holding the upload; a request that comes later takes over unless `preempt` is false. */
  async function withLock<T>(
    id: string,
    fn: (signal: AbortSignal) => Promise<T>,
    preempt = true,
  ): Promise<T> {
    for (let held = locks.get(id); held; held = locks.get(id)) {
      if (preempt) held.controller.abort()
      await held.released
    }
    const controller = new AbortController()
    let release = () => {}
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    locks.set(id, { controller, released })
    try {
      return await fn(controller.signal)
    } finally {
      locks.delete(id)
      release()
    }
  }

  async function writeState(upload: UploadInfo): Promise<void> {
    const temp = path.join(directory, `.${upload.id}.${process.pid}.${++tempCounter}.tmp`)
    try {
      const handle = await open(temp, 'wx', 0o600)
      try {
        await handle.writeFile(JSON.stringify(upload))
        await handle.datasync()
      } finally {
        await handle.close()
      }
      await rename(temp, statePath(upload.id))
    } catch (error) {
      await unlink(temp).catch(() => {})
      throw error
    }
    await fsyncDirectory(directory)
  }

  async function readState(id: string): Promise<UploadInfo | undefined> {
    let text: string
    try {
      text = await readFile(statePath(id), 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
    try {
      const parsed = JSON.parse(text) as UploadInfo
      const counts = [parsed.length, parsed.offset, parsed.createdAt, parsed.touchedAt]
      if (parsed.id !== id || typeof parsed.owner !== 'string' || !counts.every(Number.isSafeInteger)) {
        return undefined
      }
      return parsed
    } catch {
      // Never happens with atomic replacement; an unreadable state is treated as no upload.
      return undefined
    }
  }

  async function removeFiles(id: string): Promise<void> {
    await unlink(dataPath(id)).catch(() => {})
    await unlink(statePath(id)).catch(() => {})
    await fsyncDirectory(directory)
  }

  /** The upload if it is the caller's. Checked before taking the upload over: nobody else may interrupt it. */
  async function owned(id: string, owner: string): Promise<UploadInfo> {
    if (!isUploadId(id)) throw new NotFoundError('No such upload')
    const upload = await readState(id)
    if (!upload || upload.owner.toLowerCase() !== owner.toLowerCase()) {
      throw new NotFoundError('No such upload')
    }
    return upload
  }

  /** The caller's upload, with its data file cut back to the acknowledged offset. */
  async function load(id: string, owner: string): Promise<UploadInfo> {
    const upload = await owned(id, owner)
    if (now() > expiresAt(upload)) {
      await removeFiles(id)
      throw new UploadExpiredError()
    }
    if (upload.blob) {
      // Left over if a crash came between recording the blob and removing the file.
      await unlink(dataPath(id)).catch(() => {})
      return upload
    }
    let size: number
    try {
      size = (await stat(dataPath(id))).size
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      await removeFiles(id)
      throw new NotFoundError('No such upload')
    }
    if (size > upload.offset) await truncate(dataPath(id), upload.offset)
    // Shorter than acknowledged only if the disk lost fsynced data: resume from what is really there.
    else if (size < upload.offset) upload.offset = size
    return upload
  }

  async function finish(upload: UploadInfo): Promise<UploadInfo> {
    if (upload.blob || upload.offset !== upload.length) return upload
    const blob = await importUpload(dataPath(upload.id), upload)
    const done: UploadInfo = { ...upload, blob, touchedAt: now() }
    await writeState(done)
    await unlink(dataPath(upload.id)).catch(() => {})
    return done
  }

  async function writeBody(
    id: string,
    offset: number,
    room: number,
    params: AppendParameters,
    signal: AbortSignal,
  ): Promise<number> {
    const handle = await open(dataPath(id), 'r+')
    const reader = params.body?.getReader()
    let superseded = false
    const onAbort = () => {
      superseded = true
      void reader?.cancel().catch(() => {})
    }
    signal.addEventListener('abort', onAbort, { once: true })
    let received = 0
    try {
      const buffer = new Uint8Array(WRITE_BUFFER_BYTES)
      let buffered = 0
      let position = offset
      const flush = async () => {
        await writeAll(handle, buffer.subarray(0, buffered), position)
        position += buffered
        buffered = 0
      }
      while (reader) {
        let next: ReadableStreamReadResult<Uint8Array>
        try {
          next = await reader.read()
        } catch (cause) {
          throw new UploadInterruptedError('the request body broke off', cause)
        }
        if (next.done) break
        let chunk = next.value
        received += chunk.byteLength
        if (received > room) throw new UploadLengthExceededError(room)
        while (chunk.byteLength > 0) {
          const take = Math.min(chunk.byteLength, buffer.byteLength - buffered)
          buffer.set(chunk.subarray(0, take), buffered)
          buffered += take
          chunk = chunk.subarray(take)
          if (buffered === buffer.byteLength) await flush()
        }
      }
      if (superseded) throw new UploadInterruptedError('a newer request took the upload over')
      if (params.contentLength !== undefined && received !== params.contentLength) {
        throw new UploadInterruptedError(`${received} of ${params.contentLength} bytes arrived`)
      }
      if (buffered > 0) await flush()
      if (received > 0) await handle.datasync()
      return received
    } catch (error) {
      // Nothing of a chunk that did not arrive whole is kept: the acknowledged offset stays where it was.
      void reader?.cancel().catch(() => {})
      if (received > 0) await handle.truncate(offset).catch(() => {})
      throw error
    } finally {
      signal.removeEventListener('abort', onAbort)
      await handle.close()
    }
  }

  return {
    directory,
    expiresAt,

    async create({ owner, length }) {
      await ensureDirectory()
      const id = randomBytes(16).toString('hex')
      const t = now()
      const upload: UploadInfo = { id, owner, length, offset: 0, createdAt: t, touchedAt: t }
      return withLock(id, async () => {
        const handle = await open(dataPath(id), 'wx', 0o600)
        await handle.close()
        // The directory fsync in writeState makes both new entries durable.
        await writeState(upload)
        return finish(upload)
      })
    },

    async status(id, owner) {
      await owned(id, owner)
      return withLock(id, async () => finish(await load(id, owner)))
    },

    async append(id, owner, params) {
      await owned(id, owner)
      return withLock(id, async (signal) => {
        const upload = await load(id, owner)
        if (params.offset !== upload.offset) throw new OffsetMismatchError(upload.offset)
        const room = upload.length - upload.offset
        if (params.contentLength !== undefined && params.contentLength > room) {
          throw new UploadLengthExceededError(room)
        }
        if (upload.blob) return upload
        const received = await writeBody(id, upload.offset, room, params, signal)
        if (received === 0) return finish(upload)
        const moved: UploadInfo = { ...upload, offset: upload.offset + received, touchedAt: now() }
        await writeState(moved)
        return finish(moved)
      })
    },

    async remove(id, owner) {
      await owned(id, owner)
      return withLock(id, async () => {
        await load(id, owner)
        await removeFiles(id)
      })
    },

    async sweep() {
      let entries: Dirent[]
      try {
        entries = await readdir(directory, { withFileTypes: true })
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
        throw error
      }
      const names = new Set(entries.map((e) => e.name))
      const t = now()
      let removed = 0
      for (const entry of entries) {
        if (!entry.isFile()) continue
        const full = path.join(directory, entry.name)
        const match = /^([0-9a-f]{32})\.(json|bin)$/.exec(entry.name)
        const id = match?.[1]
        if (id && match[2] === 'json') {
          if (locks.has(id)) continue
          const expired = await withLock(
            id,
            async () => {
              const upload = await readState(id)
              if (upload && t <= expiresAt(upload)) return false
              // A long chunk still being written keeps the data file fresh.
              const data = await stat(dataPath(id)).catch(() => undefined)
              if (data && t - data.mtimeMs <= ttlMs) return false
              await removeFiles(id)
              return true
            },
            false,
          )
          if (expired) removed++
        } else if (id || (entry.name.startsWith('.') && entry.name.endsWith('.tmp'))) {
          // A data file without a state file, or a state file's temp copy: a crash cut a write short.
          if (id && (names.has(`${id}.json`) || locks.has(id))) continue
          const info = await stat(full).catch(() => undefined)
          if (info && t - info.mtimeMs > ttlMs) await unlink(full).catch(() => {})
        }
      }
      return removed
    },
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, position + done)
    done += bytesWritten
  }
}
