import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { NodeConfig } from '@pcmims/node'
import { startTestNode, type TestNode } from '@pcmims/test-utils'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'

/** Debian's Chromium; the tests never download a browser. */
export const CHROMIUM = process.env.PCMIMS_CHROMIUM ?? '/usr/bin/chromium'

/** Where the tests leave their screenshots (one PNG per main screen and width). */
export const SCREENSHOT_DIR = join(import.meta.dirname, '..', 'screenshots')

export const DESKTOP = { width: 1280, height: 800 }
export const PHONE = { width: 390, height: 844 }

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
      '--disable-gpu',
    ],
  })
}

/** A fresh browser profile (no shared storage) at the given size; downloads allowed. */
export async function newContext(browser: Browser, viewport = DESKTOP): Promise<BrowserContext> {
  return browser.newContext({ viewport, acceptDownloads: true, reducedMotion: 'reduce' })
}

/** Saves `<name>-<desktop|phone>.png` for the closing note's tour of the portal. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  const width = page.viewportSize()?.width ?? DESKTOP.width
  await page.screenshot({
    path: join(SCREENSHOT_DIR, `${name}-${width < 700 ? 'phone' : 'desktop'}.png`),
    fullPage: true,
  })
}

/** Signs in with a development account from the sign-in page's one-click list. */
export async function signInAsDev(page: Page, baseUrl: string, name: RegExp): Promise<void> {
  await page.goto(baseUrl)
  await page.getByRole('button', { name }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 60_000 })
}

/**
 * A real node (embedded anvil and Helia, 127.0.0.1, free ports) serving the built portal: this
 * package's `dist`, or `PCMIMS_PORTAL_DIR` when a build elsewhere is under test.
 */
export async function startPortalNode(config: Partial<NodeConfig> = {}): Promise<TestNode> {
  const dir = process.env.PCMIMS_PORTAL_DIR ?? join(import.meta.dirname, '..', 'dist')
  return startTestNode({ config: { portal: { dir }, ...config } })
}
