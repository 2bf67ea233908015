import fc from 'fast-check'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../logger.js'
import { errorToResponse } from './problem.js'
import { createRateLimiter, rateLimit } from './rate-limit.js'

function fakeClock(start = 1_000_000) {
  let t = start
  return {
    now: () => t,
    advance(ms: number) {
      t += ms
    },
  }
}

describe('createRateLimiter', () => {
  it('allows a burst, then refuses with the wait until the next token', () => {
    const clock = fakeClock()
    const limiter = createRateLimiter({ burst: 3, perSecond: 0.5, now: clock.now })
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, true])
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterS: 2 })
    // Other keys have their own bucket.
    expect(limiter.take('b').ok).toBe(true)
    clock.advance(1999)
    expect(limiter.take('a').ok).toBe(false)
    clock.advance(1)
    expect(limiter.take('a').ok).toBe(true)
    expect(limiter.take('a').ok).toBe(false)
  })

  it('charges the cost and says how long a larger cost must wait', () => {
    const clock = fakeClock()
    const limiter = createRateLimiter({ burst: 10, perSecond: 2, now: clock.now })
    expect(limiter.take('a', 7).ok).toBe(true)
    expect(limiter.take('a', 5)).toEqual({ ok: false, retryAfterS: 1 })
    expect(limiter.take('a', 10)).toEqual({ ok: false, retryAfterS: 4 })
    expect(() => limiter.take('a', 11)).toThrow(RangeError)
    expect(() => limiter.take('a', 0)).toThrow(RangeError)
  })

  it('a refused request costs nothing', () => {
    const clock = fakeClock()
    const limiter = createRateLimiter({ burst: 1, perSecond: 1, now: clock.now })
    expect(limiter.take('a').ok).toBe(true)
    for (let i = 0; i < 100; i++) expect(limiter.take('a').ok).toBe(false)
    clock.advance(1000)
    expect(limiter.take('a').ok).toBe(true)
  })

  it('a clock that steps back gives no tokens', () => {
    const clock = fakeClock()
    const limiter = createRateLimiter({ burst: 2, perSecond: 1, now: clock.now })
    limiter.take('a')
    limiter.take('a')
    clock.advance(-10_000)
    expect(limiter.take('a').ok).toBe(false)
    clock.advance(10_500)
    expect(limiter.take('a').ok).toBe(false)
    clock.advance(500)
    expect(limiter.take('a').ok).toBe(true)
  })

  it('forgets buckets that have filled up again', () => {
    const clock = fakeClock()
    const limiter = createRateLimiter({ burst: 5, perSecond: 1, now: clock.now })
    for (let i = 0; i < 1000; i++) limiter.take(`k${i}`)
    expect(limiter.size).toBe(1000)
    clock.advance(4999)
    limiter.take('x')
    expect(limiter.size).toBe(1001)
    clock.advance(1)
    limiter.take('y')
    // Only the two buckets touched in the last refill time remain.
    expect(limiter.size).toBe(2)
  })

  it('holds at most maxKeys buckets under a flood of distinct keys, evicting the least recently used', () => {
    const clock = fakeClock()
    const limiter = createRateLimiter({ burst: 2, perSecond: 0.001, maxKeys: 100, now: clock.now })
    limiter.take('victim')
    limiter.take('victim')
    for (let i = 0; i < 50; i++) {
      limiter.take(`flood-${i}`)
      clock.advance(1)
    }
    // Used again: the victim moves to the young end and survives the rest of the flood.
    expect(limiter.take('victim').ok).toBe(false)
    for (let i = 50; i < 100_000; i++) {
      limiter.take(`flood-${i}`)
      if (i === 120) expect(limiter.take('victim').ok).toBe(false)
    }
    expect(limiter.size).toBe(100)
  })

  it('never accepts more than burst + rate × t over any window (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0.01, max: 50, noNaN: true }),
        fc.array(
          fc.record({
            dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 5000 })),
            cost: fc.integer({ min: 1, max: 5 }),
            key: fc.constantFrom('a', 'b', 'c'),
          }),
          { maxLength: 300 },
        ),
        (burst, perSecond, steps) => {
          const clock = fakeClock()
          const limiter = createRateLimiter({ burst, perSecond, now: clock.now })
          const accepted: Record<string, Array<{ t: number; cost: number }>> = { a: [], b: [], c: [] }
          for (const step of steps) {
            clock.advance(step.dt)
            const cost = Math.min(step.cost, burst)
            if (limiter.take(step.key, cost).ok) accepted[step.key]?.push({ t: clock.now(), cost })
          }
          for (const list of Object.values(accepted)) {
            for (let i = 0; i < list.length; i++) {
              let sum = 0
              for (let j = i; j < list.length; j++) {
                const a = list[i] as { t: number }
                const b = list[j] as { t: number; cost: number }
                sum += b.cost
                const allowed = burst + (perSecond * (b.t - a.t)) / 1000
                if (sum > allowed + 1e-6) return false
              }
            }
          }
          return true
        },
      ),
      { numRuns: 300 },
    )
  })

  it('a steady client at the sustained rate is never refused (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 500 }),
        (burst, perSecond, count) => {
          const clock = fakeClock()
          const limiter = createRateLimiter({ burst, perSecond, now: clock.now })
          for (let i = 0; i < count; i++) {
            if (!limiter.take('a').ok) return false
            clock.advance(Math.ceil(1000 / perSecond))
          }
          return true
        },
      ),
    )
  })
})

describe('rateLimit middleware', () => {
  it('answers 429 problem+json with retry-after once the bucket is empty', async () => {
    const clock = fakeClock()
    const limiter = createRateLimiter({ burst: 2, perSecond: 0.25, now: clock.now })
    const app = new Hono()
    const logger = createLogger({ level: 'silent' })
    app.use(
      '*',
      rateLimit(limiter, (c) => c.req.header('x-who')),
    )
    app.get('/x', (c) => c.text('ok'))
    app.onError((error) => errorToResponse(error, logger, 'test'))
    const get = (who?: string) =>
      app.fetch(new Request('http://node.test/x', { headers: who ? { 'x-who': who } : {} }))
    expect((await get('alice')).status).toBe(200)
    expect((await get('alice')).status).toBe(200)
    const refused = await get('alice')
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('4')
    expect(refused.headers.get('content-type')).toBe('application/problem+json')
    expect(await refused.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' })
    expect((await get('bob')).status).toBe(200)
    // No key: not limited.
    for (let i = 0; i < 5; i++) expect((await get()).status).toBe(200)
    clock.advance(4000)
    expect((await get('alice')).status).toBe(200)
  })
})
