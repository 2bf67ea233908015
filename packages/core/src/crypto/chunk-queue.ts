/**
 * Keeps a few chunk operations in flight (WebCrypto runs them on other threads) while results come out in
 * order. Rejections are observed right away so an early failure is not reported as unhandled while the
 * consumer is still reading earlier chunks; they surface when that chunk's turn comes.
 */
export class ChunkQueue<T> {
  readonly #items: { result: Promise<T>; inputLength: number; index: number; final: boolean }[] = []
  constructor(readonly maxInFlight = 2) {}

  get length(): number {
    return this.#items.length
  }

  get full(): boolean {
    return this.#items.length >= this.maxInFlight
  }

  push(result: Promise<T>, inputLength: number, index: number, final: boolean): void {
    result.catch(() => {})
    this.#items.push({ result, inputLength, index, final })
  }

  shift(): { result: Promise<T>; inputLength: number; index: number; final: boolean } {
    const item = this.#items.shift()
    if (!item) throw new Error('ChunkQueue is empty')
    return item
  }
}

/** Input accepted by the streaming functions: any (async) iterable of byte chunks of any size. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>

/** Reported after each chunk is produced. */
export type StreamProgress = {
  /** Plaintext bytes processed so far. */
  plaintextBytes: number
  /** Ciphertext bytes processed so far, header included. */
  ciphertextBytes: number
}
