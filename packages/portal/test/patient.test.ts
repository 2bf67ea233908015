import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import {
  approveParticipant,
  canAccess,
  closeRecord,
  declareEmergency,
  getAccess,
  getGrant,
  getRequest,
  listRecords,
  openRecord,
  type PcmimsClient,
  registerParticipant,
  requestAccess,
  type UploadFile,
  uploadDicomStudies,
  uploadRecord,
} from '@pcmims/core'
import { synthesizeStudy, type TestNode } from '@pcmims/test-utils'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { type Address, type Hex, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DESKTOP,
  launchBrowser,
  newContext,
  PHONE,
  SCREENSHOT_DIR,
  screenshot,
  signInAsDev,
  startPortalNode,
} from './browser.js'

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

const PATIENT_NAME = 'QZXPORTAL^PATIENT'

let testNode: TestNode
let browser: Browser
let base: string
let patientAddress: Address
let medicAddress: Address
let requestorAddress: Address
let medic: PcmimsClient
let requestor: PcmimsClient
let ctRecord: Hex
let reportRecord: Hex
let medicRequest: bigint
let requestorRequest: bigint
const pages: Record<'desktop' | 'phone', { context: BrowserContext; page: Page }> = {} as never

beforeAll(async () => {
  testNode = await startPortalNode()
  base = testNode.node.url
  browser = await launchBrowser()
  const dev = testNode.dev
  patientAddress = dev.patient!.account.address
  medicAddress = dev.medic!.account.address
  requestorAddress = dev.requestor!.account.address
  const uploader = await testNode.clientFor(dev.uploader!)
  medic = await testNode.clientFor(dev.medic!)
  requestor = await testNode.clientFor(dev.requestor!)
  const contract = medic.config.contract

  // A small CT study (fixture headers, synthesized pixels) and a lab report for the dev patient.
  const study = synthesizeStudy({
    kind: 'CT',
    count: 3,
    rows: 32,
    columns: 32,
    seed: 'portal-patient',
    patient: { name: PATIENT_NAME, id: 'QZXMRN0001', birthDate: '19700101', sex: 'F' },
    study: { studyDate: '20240115', description: 'Chest CT' },
  })
  const [uploaded] = await uploadDicomStudies(uploader, {
    patient: patientAddress,
    files: study.instances.map((i) => memoryFile(i.fileName, i.bytes)),
    appointment: 'APPT-CT-1',
    description: 'Chest CT',
    waitForAnchor: true,
  })
  ctRecord = uploaded!.recordId
  const report = await uploadRecord(uploader, {
    patient: patientAddress,
    kind: 'REPORT',
    files: [
      memoryFile(
        'report.json',
        new TextEncoder().encode('{"resourceType":"DiagnosticReport","status":"final"}'),
        'application/fhir+json',
      ),
    ],
    appointment: 'APPT-LAB-7',
    description: 'Blood panel',
    date: '2024-03-02',
    waitForAnchor: true,
  })
  reportRecord = report.recordId

  // Two requests wait for the patient: the medic's (to be denied), the requestor's (approved de-identified).
  medicRequest = (
    await requestAccess(medic.walletClient, {
      contract,
      patient: patientAddress,
      scope: 'All',
      purpose: 'Treatment',
    })
  ).requestId
  requestorRequest = (
    await requestAccess(requestor.walletClient, {
      contract,
      patient: patientAddress,
      scope: 'Kinds',
      kinds: ['CT'],
      purpose: 'Research',
    })
  ).requestId

  for (const [name, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    const context = await newContext(browser, viewport)
    const page = await context.newPage()
    await signInAsDev(page, base, /Demo Patient/)
    pages[name] = { context, page }
  }
}, 240_000)

afterAll(async () => {
  for (const { context } of Object.values(pages)) await context?.close()
  await browser?.close()
  await testNode?.stop()
})

/** Opens a section through the side navigation (the page reloads its data on each visit). */
async function visit(page: Page, label: string, heading = label) {
  // Another section first, so visiting the current one again mounts it afresh.
  const current = await page.getByRole('heading', { level: 1 }).textContent()
  if (current === heading) {
    const other = label === 'My records' ? 'Access log' : 'My records'
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: other }).click()
    await page.getByRole('heading', { name: other, level: 1 }).waitFor()
  }
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: label }).click()
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor()
  expect(new URL(page.url()).pathname).toMatch(/^\/[a-z-]+$/)
}

