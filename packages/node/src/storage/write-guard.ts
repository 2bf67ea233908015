import { base32 } from 'multiformats/bases/base32'
import type { CID } from 'multiformats/cid'

// Uploads and gc run concurrently without a store-wide lock (a stalled upload must not hold up gc, nor a
// long gc every upload). An upload protects each block before writing it, and keeps that protection until
// its pin is durable and no gc that might have listed pins before that is still running. gc skips
// protected blocks, and marks a block "being deleted" in the same synchronous step in which it checks the
// protection; a writer that finds a block being deleted waits, so its "already have it" check cannot
// race an unlink.

/** Blocks are keyed by multihash, as the block store keys its files. */
export function blockKey(cid: CID): string {
  return base32.encode(cid.multihash.bytes)
}

export class Write {
  readonly keys = new Set<string>()
  readonly cids: CID[] = []
  readonly #guard: WriteGuard
  readonly #pending = new Set<Promise<unknown>>()
  #closed = false

  constructor(guard: WriteGuard) {
    this.#guard = guard
  }

  /** Runs `write` for `cid` under protection; refused once the write was closed. */
  async put<T>(cid: CID, write: () => T | Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('write closed')
    const key = blockKey(cid)
    if (!this.keys.has(key)) {
      this.keys.add(key)
      this.cids.push(cid)
      this.#guard.protect(key)
    }
    const run = (async () => {
      await this.#guard.deletion(key)
      if (this.#closed) throw new Error('write closed')
      return write()
    })()
    this.#pending.add(run)
    try {
      return await run
    } finally {
      this.#pending.delete(run)
    }
  }

  /** Refuses further puts and waits for those in flight, so nothing lands after a failed upload. */
  async close(): Promise<void> {
    this.#closed = true
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  /** Drops protection, after any gc that was already running when the caller finished. */
  release(): void {
    this.#closed = true
    this.#guard.release(this.keys)
  }
}

export class WriteGuard {
  readonly #protected = new Map<string, number>()
  readonly #deleting = new Map<string, Promise<unknown>>()
  #gc: Promise<unknown> | undefined

  begin(): Write {
    return new Write(this)
  }

  protect(key: string): void {
    this.#protected.set(key, (this.#protected.get(key) ?? 0) + 1)
  }

  release(keys: Iterable<string>): void {
    const drop = () => {
      for (const key of keys) {
        const count = (this.#protected.get(key) ?? 1) - 1
        if (count <= 0) this.#protected.delete(key)
        else this.#protected.set(key, count)
      }
    }
    if (this.#gc === undefined) drop()
    else this.#gc.finally(drop).catch(() => {})
  }

  async deletion(key: string): Promise<void> {
    const deleting = this.#deleting.get(key)
    if (deleting !== undefined) await deleting.catch(() => {})
  }

  /** Deletes `key` with `remove` unless it is protected; returns whether it deleted. */
  async deleteUnlessProtected(key: string, remove: () => Promise<unknown>): Promise<boolean> {
    if (this.#protected.has(key) || this.#deleting.has(key)) return false
    const run = remove()
    this.#deleting.set(key, run)
    try {
      await run
      return true
    } finally {
      this.#deleting.delete(key)
    }
  }

  /** Runs `gc` exclusively of other gc runs; concurrent callers share one run. */
  runGc<T>(gc: () => Promise<T>): Promise<T> {
    if (this.#gc !== undefined) return this.#gc as Promise<T>
    // Registered before gc starts, so a write released from now on waits for this run.
    const run = Promise.resolve().then(gc)
    this.#gc = run
    const clear = () => {
      if (this.#gc === run) this.#gc = undefined
    }
    run.then(clear, clear)
    return run
  }
}
