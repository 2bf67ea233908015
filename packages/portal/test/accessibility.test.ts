import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import {
  approveParticipant,
  createDeidentifiedCopy,
  createGrant,
  createNodeClient,
  declareEmergency,
  getChainTime,
  registerParticipant,
  requestAccess,
  respondToRequest,
  type UploadFile,
  uploadDicomStudies,
  uploadRecord,
} from '@pcmims/core'
import { stowBody, synthesizeStudy, type TestIdentity, type TestNode } from '@pcmims/test-utils'
import type { Browser, Locator, Page } from 'playwright-core'
import { toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DESKTOP, launchBrowser, newContext, PHONE, signInAsDev, startPortalNode } from './browser.js'

/**
 * Every page of every role, the sign-in and registration pages and the main dialogs, checked by
 * axe-core (WCAG 2.x A and AA) at desktop and phone widths in light and dark colour schemes, and a
 * keyboard-only walk through the patient's pages.
 */

const AXE_SOURCE = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa']
const SCHEMES = ['light', 'dark'] as const
const WIDTHS = [
  ['desktop', DESKTOP],
  ['phone', PHONE],
] as const

type AxeViolation = {
  id: string
  impact: string | null
  help: string
  nodes: Array<{ target: unknown[]; failureSummary?: string }>
}

let testNode: TestNode
let browser: Browser
let base: string
let patientAddress: `0x${string}`

function memoryFile(path: string, bytes: Uint8Array, mediaType = 'application/dicom'): UploadFile {
  return {
    path,
    mediaType,
    size: bytes.length,
    async *open() {
      yield bytes
    },
  }
}

async function enrol(who: TestIdentity, role: 'Patient' | 'Medic', approve = true) {
  const client = await testNode.clientFor(who)
  await registerParticipant(client.walletClient, {
    contract: client.config.contract,
    unit: testNode.dev.unit!.account.address,
    role,
    encryptionKey: toHex(who.encryptionKeyPair.publicKey),
  })
  if (!approve) return
  const unit = await testNode.clientFor(testNode.dev.unit!)
  await approveParticipant(unit.walletClient, {
    contract: client.config.contract,
    account: who.account.address,
  })
}

