import { createNodeClient, NodeRequestError } from '@pcmims/core'
import { startTestNode, type TestNode } from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** Per-address request budgets and per-IP sign-in budgets on a real node over loopback. */
describe('rate limits', () => {
  let t: TestNode

  beforeAll(async () => {
    t = await startTestNode({ config: { rateLimit: { burst: 10, perSecond: 1, signInPerMinute: 6 } } })
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('one address over its budget gets 429 with retry-after; another address is not affected', async () => {
    const patient = createNodeClient({ url: t.node.url, account: t.dev.patient!.account })
    const { token } = await patient.signIn()
    const statuses: number[] = []
    let retryAfter: string | null = null
    for (let i = 0; i < 15; i++) {
      const response = await fetch(`${t.node.url}/api/v1/auth/session`, {
        headers: { authorization: `Bearer ${token}` },
      })
      statuses.push(response.status)
      if (response.status === 429) {
        retryAfter = response.headers.get('retry-after')
        expect(((await response.json()) as { code: string }).code).toBe('RATE_LIMITED')
      } else await response.body?.cancel()
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(10)
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3)
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)

    const medic = createNodeClient({ url: t.node.url, account: t.dev.medic!.account })
    const { token: other } = await medic.signIn()
    const fine = await fetch(`${t.node.url}/api/v1/auth/session`, {
      headers: { authorization: `Bearer ${other}` },
    })
    expect(fine.status).toBe(200)

    // The SDK waits as long as the node asks and then succeeds.
    const session = await patient.json<{ address: string }>('GET', '/api/v1/auth/session')
    expect(session.address).toBe(t.dev.patient!.account.address)
  })

  it('sign-in attempts are limited per client IP', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) {
      const response = await fetch(`${t.node.url}/api/v1/auth/nonce`, { method: 'POST' })
      statuses.push(response.status)
      await response.body?.cancel()
    }
    expect(statuses).toContain(429)
    const refused = await createNodeClient({ url: t.node.url, account: t.dev.uploader!.account })
      .signIn()
      .catch((e: unknown) => e)
    // Either refused outright or admitted after waiting the retry-after the node named: never a 500.
    if (refused instanceof NodeRequestError) expect(refused.status).toBe(429)
  })
})
