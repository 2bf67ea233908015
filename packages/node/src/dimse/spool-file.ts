import { type FileHandle, open, rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import { fsyncDirectory } from '../storage/durable-fs.js'

export type SpoolResult =
  | { ok: true; path: string; size: number }
  | { ok: false; reason: 'too-large' | 'empty' | 'io-error' | 'aborted'; error?: unknown }

export type SpoolFileParameters = {
  directory: string
  /** File name without extension; never derived from peer input. */
  name: string
  /** Bytes written before the data set (preamble and file meta). */
  header: Buffer
  /** Data set bytes over this are not written; the file is removed and the result is `too-large`. */
  maxDataSetBytes: number
  /** Called with true when too many bytes wait for the disk, false once they drained. */
  onPressure?: ((congested: boolean) => void) | undefined
  /**
   * fsync the file and its directory before it is handed over (default true). Off when the handler makes
   * the instance durable itself before success is answered: the spool copy is then only a buffer.
   */
  durable?: boolean | undefined
}

const HIGH_WATER = 8 * 1024 * 1024
const LOW_WATER = 2 * 1024 * 1024

/**
 * One instance being spooled: bytes are queued synchronously (the network side never waits) and written
 * in order by one writer; `end()` fsyncs the file, renames `<name>.part` to `<name>.dcm` and fsyncs the
 * directory, so a `.dcm` in the spool is always complete. Anything else leaves no file behind.
 */
export class SpoolFile {
  readonly #params: SpoolFileParameters
  readonly #tempPath: string
  readonly #finalPath: string
  #queue: Buffer[] = []
  #queued = 0
  #dataSetBytes = 0
  #state: 'writing' | 'ended' | 'too-large' | 'aborted' | 'failed' = 'writing'
  #error: unknown
  #congested = false
  #wake: (() => void) | undefined
  readonly #done: Promise<SpoolResult>

  constructor(params: SpoolFileParameters) {
    this.#params = params
    this.#tempPath = path.join(params.directory, `${params.name}.part`)
    this.#finalPath = path.join(params.directory, `${params.name}.dcm`)
    this.#queue.push(params.header)
    this.#queued = params.header.length
    this.#done = this.#run()
  }

  /** Data set bytes received so far (also those discarded after the limit). */
  get dataSetBytes(): number {
    return this.#dataSetBytes
  }

  write(chunk: Buffer): void {
    this.#dataSetBytes += chunk.length
    if (this.#state !== 'writing') return
    if (this.#dataSetBytes > this.#params.maxDataSetBytes) {
      this.#state = 'too-large'
      this.#drop()
      return
    }
    this.#queue.push(chunk)
    this.#queued += chunk.length
    if (!this.#congested && this.#queued > HIGH_WATER) this.#setCongested(true)
    this.#wakeUp()
  }

  end(): void {
    if (this.#state === 'writing') this.#state = 'ended'
    this.#wakeUp()
  }

  /** Discards the instance (the association went away before it was complete). */
  abort(): void {
    if (this.#state === 'writing' || this.#state === 'ended') this.#state = 'aborted'
    this.#drop()
  }

  /** Settles once the file is durable under its final name, or gone. */
  result(): Promise<SpoolResult> {
    return this.#done
  }

  #drop(): void {
    this.#queue = []
    this.#queued = 0
    this.#setCongested(false)
    this.#wakeUp()
  }

  #wakeUp(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  #setCongested(congested: boolean): void {
    if (this.#congested === congested) return
    this.#congested = congested
    this.#params.onPressure?.(congested)
  }

  async #run(): Promise<SpoolResult> {
    let handle: FileHandle | undefined
    try {
      handle = await open(this.#tempPath, 'wx', 0o600)
      for (;;) {
        if (this.#queue.length > 0 && (this.#state === 'writing' || this.#state === 'ended')) {
          const batch = this.#queue
          this.#queue = []
          let bytes = 0
          for (const b of batch) bytes += b.length
          await writeAll(handle, batch, bytes)
          this.#queued = Math.max(0, this.#queued - bytes)
          if (this.#congested && this.#queued < LOW_WATER) this.#setCongested(false)
          continue
        }
        if (this.#state !== 'writing') break
        await new Promise<void>((resolve) => {
          this.#wake = resolve
        })
      }
      if (this.#state === 'ended' && this.#dataSetBytes > 0) {
        const durable = this.#params.durable ?? true
        if (durable) await handle.datasync()
        await handle.close()
        handle = undefined
        await rename(this.#tempPath, this.#finalPath)
        if (durable) await fsyncDirectory(this.#params.directory)
        return { ok: true, path: this.#finalPath, size: this.#params.header.length + this.#dataSetBytes }
      }
    } catch (error) {
      this.#error = error
      if (this.#state === 'writing' || this.#state === 'ended') this.#state = 'failed'
      this.#drop()
    }
    await handle?.close().catch(() => {})
    await unlink(this.#tempPath).catch(() => {})
    if (this.#state === 'too-large') return { ok: false, reason: 'too-large' }
    if (this.#state === 'aborted') return { ok: false, reason: 'aborted' }
    if (this.#state === 'failed') return { ok: false, reason: 'io-error', error: this.#error }
    return { ok: false, reason: 'empty' }
  }
}

async function writeAll(handle: FileHandle, buffers: Buffer[], total: number): Promise<void> {
  let written = 0
  let pending = buffers
  while (written < total) {
    const { bytesWritten } = await handle.writev(pending)
    written += bytesWritten
    if (written < total) pending = [Buffer.concat(pending).subarray(bytesWritten)]
  }
}
