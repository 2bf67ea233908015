import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TooLargeError } from './errors.js'
import { meterSource } from './meter-source.js'

async function drain(source: AsyncIterable<Uint8Array>): Promise<number> {
  let total = 0
  for await (const chunk of source) total += chunk.byteLength
  return total
}

describe('meterSource', () => {
  it('passes everything through up to maxBytes and fails beyond it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(100), { maxLength: 20 }), fc.nat(1000), async (sizes, maxBytes) => {
        const total = sizes.reduce((a, b) => a + b, 0)
        const progress: number[] = []
        const run = drain(
          meterSource(
            sizes.map((n) => new Uint8Array(n)),
            { maxBytes, onProgress: (n) => progress.push(n) },
          ),
        )
        if (total <= maxBytes) {
          expect(await run).toBe(total)
          expect(progress.at(-1) ?? 0).toBe(total)
        } else {
          await expect(run).rejects.toBeInstanceOf(TooLargeError)
          expect(progress.every((n) => n <= maxBytes)).toBe(true)
        }
      }),
    )
  })

  it('rejects on abort while the source is stalled, and closes the source', async () => {
    let closed = false
    const stalled: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]() {
        let first = true
        return {
          next: () => {
            if (first) {
              first = false
              return Promise.resolve({ done: false, value: new Uint8Array(3) })
            }
            return new Promise(() => {})
          },
          return: () => {
            closed = true
            return Promise.resolve({ done: true, value: undefined })
          },
        }
      },
    }
    const controller = new AbortController()
    const seen: number[] = []
    const run = (async () => {
      for await (const chunk of meterSource(stalled, { signal: controller.signal })) {
        seen.push(chunk.byteLength)
        setTimeout(() => controller.abort(new Error('gone')), 10)
      }
    })()
    await expect(run).rejects.toThrow('gone')
    expect(seen).toEqual([3])
    expect(closed).toBe(true)
  })

  it('rejects chunks that are not bytes and invalid limits', async () => {
    await expect(drain(meterSource(['text' as unknown as Uint8Array]))).rejects.toBeInstanceOf(TypeError)
    await expect(drain(meterSource([], { maxBytes: -1 }))).rejects.toBeInstanceOf(RangeError)
  })
})
