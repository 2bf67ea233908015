type Deferred = {
  promise: Promise<Uint8Array<ArrayBuffer>>
  resolve: (bytes: Uint8Array<ArrayBuffer>) => void
  reject: (error: unknown) => void
  state: 'waiting' | 'running' | 'done' | 'failed'
}

export type DecryptProgress = { done: number; failed: number; total: number; bytes: number }

/**
 * Decrypts a record's files a few at a time, in an order the viewer can change while it runs: the
 * image on screen first, then the thumbnails, then the rest of the series being looked at.
 */
export class DecryptQueue {
  readonly #read: (index: number, signal: AbortSignal) => Promise<Uint8Array<ArrayBuffer>>
  readonly #items: Deferred[]
  #concurrency: number
  readonly #controller = new AbortController()
  readonly #onProgress: (progress: DecryptProgress) => void
  #order: number[] = []
  #running = 0
  #progress: DecryptProgress

  constructor(params: {
    count: number
    read: (index: number, signal: AbortSignal) => Promise<Uint8Array<ArrayBuffer>>
    concurrency: number
    onProgress: (progress: DecryptProgress) => void
  }) {
    this.#read = params.read
    this.#concurrency = params.concurrency
    this.#onProgress = params.onProgress
    this.#progress = { done: 0, failed: 0, total: params.count, bytes: 0 }
    this.#items = Array.from({ length: params.count }, () => {
      const item = { state: 'waiting' } as Deferred
      item.promise = new Promise((resolve, reject) => {
        item.resolve = resolve
        item.reject = reject
      })
      // Nobody may be waiting on a file that fails; its error is counted, not thrown unhandled.
      item.promise.catch(() => undefined)
      return item
    })
  }

  /** Files to decrypt, most wanted first; later calls put their files ahead of earlier ones. */
  prioritise(indices: readonly number[]): void {
    const wanted = indices.filter((i) => this.#items[i]?.state === 'waiting')
    const set = new Set(wanted)
    this.#order = [...wanted, ...this.#order.filter((i) => !set.has(i))]
    this.#pump()
  }

  /** How many files to fetch and decrypt at once (one while the first image is wanted alone). */
  setConcurrency(concurrency: number): void {
    this.#concurrency = concurrency
    this.#pump()
  }

  /** The decrypted bytes of one file, decrypting it next if it has not started. */
  get(index: number): Promise<Uint8Array<ArrayBuffer>> {
    const item = this.#items[index]
    if (!item) return Promise.reject(new Error('No such file in this record'))
    if (item.state === 'waiting') this.prioritise([index])
    return item.promise
  }

  /** The decrypted bytes of one file when its turn comes, without moving it ahead. */
  whenDone(index: number): Promise<Uint8Array<ArrayBuffer>> {
    return this.#items[index]?.promise ?? Promise.reject(new Error('No such file in this record'))
  }

  /** Bytes already decrypted, without waiting (for downloads of what is on screen). */
  settled(index: number): Promise<Uint8Array<ArrayBuffer>> | undefined {
    const item = this.#items[index]
    return item && item.state === 'done' ? item.promise : undefined
  }

  get progress(): DecryptProgress {
    return this.#progress
  }

  /**
   * Stops decrypting. Files not yet done never settle: whoever waits for them (Cornerstone's image
   * cache) is being torn down too, and a rejection there would only surface as an unhandled error.
   */
  close(): void {
    this.#controller.abort()
  }

  #pump(): void {
    while (this.#running < this.#concurrency && !this.#controller.signal.aborted) {
      const index = this.#order.shift()
      if (index === undefined) return
      const item = this.#items[index]
      if (item?.state !== 'waiting') continue
      item.state = 'running'
      this.#running++
      this.#read(index, this.#controller.signal).then(
        (bytes) => {
          item.state = 'done'
          item.resolve(bytes)
          this.#finish(bytes.length, false)
        },
        (error: unknown) => {
          if (this.#controller.signal.aborted) return
          item.state = 'failed'
          item.reject(error)
          this.#finish(0, true)
        },
      )
    }
  }

  #finish(bytes: number, failed: boolean): void {
    this.#running--
    const p = this.#progress
    this.#progress = {
      ...p,
      done: p.done + (failed ? 0 : 1),
      failed: p.failed + (failed ? 1 : 0),
      bytes: p.bytes + bytes,
    }
    if (!this.#controller.signal.aborted) this.#onProgress(this.#progress)
    this.#pump()
  }
}