/** A dialog is fixed to the viewport: its picture is the viewport, not the whole page behind it. */
async function dialogShot(page: Page, name: string) {
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  const phone = (page.viewportSize()?.width ?? DESKTOP.width) < 700
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-${phone ? 'phone' : 'desktop'}.png`) })
}

/** Waits for a dialog to close; fails with the dialog's error if it shows one instead. */
async function settled(dialog: Locator, timeout = 60_000) {
  const error = dialog.locator('.state-error')
  await Promise.race([
    dialog.waitFor({ state: 'detached', timeout }),
    error.waitFor({ timeout }).then(async () => {
      throw new Error(`The dialog shows an error: ${await error.textContent()}`)
    }),
  ])
}

async function both(run: (page: Page, name: 'desktop' | 'phone') => Promise<void>) {
  for (const name of ['desktop', 'phone'] as const) await run(pages[name].page, name)
}

describe('the patient’s pages', () => {
  it('lists the records newest first, with details decrypted in the browser, and filters them', async () => {
    await both(async (page) => {
      await visit(page, 'My records')
      await page.getByRole('button', { name: 'Open Chest CT' }).waitFor({ timeout: 60_000 })
      await page.getByRole('button', { name: 'Open Blood panel' }).waitFor()
      await page.getByText('APPT-CT-1').waitFor()
      await screenshot(page, 'patient-records')
    })
    const page = pages.desktop.page
    // The report (March) is listed before the CT (January).
    const titles = await page.locator('.record-title strong').allTextContents()
    expect(titles).toEqual(['Blood panel', 'Chest CT'])

    await page.getByLabel('Kind', { exact: true }).selectOption('REPORT')
    await expect(page.getByRole('button', { name: 'Open Chest CT' }).count()).resolves.toBe(0)
    await expect(page.getByRole('button', { name: 'Open Blood panel' }).count()).resolves.toBe(1)
    await page.getByText('Showing 1 of 2 records').waitFor()
    await page.getByRole('button', { name: 'Clear filters' }).first().click()

    await page.getByLabel('Search description or appointment').fill('appt-ct')
    await page.getByText('Showing 1 of 2 records').waitFor()
    await expect(page.getByRole('button', { name: 'Open Blood panel' }).count()).resolves.toBe(0)
    await page.getByLabel('Search description or appointment').fill('')

    await page.getByLabel('From', { exact: true }).fill('2024-02-01')
    await page.getByText('Showing 1 of 2 records').waitFor()
    await expect(page.getByRole('button', { name: 'Open Chest CT' }).count()).resolves.toBe(0)
    await page.getByLabel('To', { exact: true }).fill('2024-02-28')
    await page.getByText('No records match these filters').waitFor()
    await page.getByRole('button', { name: 'Clear filters' }).first().click()
    await page.getByText('2 records', { exact: true }).waitFor()
    // No record id, name or address in the address bar.
    expect(page.url()).not.toMatch(/0x[0-9a-f]{8}/i)
  })

  it('grants the medic one day, view only; the chain agrees', async () => {
    const page = pages.desktop.page
    await visit(page, 'Sharing')
    await page.getByText('You share your records with nobody').waitFor()
    await page.getByRole('button', { name: 'Share records…' }).click()
    const dialog = page.getByRole('dialog', { name: 'Share records' })
    await dialog.waitFor()
    // Focus moved into the dialog (its first field).
    await expect(page.evaluate(() => document.activeElement?.id ?? '')).resolves.not.toBe('')
    await dialog.getByLabel('Grantee account address').fill(medicAddress)
    await dialog.getByLabel('All my records (also future ones)').check()
    await dialog.getByLabel('1 day').check()
    await expect(dialog.getByLabel('Allow downloading the files').isChecked()).resolves.toBe(false)
    await dialogShot(page, 'patient-grant-dialog')
    // Escape closes without granting; open it again.
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
    await page.getByRole('button', { name: 'Share records…' }).click()
    await dialog.getByLabel('Grantee account address').fill(medicAddress)
    await dialog.getByLabel('1 day').check()
    await dialog.getByRole('button', { name: 'Grant access' }).click()
    await settled(dialog, 60_000)
    await page
      .getByRole('status')
      .getByText(/Granted access to/)
      .waitFor()

    const row = page.getByRole('row').filter({ hasText: 'Demo Medic' })
    await row.waitFor()
    await expect(row.getByText('View only').count()).resolves.toBe(1)
    await expect(row.getByText(/23 h|1 d/).count()).resolves.toBe(1)

    const contract = medic.config.contract
    const access = await getAccess(medic.publicClient, {
      contract,
      grantee: medicAddress,
      recordId: ctRecord,
    })
    expect(access).toMatchObject({ allowed: true, download: false, deidentifiedOnly: false, basis: 'Grant' })
    const grant = await getGrant(medic.publicClient, {
      contract,
      patient: patientAddress,
      grantee: medicAddress,
    })
    const now = Math.floor(Date.now() / 1000)
    expect(grant.expiresAt).toBeGreaterThan(now + 86_400 - 600)
    expect(grant.expiresAt).toBeLessThan(now + 86_400 + 600)
    // The medic really opens the record (keys came in the bundle the browser made).
    const opened = await openRecord(medic, { recordId: reportRecord })
    expect(opened.manifest.description).toBe('Blood panel')
    closeRecord(opened)

    await both(async (p, name) => {
      if (name === 'phone') {
        await visit(p, 'Sharing')
        await p.getByRole('button', { name: 'Share records…' }).click()
        await p.getByRole('dialog', { name: 'Share records' }).getByLabel('Only records I choose').check()
        await dialogShot(p, 'patient-grant-dialog')
        await p.getByRole('button', { name: 'Cancel' }).click()
      }
      await p.getByRole('row').filter({ hasText: 'Demo Medic' }).waitFor()
      await screenshot(p, 'patient-sharing')
    })
  })

  it('revokes after a confirmation that says what cannot be recalled; the chain agrees', async () => {
    const page = pages.desktop.page
    await page.getByRole('button', { name: 'Revoke access for Demo Medic (dev)' }).click()
    const dialog = page.getByRole('dialog', { name: /Revoke access for Demo Medic/ })
    await dialog.waitFor()
    await dialog.getByText(/already downloaded or decrypted cannot be recalled/).waitFor()
    await dialog.getByText(/rotate the records’ keys/).waitFor()
    await dialog.getByRole('button', { name: 'Revoke access' }).click()
    await settled(dialog, 60_000)
    await page.getByText('You share your records with nobody').waitFor()
    const contract = medic.config.contract
    await expect(
      canAccess(medic.publicClient, { contract, grantee: medicAddress, recordId: ctRecord }),
    ).resolves.toBe(false)
    await expect(openRecord(medic, { recordId: ctRecord })).rejects.toThrow(/No access/)
  })

  it('denies one request and approves another de-identified only: the requestor gets a copy without PHI', async () => {
    await both(async (page) => {
      await visit(page, 'Requests')
      await page.getByRole('heading', { name: `Request from Demo Medic (dev) #${medicRequest}` }).waitFor()
      await page
        .getByRole('heading', { name: `Request from Demo Requestor (dev) #${requestorRequest}` })
        .waitFor()
      await screenshot(page, 'patient-requests')
    })
    const page = pages.desktop.page
    await page.getByRole('button', { name: 'Deny request from Demo Medic (dev)…' }).click()
    const deny = page.getByRole('dialog', { name: `Deny request #${medicRequest}?` })
    await deny.getByRole('button', { name: 'Deny request' }).click()
    await settled(deny, 60_000)
    await page.getByRole('status').getByText(`Denied request #${medicRequest}.`).waitFor()
    const contract = medic.config.contract
    await expect(getRequest(medic.publicClient, { contract, id: medicRequest })).resolves.toMatchObject({
      status: 'Denied',
    })

    await page.getByRole('button', { name: 'Approve request from Demo Requestor (dev)…' }).click()
    const approve = page.getByRole('dialog', { name: `Approve request #${requestorRequest}` })
    await approve.getByLabel('7 days').check()
    await approve.getByRole('button', { name: 'Approve de-identified only' }).click()
    await settled(approve, 120_000)
    await page
      .getByRole('status')
      .getByText(/1 de-identified copy made/)
      .waitFor()
    await page.getByRole('row').filter({ hasText: 'Demo Requestor' }).getByText('Approved').waitFor()

    const grant = await getGrant(medic.publicClient, {
      contract,
      patient: patientAddress,
      grantee: requestorAddress,
    })
    expect(grant.flags & 2).toBe(2)
    const seen = await listRecords(requestor, { patient: patientAddress })
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ kind: 'CT', deidentifiedFrom: ctRecord, audience: requestorAddress })
    const copy = await openRecord(requestor, { recordId: seen[0]!.id })
    try {
      expect(copy.manifest.patient.name).toBeUndefined()
      expect(copy.manifest.description).toBeUndefined()
      expect(copy.manifest.appointment).toBeUndefined()
      expect(JSON.stringify(copy.manifest.study)).not.toContain('QZXPORTAL')
    } finally {
      closeRecord(copy)
    }
    // The original stays closed to the requestor.
    await expect(openRecord(requestor, { recordId: ctRecord })).rejects.toThrow(/de-identified/)

    // The patient's list shows the copy, marked, for whom.
    await visit(page, 'My records')
    await page.getByText('De-identified copy for').waitFor({ timeout: 60_000 })
  })

  it('sharing de-identified only makes the copies there and then; the grantee gets no original', async () => {
    // A second requestor, registered and approved with core, who has asked for nothing.
    const researcher = await testNode.newIdentity()
    const client = await testNode.clientFor(researcher)
    const unit = await testNode.clientFor(testNode.dev.unit!)
    await registerParticipant(client.walletClient, {
      contract: client.config.contract,
      unit: unit.account.address,
      role: 'Requestor',
      encryptionKey: toHex(researcher.encryptionKeyPair.publicKey),
    })
    await approveParticipant(unit.walletClient, {
      contract: client.config.contract,
      account: researcher.account.address,
    })
    const page = pages.desktop.page
    await visit(page, 'Sharing')
    await page.getByRole('button', { name: 'Share records…' }).click()
    const share = page.getByRole('dialog', { name: 'Share records' })
    await share.getByLabel('Grantee account address').fill(researcher.account.address)
    await share.getByLabel('Some kinds of records (also future ones)').check()
    await share.getByLabel('CT', { exact: true }).check()
    await share.getByLabel('7 days', { exact: true }).check()
    await share.getByLabel('De-identified copies only').check()
    await share.getByRole('button', { name: 'Grant access' }).click()
    await settled(share, 120_000)
    await page
      .getByRole('status')
      .getByText(/1 de-identified copy made/)
      .waitFor()
    const seen = await listRecords(client, { patient: patientAddress })
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({
      kind: 'CT',
      deidentifiedFrom: ctRecord,
      audience: researcher.account.address,
    })
    await expect(openRecord(client, { recordId: ctRecord })).rejects.toThrow()
  })

  it('rotates a record’s key in the browser: the record gets a new id and still opens', async () => {
    const page = pages.desktop.page
    await visit(page, 'Sharing')
    await page
      .getByLabel('Record', { exact: true })
      .selectOption({ label: '2024-03-02 · Report · Blood panel' })
    await page.getByRole('button', { name: 'Rotate key…' }).click()
    const dialog = page.getByRole('dialog', { name: 'Rotate this record’s key?' })
    await dialog.getByText(/cannot be recalled/).waitFor()
    await dialog.getByRole('button', { name: 'Rotate key' }).click()
    await settled(dialog, 60_000)
    await page
      .getByRole('status')
      .getByText(/Rotated the key of “Blood panel”/)
      .waitFor()
    const patient = await testNode.clientFor(testNode.dev.patient!)
    const mine = await listRecords(patient, { withDetails: true })
    const panel = mine.find((r) => r.details?.description === 'Blood panel')
    expect(panel?.id).toBeDefined()
    expect(panel?.id).not.toBe(reportRecord)
    expect(mine.some((r) => r.id === reportRecord)).toBe(false)
  })

  it('an emergency access shows as a banner on every page and in the emergency list', async () => {
    const contract = medic.config.contract
    await declareEmergency(medic.walletClient, {
      contract,
      patient: patientAddress,
      reasonCode: 2,
      durationSeconds: 2 * 3600,
    })
    await both(async (page) => {
      await visit(page, 'Emergency access')
      const row = page.getByRole('row').filter({ hasText: 'Demo Medic' })
      await row.getByText('Active').waitFor({ timeout: 30_000 })
      await row.getByText('Trauma').waitFor()
      const banner = page.getByRole('alert').filter({ hasText: 'Emergency access to your records is active' })
      await banner.waitFor()
      await expect(banner.textContent()).resolves.toMatch(/Demo Medic.*Reason: Trauma/)
      await screenshot(page, 'patient-emergencies')
    })
    // The banner stays on the other pages, and its link leads back without a page load.
    const page = pages.desktop.page
    await visit(page, 'My records')
    const banner = page.getByRole('alert').filter({ hasText: 'Emergency access to your records is active' })
    await banner.waitFor()
    await banner.getByRole('link', { name: 'Review emergency access' }).click()
    await page.getByRole('heading', { name: 'Emergency access', level: 1 }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/emergencies')
    await page.getByRole('button', { name: 'Sign out' }).waitFor()
  })

  it('the access log lists the accesses and verifies them against the anchored root', async () => {
    const unit = await testNode.clientFor(testNode.dev.unit!)
    const anchored = await unit.node.json<{ anchor: { size: number } | null }>('POST', '/api/v1/audit/anchor')
    expect(anchored.anchor?.size ?? 0).toBeGreaterThan(0)
    await both(async (page) => {
      await visit(page, 'Access log')
      await page.getByRole('heading', { name: /Verified against the chain/ }).waitFor({ timeout: 60_000 })
      // What others did, for the picture (the patient's own reads fill most of the log).
      await page.getByLabel('Hide my own actions').check()
      await page.getByRole('table').getByText('Demo Medic').first().waitFor()
      await screenshot(page, 'patient-audit')
      await page.getByLabel('Hide my own actions').uncheck()
    })
    const page = pages.desktop.page
    const table = page.getByRole('table')
    for (const action of [
      'Grant given or changed',
      'Grant revoked',
      'Request denied',
      'Emergency access declared',
    ]) {
      await page.getByLabel('Action', { exact: true }).selectOption({ label: action })
      await expect(table.locator('tbody tr').count(), action).resolves.toBeGreaterThan(0)
      await expect(table.locator('tbody tr').filter({ hasNotText: action }).count()).resolves.toBe(0)
    }
    await page.getByLabel('Action', { exact: true }).selectOption('')
    await expect(page.getByText('Verified', { exact: true }).count()).resolves.toBeGreaterThan(0)
    // The medic's read of the report while the grant lasted is there, by the medic.
    await page.getByLabel('Action', { exact: true }).selectOption({ label: 'Received record keys' })
    await expect(table.getByText('Demo Medic').count()).resolves.toBeGreaterThan(0)
    await page.getByLabel('Action', { exact: true }).selectOption('')
    await page.getByLabel('Record', { exact: true }).selectOption({ label: 'Chest CT' })
    const rows = await table.locator('tbody tr').count()
    expect(rows).toBeGreaterThan(0)
    await expect(table.locator('tbody tr').filter({ hasNotText: 'Chest CT' }).count()).resolves.toBe(0)
  })
})
