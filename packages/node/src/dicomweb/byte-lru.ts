/**
 * A least-recently-used map bounded by the total size of its values (and by a count), in this process's
 * memory only: it holds decrypted data (PHI), which must never reach the disk. `get` refreshes an entry;
 * `set` evicts the oldest entries until both bounds hold; a value larger than the whole budget is not
 * kept. Eviction calls `onEvict`, e.g. to zero a data key.
 */
export class ByteLru<K, V> {
  readonly #entries = new Map<K, { value: V; size: number }>()
  readonly #maxBytes: number
  readonly #maxEntries: number
  readonly #onEvict: ((value: V) => void) | undefined
  #bytes = 0

  constructor(options: { maxBytes: number; maxEntries?: number; onEvict?: (value: V) => void }) {
    this.#maxBytes = options.maxBytes
    this.#maxEntries = options.maxEntries ?? Number.POSITIVE_INFINITY
    this.#onEvict = options.onEvict
  }

  get bytes(): number {
    return this.#bytes
  }

  get size(): number {
    return this.#entries.size
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry.value
  }

  set(key: K, value: V, size: number): void {
    this.delete(key)
    if (size > this.#maxBytes || this.#maxEntries < 1) {
      this.#onEvict?.(value)
      return
    }
    this.#entries.set(key, { value, size })
    this.#bytes += size
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes && this.#entries.size <= this.#maxEntries) break
      this.#entries.delete(oldest)
      this.#bytes -= entry.size
      this.#onEvict?.(entry.value)
    }
  }

  delete(key: K): void {
    const entry = this.#entries.get(key)
    if (!entry) return
    this.#entries.delete(key)
    this.#bytes -= entry.size
    this.#onEvict?.(entry.value)
  }

  clear(): void {
    for (const key of [...this.#entries.keys()]) this.delete(key)
  }
}
