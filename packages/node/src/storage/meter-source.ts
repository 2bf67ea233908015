import { abortable } from '@pcmims/core'
import { TooLargeError } from './errors.js'

export type MeterSourceParameters = {
  signal?: AbortSignal | undefined
  maxBytes?: number | undefined
  /** Called with the running total after each chunk. */
  onProgress?: ((bytes: number) => void) | undefined
}

/**
 * Passes `source` through, counting bytes: throws `TooLargeError` before handing on a chunk that goes
 * past `maxBytes`, and rejects as soon as `signal` aborts even while the source is stalled (a slow or
 * silent client must not pin an upload open). The source is closed whenever iteration stops.
 */
export async function* meterSource(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  { signal, maxBytes, onProgress }: MeterSourceParameters = {},
): AsyncGenerator<Uint8Array> {
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
    throw new RangeError('maxBytes must be a non-negative safe integer')
  }
  signal?.throwIfAborted()
  const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
  let total = 0
  let done = false
  try {
    while (true) {
      const result = await abortable(Promise.resolve(iterator.next()), signal)
      if (result.done === true) {
        done = true
        return
      }
      const chunk = result.value
      if (!(chunk instanceof Uint8Array)) throw new TypeError('source must yield Uint8Array chunks')
      total += chunk.byteLength
      if (maxBytes !== undefined && total > maxBytes) throw new TooLargeError({ limit: maxBytes })
      onProgress?.(total)
      if (chunk.byteLength > 0) yield chunk
    }
  } finally {
    // Fire and forget: an aborted source may never settle its pending next().
    if (!done) void Promise.resolve(iterator.return?.()).catch(() => {})
  }
}
