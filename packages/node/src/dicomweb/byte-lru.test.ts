import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ByteLru } from './byte-lru.js'

describe('ByteLru', () => {
  it('evicts the least recently used entries to stay within its byte budget', () => {
    const evicted: string[] = []
    const lru = new ByteLru<string, string>({ maxBytes: 10, onEvict: (v) => evicted.push(v) })
    lru.set('a', 'A', 4)
    lru.set('b', 'B', 4)
    expect(lru.get('a')).toBe('A')
    lru.set('c', 'C', 4)
    expect(lru.get('b')).toBeUndefined()
    expect(lru.get('a')).toBe('A')
    expect(lru.get('c')).toBe('C')
    expect(evicted).toEqual(['B'])
    lru.set('huge', 'H', 11)
    expect(lru.get('huge')).toBeUndefined()
    expect(lru.bytes).toBe(8)
  })

  it('never holds more than its budgets, whatever the sequence of operations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 40 }), fc.boolean())),
        (ops) => {
          const lru = new ByteLru<number, number>({ maxBytes: 64, maxEntries: 4 })
          const live = new Map<number, number>()
          for (const [key, size, remove] of ops) {
            if (remove) {
              lru.delete(key)
              live.delete(key)
            } else {
              lru.set(key, size, size)
              live.set(key, size)
            }
            expect(lru.bytes).toBeLessThanOrEqual(64)
            expect(lru.size).toBeLessThanOrEqual(4)
          }
          // Whatever it still holds is the latest value set for that key.
          for (const [key, size] of live) {
            const got = lru.get(key)
            if (got !== undefined) expect(got).toBe(size)
          }
        },
      ),
    )
  })
})