beforeAll(async () => {
  testNode = await startPortalNode({
    ingest: { quietPeriodMs: 300, maxInstanceBytes: 64 * 1024 ** 2, maxStowBytes: 256 * 1024 ** 2 },
  })
  base = testNode.node.url
  browser = await launchBrowser()
  const dev = testNode.dev
  patientAddress = dev.patient!.account.address
  const uploader = await testNode.clientFor(dev.uploader!)
  const patient = await testNode.clientFor(dev.patient!)
  const medic = await testNode.clientFor(dev.medic!)
  const requestor = await testNode.clientFor(dev.requestor!)
  const contract = patient.config.contract

  // A CT study and a report for the dev patient.
  const study = synthesizeStudy({
    kind: 'CT',
    count: 2,
    rows: 32,
    columns: 32,
    seed: 'portal-a11y',
    patient: { name: 'QZXA11Y^PATIENT', id: 'QZXA11Y1', birthDate: '19700101', sex: 'F' },
    study: { studyDate: '20240115', description: 'Chest CT' },
  })
  const [ct] = await uploadDicomStudies(uploader, {
    patient: patientAddress,
    files: study.instances.map((i) => memoryFile(i.fileName, i.bytes)),
    appointment: 'APPT-A11Y-1',
    description: 'Chest CT',
    waitForAnchor: true,
  })
  await uploadRecord(uploader, {
    patient: patientAddress,
    kind: 'REPORT',
    files: [
      memoryFile(
        'report.json',
        new TextEncoder().encode('{"resourceType":"DiagnosticReport","status":"final"}'),
        'application/fhir+json',
      ),
    ],
    appointment: 'APPT-A11Y-2',
    description: 'Blood panel',
    date: '2024-03-02',
    waitForAnchor: true,
  })

  // The medic holds a one-day, view-only grant and has asked for more (pending).
  const now = await getChainTime(patient.publicClient)
  await createGrant(patient, {
    grantee: dev.medic!.account.address,
    expiresAt: now + 86_400,
    download: false,
  })
  await requestAccess(medic.walletClient, {
    contract,
    patient: patientAddress,
    scope: 'All',
    purpose: 'Treatment',
  })

  // The requestor asked, was approved de-identified only, and holds a copy.
  const { requestId } = await requestAccess(requestor.walletClient, {
    contract,
    patient: patientAddress,
    scope: 'Kinds',
    kinds: ['CT'],
    purpose: 'Research',
  })
  await respondToRequest(patient, {
    requestId,
    approve: true,
    expiresAt: now + 7 * 86_400,
    download: false,
    deidentifiedOnly: true,
  })
  await createDeidentifiedCopy(patient, { recordId: ct!.recordId, audience: dev.requestor!.account.address })

  // Another medic's emergency access: the patient's banner and emergency list.
  const emergencyMedic = await testNode.newIdentity()
  await enrol(emergencyMedic, 'Medic')
  const emergencyClient = await testNode.clientFor(emergencyMedic)
  await declareEmergency(emergencyClient.walletClient, {
    contract,
    patient: patientAddress,
    reasonCode: 2,
    durationSeconds: 2 * 3600,
  })

  // A registration waiting for the unit, and a study for an unknown MRN held for the unit.
  await enrol(await testNode.newIdentity(), 'Patient', false)
  const held = synthesizeStudy({
    kind: 'MR',
    count: 1,
    rows: 32,
    columns: 32,
    seed: 'portal-a11y-held',
    patient: { name: 'Held^Someone', id: 'MRN-A11Y-HELD' },
    study: { accessionNumber: 'ACC-A11Y', studyDate: '20250203', description: 'Brain MR' },
  })
  const { token } = await createNodeClient({ url: base, account: dev.uploader!.account }).signIn()
  const { contentType, body } = stowBody(held.instances.map((i) => i.bytes))
  const stored = await fetch(`${base}/api/v1/dicomweb/studies`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body,
  })
  expect(stored.status).toBe(200)
  await testNode.node.context.ingest.idle()

  // The access log verifies against an anchored root.
  const unit = await testNode.clientFor(dev.unit!)
  await unit.node.json('POST', '/api/v1/audit/anchor')
}, 300_000)

afterAll(async () => {
  await browser?.close()
  await testNode?.stop()
})

/** Waits until no loading state shows (and, when given, `ready` is there). */
async function settle(page: Page, ready?: Locator) {
  if (ready) await ready.first().waitFor({ timeout: 60_000 })
  await page.waitForFunction(
    () => document.querySelectorAll('.state-loading, [aria-busy="true"]').length === 0,
    undefined,
    { timeout: 60_000 },
  )
}

/** axe-core's serious and critical WCAG 2.x A/AA violations in the page, as readable lines. */
async function axeProblems(page: Page, context = 'body'): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(await AXE_SOURCE)
  const violations = await page.evaluate(
    async ({ tags, selector }) => {
      // biome-ignore lint/suspicious/noExplicitAny: axe-core is injected as a global
      const axe = (window as any).axe
      const result = await axe.run(document.querySelector(selector) ?? document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
      })
      return result.violations as AxeViolation[]
    },
    { tags: WCAG_TAGS, selector: context },
  )
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) =>
      v.nodes.map(
        (n) => `${v.id} (${v.impact}) at ${JSON.stringify(n.target)}: ${v.help}. ${n.failureSummary ?? ''}`,
      ),
    )
}

/**
 * Runs axe on the screen as it is, at both widths and both colour schemes; `redo` sets the
 * screen up again after a resize when needed. Returns the problems, each named by the screen.
 */
async function checkScreen(page: Page, name: string, selector = 'body'): Promise<string[]> {
  const problems: string[] = []
  for (const [width, viewport] of WIDTHS) {
    await page.setViewportSize(viewport)
    if (width === 'phone') {
      // Nothing wider than a phone: the page does not scroll sideways.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      if (overflow > 0) problems.push(`${name} [phone]: the page scrolls sideways by ${overflow}px`)
    }
    for (const scheme of SCHEMES) {
      await page.emulateMedia({ colorScheme: scheme })
      for (const line of await axeProblems(page, selector))
        problems.push(`${name} [${width}, ${scheme}]: ${line}`)
    }
  }
  await page.setViewportSize(DESKTOP)
  await page.emulateMedia({ colorScheme: 'light' })
  return problems
}

