import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context, MiddlewareHandler } from 'hono'
import { RateLimitedError } from './errors.js'

export type CreateRateLimiterParameters = {
  /** Requests a key may make at once (the bucket's size). */
  burst: number
  /** Tokens added back per second. */
  perSecond: number
  /** Most keys remembered at once; the least recently used goes first (default 100 000). */
  maxKeys?: number | undefined
  /** Clock in milliseconds (tests pass a fake one). */
  now?: (() => number) | undefined
}

export type TakeReturnType = { ok: true } | { ok: false; retryAfterS: number }

export type RateLimiter = {
  /** Takes `cost` tokens from `key`'s bucket, or says how many seconds until they are there. */
  take(key: string, cost?: number): TakeReturnType
  /** Keys currently held in memory. */
  readonly size: number
}

type Bucket = { tokens: number; at: number }

/**
 * Token buckets in memory, one per key. A key whose bucket has filled up again is forgotten (it is the
 * same as a new one), and at most `maxKeys` buckets are held: a flood of distinct keys evicts the least
 * recently used ones instead of growing without bound. An evicted key starts again with a full bucket,
 * so the limit per key holds only while fewer than `maxKeys` keys are active at once.
 */
export function createRateLimiter({
  burst,
  perSecond,
  maxKeys = 100_000,
  now = Date.now,
}: CreateRateLimiterParameters): RateLimiter {
  if (!(burst >= 1) || !(perSecond > 0) || !(maxKeys >= 1)) {
    throw new RangeError('burst and maxKeys must be at least 1 and perSecond above 0')
  }
  // A Map iterates in insertion order: deleting and re-inserting on use keeps it in LRU order.
  const buckets = new Map<string, Bucket>()
  // Past this idle time any bucket is full again, whatever it held.
  const refillMs = (burst / perSecond) * 1000

  function forgetIdle(t: number): void {
    for (const [key, bucket] of buckets) {
      if (t - bucket.at < refillMs) break
      buckets.delete(key)
    }
  }

  return {
    take(key, cost = 1) {
      if (!(cost > 0) || cost > burst) throw new RangeError(`cost must be in (0, ${burst}]`)
      const t = now()
      forgetIdle(t)
      const bucket = buckets.get(key)
      let tokens = burst
      if (bucket) {
        buckets.delete(key)
        // A clock that steps back adds nothing.
        tokens = Math.min(burst, bucket.tokens + (Math.max(0, t - bucket.at) / 1000) * perSecond)
      }
      const ok = tokens >= cost
      if (ok) tokens -= cost
      buckets.set(key, { tokens, at: Math.max(t, bucket?.at ?? t) })
      while (buckets.size > maxKeys) {
        const oldest = buckets.keys().next().value as string
        buckets.delete(oldest)
      }
      if (ok) return { ok: true }
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((cost - tokens) / perSecond)) }
    },
    get size() {
      return buckets.size
    },
  }
}

export type RateLimitOptions = {
  /** Tokens one request costs (default 1). */
  cost?: number | undefined
}

/**
 * Hono middleware: takes a token for `keyOf(c)` and refuses with 429 (`RATE_LIMITED`, `retry-after`)
 * when the bucket is empty. A request `keyOf` has no key for passes unlimited.
 */
export function rateLimit(
  limiter: RateLimiter,
  keyOf: (c: Context) => string | undefined,
  options: RateLimitOptions = {},
): MiddlewareHandler {
  return async (c, next) => {
    const key = keyOf(c)
    if (key !== undefined) {
      const taken = limiter.take(key, options.cost)
      if (!taken.ok) throw new RateLimitedError(taken.retryAfterS)
    }
    await next()
  }
}

/**
 * The client's IP address as the socket sees it (`undefined` for in-process `app.fetch` requests).
 * Behind a reverse proxy every client shares the proxy's address: key on the signed-in address there.
 */
export function clientIp(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address
  } catch {
    return undefined
  }
}
