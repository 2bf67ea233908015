import { describe, expect, it } from 'vitest'
import { formatLoadTable, loadFailures, runLoadBench } from './load.js'

describe('runLoadBench (tiny run)', () => {
  it('signs in, lists, uploads without errors under the limits and meets the limiter past them', {
    timeout: 180_000,
  }, async () => {
    const result = await runLoadBench({
      accounts: 4,
      signInRounds: 2,
      recordsPerPatient: 3,
      listings: 24,
      concurrency: 4,
      uploads: 2,
      uploadBytes: 1024 * 1024 + 17,
      uploadConcurrency: 2,
      limiterRequests: 80,
      limiterSignIns: 16,
      rateLimit: { burst: 20, perSecond: 10, signInPerMinute: 10 },
    })
    // Each simulated client signs in from its own loopback address: a 429 in the sign-in phase means
    // the node keyed every client to one shared budget instead of one per IP.
    expect(loadFailures(result)).toEqual([])
    const phase = (prefix: string) => {
      const found = result.phases.find((p) => p.phase.startsWith(prefix))
      if (!found) throw new Error(`no phase ${prefix}`)
      return found
    }
    expect(phase('sign-in').ok).toBe(8)
    expect(phase('list records').ok).toBe(24)
    const upload = phase('upload')
    expect(upload.ok).toBe(2)
    expect(upload.mibPerSecond).toBeGreaterThan(0)
    // 20 in the burst, about 10 more per second: most of 80 sent at once are refused.
    const perAddress = phase('limiter: one address')
    expect(perAddress.errors).toBe(0)
    expect(perAddress.rateLimited).toBeGreaterThan(20)
    expect(perAddress.ok).toBeGreaterThanOrEqual(15)
    // 10 sign-in requests a minute per IP: of 16 nonces, 6 or so are refused.
    const perIp = phase('limiter: one IP')
    expect(perIp.ok).toBeGreaterThanOrEqual(10)
    expect(perIp.rateLimited).toBeGreaterThan(0)
    expect(result.limiterMounted).toBe(true)
    expect(result.retryAfterS).toBeGreaterThanOrEqual(1)
    for (const p of result.phases) {
      expect(p.p50Ms).toBeLessThanOrEqual(p.p95Ms)
      expect(p.p95Ms).toBeLessThanOrEqual(p.maxMs)
    }
    expect(formatLoadTable(result)).toContain('burst 20, 10/s per address')
  })
})