async function visit(page: Page, label: string) {
  await page
    .getByRole('navigation', { name: 'Sections' })
    .getByRole('link', { name: label, exact: true })
    .click()
  await page.getByRole('heading', { name: label, level: 1 }).waitFor()
}

function report(problems: string[]) {
  expect(problems, `accessibility problems:\n${problems.join('\n')}`).toEqual([])
}

async function signedIn(who: RegExp): Promise<Page> {
  const context = await newContext(browser, DESKTOP)
  const page = await context.newPage()
  await signInAsDev(page, base, who)
  return page
}

describe('axe-core finds no serious WCAG 2.x A/AA violations', () => {
  it('on the sign-in page, a new account’s card and its registration page', async () => {
    const context = await newContext(browser, DESKTOP)
    const page = await context.newPage()
    await page.goto(base)
    await settle(page, page.getByRole('heading', { name: /Development accounts/ }))
    const problems = await checkScreen(page, 'sign-in')

    const card = page.locator('form', { has: page.getByRole('heading', { name: 'Create an account' }) })
    await card.getByLabel('Passphrase', { exact: true }).fill('short')
    await card.getByText('At least 12 characters.').waitFor()
    problems.push(...(await checkScreen(page, 'sign-in with a field problem')))
    await card.getByLabel('Passphrase', { exact: true }).fill('a long enough passphrase')
    await card.getByLabel('Passphrase again').fill('a long enough passphrase')
    await card.getByRole('button', { name: 'Create account' }).click()
    const backup = page.getByRole('button', { name: 'Download keystore backup' })
    await backup.waitFor({ timeout: 120_000 })
    problems.push(...(await checkScreen(page, 'new account')))
    const download = page.waitForEvent('download')
    await backup.click()
    await download
    await page.getByRole('button', { name: 'Continue to registration' }).click()
    await page.getByRole('heading', { name: 'Register with a health unit' }).waitFor({ timeout: 60_000 })
    problems.push(...(await checkScreen(page, 'registration')))
    await page.getByRole('button', { name: 'Request registration' }).click()
    await page.getByRole('heading', { name: /Registration: pending/ }).waitFor({ timeout: 60_000 })
    problems.push(...(await checkScreen(page, 'registration pending')))
    await context.close()
    report(problems)
  }, 300_000)

  it('on the patient’s pages and the share, revoke and approve dialogs', async () => {
    const page = await signedIn(/Demo Patient/)
    const problems: string[] = []
    await settle(page, page.getByRole('button', { name: 'Open Chest CT' }))
    problems.push(...(await checkScreen(page, 'patient: My records')))

    await visit(page, 'Sharing')
    await settle(page, page.getByRole('row').filter({ hasText: 'Demo Medic' }))
    problems.push(...(await checkScreen(page, 'patient: Sharing')))
    await page.getByRole('button', { name: 'Share records…' }).click()
    const share = page.getByRole('dialog', { name: 'Share records' })
    await share.waitFor()
    await expect(focused(page), 'the focus moved into the dialog').resolves.toMatchObject({ inDialog: true })
    await share.getByLabel('Only records I choose').check()
    problems.push(...(await checkScreen(page, 'patient: Share records dialog')))
    await page.keyboard.press('Escape')
    await share.waitFor({ state: 'detached' })
    await page.getByRole('button', { name: 'Revoke access for Demo Medic (dev)' }).click()
    const revoke = page.getByRole('dialog', { name: /Revoke access for Demo Medic/ })
    await revoke.waitFor()
    await expect(focused(page), 'the focus moved into the dialog').resolves.toMatchObject({ inDialog: true })
    problems.push(...(await checkScreen(page, 'patient: Revoke dialog')))
    await page.keyboard.press('Escape')
    await revoke.waitFor({ state: 'detached' })

    await visit(page, 'Requests')
    await settle(page, page.getByRole('heading', { name: /Request from Demo Medic/ }))
    problems.push(...(await checkScreen(page, 'patient: Requests')))
    await page.getByRole('button', { name: 'Approve request from Demo Medic (dev)…' }).click()
    const approve = page.getByRole('dialog', { name: /Approve request #/ })
    await approve.waitFor()
    await expect(focused(page), 'the focus moved into the dialog').resolves.toMatchObject({ inDialog: true })
    problems.push(...(await checkScreen(page, 'patient: Approve request dialog')))
    await page.keyboard.press('Escape')
    await approve.waitFor({ state: 'detached' })

    await visit(page, 'Emergency access')
    await settle(page, page.getByRole('row').filter({ hasText: 'Active' }))
    problems.push(...(await checkScreen(page, 'patient: Emergency access')))

    await visit(page, 'Access log')
    await settle(page, page.getByRole('heading', { name: /Verified against the chain/ }))
    problems.push(...(await checkScreen(page, 'patient: Access log')))
    await page.context().close()
    report(problems)
  }, 300_000)

  it('on the medic’s pages and the emergency consequences dialog', async () => {
    const page = await signedIn(/Demo Medic/)
    const problems: string[] = []
    await page.getByRole('heading', { name: 'My patients', level: 1 }).waitFor()
    await settle(page, page.getByRole('row', { name: /View only/ }))
    problems.push(...(await checkScreen(page, 'medic: My patients')))

    await visit(page, 'Request access')
    await settle(page, page.getByRole('row', { name: /Treatment/ }))
    await page.getByLabel('Patient (account address)').fill(patientAddress)
    await page.getByText('An approved patient.').waitFor()
    problems.push(...(await checkScreen(page, 'medic: Request access')))

    await visit(page, 'Emergency access')
    await settle(page)
    problems.push(...(await checkScreen(page, 'medic: Emergency access')))
    await page.getByLabel('Patient (account address)').fill(patientAddress)
    await page.getByText('An approved patient.').waitFor()
    await page.getByLabel('Reason').selectOption({ label: 'Trauma' })
    await page.getByRole('button', { name: 'Review consequences…' }).click()
    const confirm = page.getByRole('alertdialog', { name: 'Before you declare an emergency' })
    await confirm.waitFor()
    await expect(focused(page), 'the focus moved into the dialog').resolves.toMatchObject({ inDialog: true })
    problems.push(...(await checkScreen(page, 'medic: emergency consequences dialog')))
    await page.keyboard.press('Escape')
    await confirm.waitFor({ state: 'detached' })
    await page.context().close()
    report(problems)
  }, 300_000)

  it('on the radiologist’s, the requestor’s and the unit admin’s pages', async () => {
    const problems: string[] = []
    const uploader = await signedIn(/Demo Radiologist/)
    await uploader.getByRole('heading', { name: 'Upload', level: 1 }).waitFor()
    await settle(uploader)
    problems.push(...(await checkScreen(uploader, 'radiologist: Upload')))
    await visit(uploader, 'Unmatched studies')
    await settle(uploader, uploader.locator('.held-card', { hasText: 'MRN-A11Y-HELD' }))
    problems.push(...(await checkScreen(uploader, 'radiologist: Unmatched studies')))
    await uploader.context().close()

    const requestor = await signedIn(/Demo Requestor/)
    await requestor.getByRole('heading', { name: 'My requests', level: 1 }).waitFor()
    await settle(requestor, requestor.getByRole('row', { name: /Research/ }))
    problems.push(...(await checkScreen(requestor, 'requestor: My requests')))
    await visit(requestor, 'Copies received')
    await settle(requestor, requestor.getByRole('row', { name: /De-identified/ }))
    problems.push(...(await checkScreen(requestor, 'requestor: Copies received')))
    await requestor.context().close()

    const unit = await signedIn(/Demo Health Unit/)
    await unit.getByRole('heading', { name: 'Registrations', level: 1 }).waitFor()
    await settle(unit, unit.getByRole('button', { name: /^Approve 0x/ }))
    problems.push(...(await checkScreen(unit, 'unit: Registrations')))
    await visit(unit, 'Staff and members')
    await settle(unit, unit.getByRole('heading', { name: 'Medics' }))
    problems.push(...(await checkScreen(unit, 'unit: Staff and members')))
    await visit(unit, 'Unmatched studies')
    await settle(unit)
    problems.push(...(await checkScreen(unit, 'unit: Unmatched studies')))
    await unit.context().close()
    report(problems)
  }, 300_000)
})

/**
 * What has the focus: its tag, id, name, and whether a focus ring shows: an outline at least 2px
 * wide whose colour has a 3:1 contrast with the background around it (WCAG 1.4.11).
 */
function focused(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null
    // A visually hidden file input shows its focus on the label styled as its button.
    const shown =
      el instanceof HTMLInputElement && el.type === 'file' && el.nextElementSibling
        ? el.nextElementSibling
        : el
    const style = shown ? getComputedStyle(shown) : undefined
    const rgb = (color: string) => (color.match(/[\d.]+/g) ?? []).map(Number)
    const luminance = (color: string) => {
      const [r = 0, g = 0, b = 0] = rgb(color).map((v) => {
        const c = v / 255
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
      })
      return 0.2126 * r + 0.7152 * g + 0.0722 * b
    }
    // The ring sits outside the element (offset): against its parent's background.
    let around: Element | null = shown?.parentElement ?? null
    let background = 'rgb(255, 255, 255)'
    while (around) {
      const color = getComputedStyle(around).backgroundColor
      const alpha = rgb(color)[3]
      if (color !== 'transparent' && alpha !== 0) {
        background = color
        break
      }
      around = around.parentElement
    }
    const [hi, lo] = [luminance(style?.outlineColor ?? ''), luminance(background)].sort((a, b) => b - a)
    const contrast = ((hi ?? 0) + 0.05) / ((lo ?? 0) + 0.05)
    return {
      tag: el?.tagName.toLowerCase() ?? '',
      id: el?.id ?? '',
      // The accessible name, roughly: aria-label, a field's label, or the text.
      text: (
        el?.getAttribute('aria-label') ??
        (el as HTMLInputElement | null)?.labels?.[0]?.textContent ??
        el?.textContent ??
        ''
      ).trim(),
      inDialog: !!el?.closest('[role="dialog"], [role="alertdialog"]'),
      ring:
        !!style &&
        style.outlineStyle !== 'none' &&
        Number.parseFloat(style.outlineWidth) >= 2 &&
        (Number.parseFloat(style.outlineOffset) < 0 || contrast >= 3),
      contrast: Math.round(contrast * 100) / 100,
    }
  })
}

