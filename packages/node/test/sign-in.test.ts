import { createNodeClient, createSignInMessage, NodeRequestError } from '@pcmims/core'
import { startTestNode, type TestNode } from '@pcmims/test-utils'
import type { Hex, LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deployContractWallet } from './contract-wallet.js'

type Problem = { code: string; title: string; detail?: string }

/** Sign-In with Ethereum against a real node and chain: every check refuses with the right status. */
describe('sign-in and sessions', () => {
  let t: TestNode

  beforeAll(async () => {
    t = await startTestNode({
      config: { sessions: { idleMs: 60_000, absoluteMs: 3_600_000, nonceTtlMs: 1500 } },
    })
  })
  afterAll(async () => {
    await t?.stop()
  })

  async function nonce(): Promise<{ nonce: string; chainId: number; domain: string; uri: string }> {
    const response = await fetch(`${t.node.url}/api/v1/auth/nonce`, { method: 'POST' })
    expect(response.status).toBe(200)
    return (await response.json()) as never
  }

  async function signIn(message: string, signature: Hex): Promise<Response> {
    return fetch(`${t.node.url}/api/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message, signature }),
    })
  }

  async function problem(response: Response, status: number, code: string): Promise<Problem> {
    expect(response.status).toBe(status)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    const body = (await response.json()) as Problem
    expect(body.code).toBe(code)
    return body
  }

  async function message(
    account: { address: `0x${string}` },
    overrides: Partial<Parameters<typeof createSignInMessage>[0]> = {},
  ): Promise<string> {
    const challenge = await nonce()
    return createSignInMessage({
      address: account.address,
      nodeUrl: t.node.url,
      chainId: challenge.chainId,
      nonce: challenge.nonce,
      ...overrides,
    })
  }

  const session = (token: string) =>
    fetch(`${t.node.url}/api/v1/auth/session`, { headers: { authorization: `Bearer ${token}` } })

  it('signs in, and the session is attributed to the signer; the nonce names this node and chain', async () => {
    const account = t.dev.patient!.account
    const challenge = await nonce()
    expect(challenge.chainId).toBe(t.node.chainId)
    expect(challenge.uri).toBe(new URL(t.node.url).origin)
    const text = createSignInMessage({
      address: account.address,
      nodeUrl: t.node.url,
      chainId: challenge.chainId,
      nonce: challenge.nonce,
    })
    const response = await signIn(text, await account.signMessage({ message: text }))
    expect(response.status).toBe(200)
    const cookie = response.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/pcmims_session=/)
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Strict/i)
    const opened = (await response.json()) as { token: string; address: string }
    expect(opened.address).toBe(account.address)
    const current = await session(opened.token)
    expect(current.status).toBe(200)
    expect(((await current.json()) as { address: string }).address).toBe(account.address)
  })

  it('refuses a replayed message (its nonce is used up)', async () => {
    const account = t.dev.medic!.account
    const text = await message(account)
    const signature = await account.signMessage({ message: text })
    expect((await signIn(text, signature)).status).toBe(200)
    const replay = await problem(await signIn(text, signature), 401, 'SIGN_IN_REJECTED')
    expect(replay.detail).toMatch(/nonce/)
  })

  it('refuses an expired message, a stale or future issue time, and a not-yet-valid one', async () => {
    const account = t.dev.medic!.account
    const cases: Array<[Partial<Parameters<typeof createSignInMessage>[0]>, RegExp]> = [
      [{ expirationTime: new Date(Date.now() - 1000) }, /expired/],
      [{ issuedAt: new Date(Date.now() - 3_600_000) }, /issued-at/],
      [{ issuedAt: new Date(Date.now() + 3_600_000) }, /issued-at/],
    ]
    for (const [overrides, detail] of cases) {
      const text = await message(account, overrides)
      const body = await problem(
        await signIn(text, await account.signMessage({ message: text })),
        401,
        'SIGN_IN_REJECTED',
      )
      expect(body.detail).toMatch(detail)
    }
    const challenge = await nonce()
    const notYet = createSignInMessage({
      address: account.address,
      nodeUrl: t.node.url,
      chainId: challenge.chainId,
      nonce: challenge.nonce,
    }).replace(
      /\nIssued At: (.+)/,
      (line) => `${line}\nNot Before: ${new Date(Date.now() + 600_000).toISOString()}`,
    )
    const body = await problem(
      await signIn(notYet, await account.signMessage({ message: notYet })),
      401,
      'SIGN_IN_REJECTED',
    )
    expect(body.detail).toMatch(/not valid yet/)
  })

  it('refuses a wrong chain id, domain, URI or scheme', async () => {
    const account = t.dev.medic!.account
    const url = new URL(t.node.url)
    const cases: Array<[Partial<Parameters<typeof createSignInMessage>[0]>, RegExp]> = [
      [{ chainId: 1 }, /chain id/],
      [{ nodeUrl: `http://evil.example:${url.port}` }, /domain/],
      [{ nodeUrl: `http://127.0.0.1:${Number(url.port) + 1}` }, /domain/],
    ]
    for (const [overrides, detail] of cases) {
      const text = await message(account, overrides)
      const body = await problem(
        await signIn(text, await account.signMessage({ message: text })),
        401,
        'SIGN_IN_REJECTED',
      )
      expect(body.detail).toMatch(detail)
    }
    const otherUri = (await message(account)).replace(/\nURI: .+/, '\nURI: https://elsewhere.example/')
    const body = await problem(
      await signIn(otherUri, await account.signMessage({ message: otherUri })),
      401,
      'SIGN_IN_REJECTED',
    )
    expect(body.detail).toMatch(/uri/)
  })

  it('refuses a nonce it never issued, an expired nonce, and a signature by another key', async () => {
    const account = t.dev.medic!.account
    const invented = createSignInMessage({
      address: account.address,
      nodeUrl: t.node.url,
      chainId: t.node.chainId,
      nonce: 'abcdefgh12345678',
    })
    const body = await problem(
      await signIn(invented, await account.signMessage({ message: invented })),
      401,
      'SIGN_IN_REJECTED',
    )
    expect(body.detail).toMatch(/nonce/)
    const late = await message(account)
    await new Promise((resolve) => setTimeout(resolve, 1700))
    await problem(await signIn(late, await account.signMessage({ message: late })), 401, 'SIGN_IN_REJECTED')
    const forged = await message(account)
    const other = privateKeyToAccount(generatePrivateKey())
    const wrong = await problem(
      await signIn(forged, await other.signMessage({ message: forged })),
      401,
      'SIGN_IN_REJECTED',
    )
    expect(wrong.detail).toMatch(/signature/)
  })

  it('refuses malformed sign-in bodies with a 4xx', async () => {
    const post = (body: BodyInit) =>
      fetch(`${t.node.url}/api/v1/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
    await problem(await post('{"message":'), 400, 'INVALID_JSON')
    await problem(await post(JSON.stringify({ message: 5, signature: '0x00' })), 400, 'INVALID_BODY')
    await problem(
      await post(JSON.stringify({ message: 'hello', signature: '0x1234' })),
      400,
      'INVALID_SIGN_IN',
    )
    await problem(await post(JSON.stringify({ message: 'x', signature: 'nothex' })), 400, 'INVALID_BODY')
    expect((await post('x'.repeat(40_000))).status).toBe(413)
  })

  it('ends a session at sign-out: the token and the cookie stop working', async () => {
    const client = createNodeClient({ url: t.node.url, account: t.dev.patient!.account })
    const opened = await client.signIn()
    expect((await session(opened.token)).status).toBe(200)
    await client.signOut()
    await problem(await session(opened.token), 401, 'UNAUTHENTICATED')
    const byCookie = await fetch(`${t.node.url}/api/v1/auth/session`, {
      headers: { cookie: `pcmims_session=${opened.token}` },
    })
    await problem(byCookie, 401, 'UNAUTHENTICATED')
  })

  it('a cookie session works for reads, and state changes need this node as Origin', async () => {
    const client = createNodeClient({ url: t.node.url, account: t.dev.uploader!.account })
    const { token } = await client.signIn()
    const cookie = `pcmims_session=${token}`
    expect((await fetch(`${t.node.url}/api/v1/auth/session`, { headers: { cookie } })).status).toBe(200)
    const crossSite = await fetch(`${t.node.url}/api/v1/auth/sign-out`, {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.example' },
    })
    await problem(crossSite, 403, 'ACCESS_DENIED')
    const sameSite = await fetch(`${t.node.url}/api/v1/auth/sign-out`, {
      method: 'POST',
      headers: { cookie, origin: new URL(t.node.url).origin },
    })
    expect(sameSite.status).toBe(204)
  })

  it('a contract wallet signs in through ERC-1271; its owner key alone does not make it the wallet', async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const wallet = await deployContractWallet({
      rpcUrl: t.node.rpcUrl,
      deployer: t.dev.governance!.account,
      owner: owner.address,
    })
    const signer = { address: wallet, signMessage: (args: { message: string }) => owner.signMessage(args) }
    const opened = await createNodeClient({ url: t.node.url, account: signer }).signIn()
    expect(opened.address).toBe(wallet)
    const stranger = privateKeyToAccount(generatePrivateKey())
    const impostor = {
      address: wallet,
      signMessage: (args: { message: string }) => stranger.signMessage(args),
    }
    const refused = await createNodeClient({ url: t.node.url, account: impostor })
      .signIn()
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(NodeRequestError)
    expect((refused as NodeRequestError).status).toBe(401)
  })
})

describe('session timeouts', () => {
  it('a session ends after its idle timeout, and after its absolute lifetime however active', async () => {
    const t = await startTestNode({
      config: { sessions: { idleMs: 1200, absoluteMs: 3000, nonceTtlMs: 60_000 } },
    })
    try {
      const account: LocalAccount = t.dev.patient!.account
      const idle = await createNodeClient({ url: t.node.url, account }).signIn()
      const get = (token: string) =>
        fetch(`${t.node.url}/api/v1/auth/session`, { headers: { authorization: `Bearer ${token}` } })
      expect((await get(idle.token)).status).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 1500))
      const expired = await get(idle.token)
      expect(expired.status).toBe(401)
      expect(((await expired.json()) as Problem).code).toBe('SESSION_EXPIRED')

      const busy = await createNodeClient({ url: t.node.url, account }).signIn()
      const started = Date.now()
      // Used every 400 ms: never idle, yet it ends at its absolute lifetime.
      let last = 200
      while (Date.now() - started < 4000 && last === 200) {
        last = (await get(busy.token)).status
        await new Promise((resolve) => setTimeout(resolve, 400))
      }
      expect(last).toBe(401)
      expect(Date.now() - started).toBeGreaterThanOrEqual(2900)
    } finally {
      await t.stop()
    }
  })
})
