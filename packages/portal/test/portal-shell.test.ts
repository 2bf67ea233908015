import type { TestNode } from '@pcmims/test-utils'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DESKTOP,
  launchBrowser,
  newContext,
  PHONE,
  screenshot,
  signInAsDev,
  startPortalNode,
} from './browser.js'

let testNode: TestNode
let browser: Browser
let base: string

beforeAll(async () => {
  testNode = await startPortalNode()
  base = testNode.node.url
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  await testNode?.stop()
})

describe('the node serves the portal', () => {
  it('answers pages with the portal and a strict content security policy', async () => {
    for (const path of ['/', '/records', '/sharing']) {
      const response = await fetch(new URL(path, base))
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/html/)
      const csp = response.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("default-src 'self'")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toContain("'unsafe-eval'")
      expect(await response.text()).toContain('<div id="root">')
    }
  })

  it('caches hashed assets and refuses paths outside the build', async () => {
    const html = await (await fetch(base)).text()
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1]
    expect(script).toBeDefined()
    const asset = await fetch(new URL(script!, base))
    expect(asset.status).toBe(200)
    expect(asset.headers.get('cache-control')).toContain('immutable')
    // Compressed for clients that take gzip (fetch decompresses it), whole for those that do not.
    expect(asset.headers.get('content-encoding')).toBe('gzip')
    const code = await asset.text()
    const plain = await fetch(new URL(script!, base), { headers: { 'accept-encoding': 'identity' } })
    expect(plain.headers.get('content-encoding')).toBeNull()
    expect(Number(plain.headers.get('content-length'))).toBe(Buffer.byteLength(code))
    expect(await plain.text()).toBe(code)
    for (const path of ['/assets/missing.js', '/%2e%2e/%2e%2e/package.json', '/..%2f..%2fpackage.json']) {
      const response = await fetch(new URL(path, base))
      expect(response.status, path).toBe(404)
    }
    // The API keeps its own answers: an unknown route is problem+json, not the portal's page.
    const api = await fetch(new URL('/api/v1/nothing-here', base))
    expect(api.status).toBe(404)
    expect(api.headers.get('content-type')).toContain('application/problem+json')
  })
})

describe('signing in', () => {
  it('offers the development accounts, marked development-only, and signs in with one click', async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      const context = await newContext(browser, viewport)
      const page = await context.newPage()
      await page.goto(base)
      await page.getByRole('heading', { name: /Development accounts/ }).waitFor()
      await expect(page.getByText('development only').first().isVisible()).resolves.toBe(true)
      await screenshot(page, 'sign-in')
      await signInAsDev(page, base, /Demo Patient/)
      await page.getByRole('heading', { name: 'My records', level: 1 }).waitFor()
      await expect(page.getByText('development account').isVisible()).resolves.toBe(true)
      await context.close()
    }
  })

  it('signing out wipes the session: the node refuses its token and the page is back at sign-in', async () => {
    const context = await newContext(browser)
    const page = await context.newPage()
    await signInAsDev(page, base, /Demo Medic/)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByText('You signed out').waitFor()
    const storage = await page.evaluate(() => ({
      local: { ...localStorage },
      session: { ...sessionStorage },
    }))
    expect(JSON.stringify(storage)).not.toMatch(/0x[0-9a-f]{64}/i)
    await context.close()
  })
})