/** Presses Tab until the focused element's text matches (at most `limit` presses). */
async function tabTo(page: Page, text: RegExp, limit = 60) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab')
    const now = await focused(page)
    if (text.test(now.text)) {
      expect(now.ring, `“${now.text}” has a visible focus ring`).toBe(true)
      return now
    }
  }
  throw new Error(`Tab never reached ${text}`)
}

describe('keyboard only', () => {
  it('signs in, skips to the content, moves between sections and uses the Share records dialog', async () => {
    const context = await newContext(browser, DESKTOP)
    const page = await context.newPage()
    await page.goto(base)
    await page.getByRole('heading', { name: /Development accounts/ }).waitFor()
    await tabTo(page, /^Demo Patient/)
    await page.keyboard.press('Enter')
    await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 60_000 })
    await page.getByRole('heading', { name: 'My records', level: 1 }).waitFor()

    // The first Tab reaches "Skip to content"; Enter moves the focus to the page's content.
    await page.keyboard.press('Tab')
    const skip = await focused(page)
    expect(skip.text).toBe('Skip to content')
    expect(skip.ring).toBe(true)
    await expect(page.getByRole('link', { name: 'Skip to content' }).isVisible()).resolves.toBe(true)
    await page.keyboard.press('Enter')
    await expect(focused(page)).resolves.toMatchObject({ id: 'main' })
    // From the content, the next Tab stays in it (not back in the header or the menu).
    await page.keyboard.press('Tab')
    await expect(
      page.evaluate(() => !!document.activeElement?.closest('#main')),
      'Tab after the skip link lands in the content',
    ).resolves.toBe(true)

    // The menu by keyboard: Shift+Tab back from the content reaches the sections; Enter opens one.
    await page.keyboard.press('Shift+Tab')
    for (let i = 0; i < 10 && !/^Access log$/.test((await focused(page)).text); i++) {
      await page.keyboard.press('Shift+Tab')
    }
    await expect(focused(page)).resolves.toMatchObject({ text: 'Access log', ring: true })
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('Shift+Tab')
    await expect(focused(page)).resolves.toMatchObject({ text: 'Sharing' })
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Sharing', level: 1 }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/sharing')
    // The new page's content has the focus, so the next Tab goes on from there.
    await expect(focused(page)).resolves.toMatchObject({ id: 'main' })

    // Every Tab stop on every patient page shows where the focus is, in both colour schemes.
    const unseen: string[] = []
    for (const scheme of SCHEMES) {
      await page.emulateMedia({ colorScheme: scheme })
      for (const section of ['My records', 'Sharing', 'Requests', 'Emergency access', 'Access log']) {
        const link = page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: section })
        await link.focus()
        const onLink = await focused(page)
        if (!onLink.ring) unseen.push(`${scheme}: menu link ${section} (contrast ${onLink.contrast})`)
        await page.keyboard.press('Enter')
        await page.getByRole('heading', { name: section, level: 1 }).waitFor()
        await settle(page)
        for (let stops = 0; stops < 80; stops++) {
          await page.keyboard.press('Tab')
          const now = await focused(page)
          if (!(await page.evaluate(() => !!document.activeElement?.closest('#main')))) break
          if (!now.ring)
            unseen.push(
              `${scheme}: ${section}: ${now.tag} “${now.text.slice(0, 60)}” (contrast ${now.contrast})`,
            )
        }
      }
    }
    await page.emulateMedia({ colorScheme: 'light' })
    expect(unseen, `Tab stops without a visible focus ring:\n${unseen.join('\n')}`).toEqual([])
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Sharing' }).focus()
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Sharing', level: 1 }).waitFor()

    // Open Share records with Space; the focus is inside the dialog and stays there.
    const opener = await tabTo(page, /^Share records…$/)
    expect(opener.tag).toBe('button')
    await page.keyboard.press('Space')
    const dialog = page.getByRole('dialog', { name: 'Share records' })
    await dialog.waitFor()
    await expect(focused(page)).resolves.toMatchObject({ inDialog: true })
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab')
      const now = await focused(page)
      expect(now.inDialog, `Tab ${i + 1} keeps the focus in the dialog (on “${now.text}”)`).toBe(true)
    }
    await page.keyboard.press('Shift+Tab')
    await expect(focused(page)).resolves.toMatchObject({ inDialog: true })

    // Escape closes it and the focus returns to the button that opened it.
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
    await expect(focused(page)).resolves.toMatchObject({ tag: 'button', text: 'Share records…', ring: true })
    await context.close()
  }, 180_000)

  it('the medic reaches the emergency consequences by keyboard; Escape returns to the form', async () => {
    const page = await signedIn(/Demo Medic/)
    await page
      .getByRole('navigation', { name: 'Sections' })
      .getByRole('link', { name: 'Emergency access' })
      .focus()
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Emergency access', level: 1 }).waitFor()
    await tabTo(page, /^Patient \(account address\)$/)
    await page.keyboard.type(patientAddress)
    await page.getByText('An approved patient.').waitFor()
    await expect(tabTo(page, /^Reason$/)).resolves.toMatchObject({ tag: 'select' })
    // The first reason, chosen with the arrow keys.
    await page.keyboard.press('ArrowDown')
    const review = await tabTo(page, /^Review consequences…$/)
    expect(review.tag).toBe('button')
    await page.keyboard.press('Enter')
    const confirm = page.getByRole('alertdialog', { name: 'Before you declare an emergency' })
    await confirm.waitFor()
    // A confirmation with consequences is read first: the focus is on the dialog, not its button.
    await expect(focused(page)).resolves.toMatchObject({ inDialog: true, tag: 'div' })
    await page.keyboard.press('Escape')
    await confirm.waitFor({ state: 'detached' })
    await expect(focused(page)).resolves.toMatchObject({ text: 'Review consequences…' })
    await page.context().close()
  }, 120_000)
})
