import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { getAccess, listRecords } from '@pcmims/core'
import type { TestNode } from '@pcmims/test-utils'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DESKTOP,
  launchBrowser,
  newContext,
  SCREENSHOT_DIR,
  screenshot,
  signInAsDev,
  startPortalNode,
} from './browser.js'
import { freePort, type RecordingProxy, startRecordingProxy } from './recording-proxy.js'

/*
 * The whole story, in real Chromium against a real node, chain and IPFS, each person in their
 * own browser profile: the radiologist uploads a fixture study; the patient opens it, grants the medic
 * a day, view only; the medic opens it and cannot download; the patient revokes and the medic is
 * refused; a requestor asks, the patient approves de-identified only, the requestor opens a copy with
 * no PHI; the patient's access log shows all of it, verified against the chain. Every request any of
 * the browsers sends is kept and checked at the end: none carries decrypted content or PHI, and no page
 * address ever names a record, a person or an account.
 */

const FIXTURE = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'dicom', 'valid', 'CT_small.dcm')
/** What the fixture says about its (fictional) patient: it must never leave a browser in the clear. */
const PHI = ['CompressedSamples^CT1', 'CompressedSamples']
const DESCRIPTION = 'Journey chest CT'
const APPOINTMENT = 'APT-JOURNEY-7'

let testNode: TestNode
let browser: Browser
let base: string
let proxy: RecordingProxy
const contexts: BrowserContext[] = []
const pageAddresses: string[] = []
const people = new Map<string, Page>()

beforeAll(async () => {
  // The browsers reach the node only through a proxy that keeps every request body they send.
  const [port, nodePort] = [await freePort(), await freePort()]
  testNode = await startPortalNode({ port: nodePort, publicUrl: `http://127.0.0.1:${port}` })
  proxy = await startRecordingProxy(`http://127.0.0.1:${nodePort}`, port)
  base = proxy.url
  browser = await launchBrowser()
})

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined)
  await browser?.close()
  await proxy?.close()
  await testNode?.stop()
})

/** One person's browser: signed in with their development account, every request recorded. */
async function personAt(who: RegExp, label: string): Promise<Page> {
  const context = await newContext(browser, DESKTOP)
  contexts.push(context)
  const page = await context.newPage()
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) pageAddresses.push(frame.url())
  })
  page.on('pageerror', (error) => {
    throw new Error(`${label}'s page failed: ${error.message}`)
  })
  people.set(label, page)
  await signInAsDev(page, base, who)
  return page
}

/** On a failure, what each person's browser showed: the quickest way to see what went wrong. */
async function keepEvidence(): Promise<void> {
  for (const [label, page] of people) {
    await page
      .screenshot({ path: join(SCREENSHOT_DIR, `journey-failure-${label}.png`) })
      .catch(() => undefined)
  }
}

async function go(page: Page, section: string): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Sections' })
    .getByRole('link', { name: section, exact: true })
    .click()
  await page.getByRole('heading', { name: section, level: 1 }).waitFor()
}

/** Waits for a dialog to close by itself, failing at once with its error if it shows one. */
async function settled(dialog: Locator, timeout = 120_000): Promise<void> {
  const error = dialog.locator('.state-error')
  await Promise.race([
    dialog.waitFor({ state: 'detached', timeout }),
    error.waitFor({ timeout }).then(async () => {
      throw new Error(`The dialog shows an error: ${await error.textContent()}`)
    }),
  ])
}

/** Waits until the viewer has drawn its first image (the viewer's own performance mark). */
async function firstImageShown(page: Page): Promise<void> {
  await page.waitForFunction(() => performance.getEntriesByName('pcmims:first-image').length > 0, null, {
    timeout: 60_000,
  })
}

async function markCount(page: Page): Promise<number> {
  return page.evaluate(() => performance.getEntriesByName('pcmims:first-image').length)
}

describe('the whole story in the portal', () => {
  it('upload, view, grant, view-only read, revoke, de-identified copy, verified access log', async () => {
    try {
      await story()
    } catch (error) {
      await keepEvidence()
      throw error
    }
  }, 600_000)
})

async function story(): Promise<void> {
  {
    const patientAddress = testNode.dev.patient!.account.address
    const medicAddress = testNode.dev.medic!.account.address

    // 1. The radiologist uploads the fixture study for the patient.
    const radiologist = await personAt(/Demo Radiologist/, 'radiologist')
    await go(radiologist, 'Upload')
    await radiologist.getByLabel('Patient (account address)').fill(patientAddress)
    await radiologist.getByText('An approved patient.').waitFor({ timeout: 60_000 })
    await radiologist.getByLabel('Appointment or accession (optional)').fill(APPOINTMENT)
    await radiologist.getByLabel('Description (optional)').fill(DESCRIPTION)
    await radiologist.getByLabel('Choose files or a ZIP…').setInputFiles(FIXTURE)
    await radiologist.getByRole('heading', { name: 'One study found' }).waitFor()
    await radiologist.getByRole('button', { name: /^Upload 1 stud/ }).click()
    await radiologist.getByRole('heading', { name: 'Record made' }).waitFor({ timeout: 120_000 })
    const recordId = /0x[0-9a-f]{64}/.exec(
      (await radiologist.locator('main').textContent()) ?? '',
    )?.[0] as Hex
    expect(recordId).toBeDefined()
    await screenshot(radiologist, 'journey-1-upload-done')

    // 2. The patient finds it, opens it in the viewer, and grants the medic one day, view only.
    const patient = await personAt(/Demo Patient/, 'patient')
    const openButton = patient.getByRole('button', { name: `Open ${DESCRIPTION}` })
    await openButton.waitFor({ timeout: 60_000 })
    const listAddress = patient.url()
    await openButton.click()
    const patientViewer = patient.getByRole('dialog')
    await firstImageShown(patient)
    await patientViewer.getByRole('button', { name: 'Download image (DICOM)' }).waitFor()
    await screenshot(patient, 'journey-2-patient-viewer')
    // The browser's Back closes the viewer and stays on the page (the record was never in the address).
    await patient.goBack()
    await patientViewer.waitFor({ state: 'detached' })
    expect(patient.url()).toBe(listAddress)
    await patient.getByRole('heading', { name: 'My records', level: 1 }).waitFor()

    await go(patient, 'Sharing')
    await patient.getByRole('button', { name: 'Share records…' }).click()
    const share = patient.getByRole('dialog', { name: 'Share records' })
    await share.getByLabel('Grantee account address').fill(medicAddress)
    await share.getByLabel('All my records (also future ones)').check()
    await share.getByLabel('1 day', { exact: true }).check()
    expect(await share.getByLabel('Allow downloading the files').isChecked()).toBe(false)
    await share.getByRole('button', { name: 'Grant access' }).click()
    await settled(share)
    const grantRow = patient.getByRole('row').filter({ hasText: 'Demo Medic' })
    await grantRow.getByText('View only').waitFor()
    const medicClient = await testNode.clientFor(testNode.dev.medic!)
    const granted = await getAccess(medicClient.publicClient, {
      contract: medicClient.config.contract,
      grantee: medicAddress,
      recordId,
    })
    expect(granted).toMatchObject({ allowed: true, download: false })
    await screenshot(patient, 'journey-3-patient-granted')

    // 3. The medic opens it from their patient list: the image shows, downloads are not offered.
    const medic = await personAt(/Demo Medic/, 'medic')
    await medic.getByRole('button', { name: /^Open records of patient/ }).click()
    const medicOpen = medic.getByRole('button', { name: `Open ${DESCRIPTION}` })
    await medicOpen.click()
    const medicViewer = medic.getByRole('dialog')
    await firstImageShown(medic)
    await medicViewer.getByText('View only: the patient did not allow downloads.').waitFor()
    expect(await medicViewer.getByRole('button', { name: /^Download/ }).count()).toBe(0)
    await screenshot(medic, 'journey-4-medic-view-only')
    await medicViewer.getByRole('button', { name: 'Close' }).click()

    // 4. The patient revokes; the chain refuses the medic at once, and so does the medic's portal.
    await patient.getByRole('button', { name: /^Revoke access for Demo Medic/ }).click()
    const revoke = patient.getByRole('dialog', { name: /^Revoke access for Demo Medic/ })
    await revoke.getByText(/cannot be recalled/).waitFor()
    await revoke.getByRole('button', { name: 'Revoke access' }).click()
    await settled(revoke)
    await grantRow.waitFor({ state: 'detached', timeout: 30_000 })
    expect(
      await getAccess(medicClient.publicClient, {
        contract: medicClient.config.contract,
        grantee: medicAddress,
        recordId,
      }),
    ).toMatchObject({ allowed: false })
    expect(await markCount(medic)).toBe(1)
    await medicOpen.click()
    await medic.getByRole('alert').getByText('No access to this record').waitFor({ timeout: 60_000 })
    // Each opening starts its marks afresh: none now means no image was drawn.
    expect(await markCount(medic)).toBe(0)
    expect(await medic.getByRole('dialog').locator('canvas').count()).toBe(0)
    await screenshot(medic, 'journey-5-medic-refused')
    await medic.getByRole('dialog').getByRole('button', { name: 'Close' }).click()

    // 5. A requestor asks for research access.
    const requestor = await personAt(/Demo Requestor/, 'requestor')
    await requestor.getByLabel('Patient (account address)').fill(patientAddress)
    await requestor.getByText('An approved patient.').waitFor({ timeout: 60_000 })
    await requestor.getByLabel('Purpose').selectOption('Research')
    await requestor.getByLabel('All of the patient’s records').check()
    await requestor.getByRole('button', { name: 'Send request' }).click()
    await requestor
      .getByRole('status')
      .getByText(/Request #\d+ sent/)
      .waitFor({ timeout: 60_000 })

    // 6. The patient approves it, de-identified only: the browser makes the copy.
    await go(patient, 'Requests')
    await patient.getByRole('button', { name: /^Approve request from Demo Requestor/ }).click()
    const approve = patient.getByRole('dialog', { name: /^Approve request #\d+/ })
    await approve.getByLabel('7 days').check()
    await approve.getByRole('button', { name: 'Approve de-identified only' }).click()
    await settled(approve, 180_000)
    await patient
      .getByRole('status')
      .getByText(/1 de-identified copy made/)
      .waitFor({ timeout: 60_000 })
    await screenshot(patient, 'journey-6-patient-approved-deidentified')

    // 7. The requestor opens the copy: an image, and nothing that names the patient.
    await go(requestor, 'Copies received')
    const copyOpen = requestor.getByRole('button', { name: /^Open De-identified/ }).first()
    await copyOpen.waitFor({ timeout: 60_000 })
    await copyOpen.click()
    const copyViewer = requestor.getByRole('dialog')
    await firstImageShown(requestor)
    const details = copyViewer.getByRole('button', { name: 'Show details' })
    if (await details.count()) await details.click()
    await copyViewer.getByRole('complementary', { name: 'Image details' }).waitFor()
    const shown = (await copyViewer.textContent()) ?? ''
    for (const phi of [...PHI, DESCRIPTION, APPOINTMENT]) expect(shown).not.toContain(phi)
    await screenshot(requestor, 'journey-7-requestor-copy')
    // The original stays out of the requestor's reach.
    const requestorClient = await testNode.clientFor(testNode.dev.requestor!)
    const seen = await listRecords(requestorClient, { patient: patientAddress })
    expect(seen.map((r) => r.id)).not.toContain(recordId)
    expect(seen.some((r) => r.deidentifiedFrom === recordId)).toBe(true)

    // 8. The unit anchors its log; the patient's access log shows the story, verified against the chain.
    const unit = await testNode.clientFor(testNode.dev.unit!)
    await unit.node.json('POST', '/api/v1/audit/anchor')
    await go(patient, 'Access log')
    await patient.getByRole('heading', { name: /Verified against the chain/ }).waitFor({ timeout: 60_000 })
    const table = patient.getByRole('table')
    const action = patient.getByLabel('Action', { exact: true })
    const expectations: Array<[string, string]> = [
      ['Record stored and anchored', 'Demo Radiologist'],
      ['Grant given or changed', 'Demo Patient'],
      ['Received record keys', 'Demo Medic'],
      ['Grant revoked', 'Demo Patient'],
      ['Asked for access', 'Demo Requestor'],
      ['Request approved', 'Demo Patient'],
    ]
    for (const [label, who] of expectations) {
      await action.selectOption({ label })
      await table.getByText(who).first().waitFor({ timeout: 10_000 })
    }
    await action.selectOption('')
    await patient.getByLabel('Hide my own actions').check()
    await table.getByText('Demo Requestor').first().waitFor()
    await screenshot(patient, 'journey-8-access-log-verified')

    // Nothing decrypted or identifying left any browser, and no page address names a record or person.
    const bodies = proxy.requests.filter((r) => r.body.length > 0)
    expect(bodies.length).toBeGreaterThan(10)
    for (const { method, path, body } of bodies) {
      const text = body.toString('latin1')
      expect(text.includes('DICM'), `${method} ${path} carries a DICOM file in the clear`).toBe(false)
      for (const phi of [...PHI, DESCRIPTION, APPOINTMENT]) {
        expect(text.includes(phi), `${method} ${path} carries "${phi}"`).toBe(false)
      }
    }
    // The study itself went up, encrypted: ciphertext at least as big as the file, none of its bytes.
    const fixtureBytes = await readFile(FIXTURE)
    const uploads = bodies.filter((r) => /^\/api\/v1\/(blobs|uploads)/.test(r.path))
    expect(uploads.some((r) => r.body.length >= fixtureBytes.length)).toBe(true)
    const pixels = fixtureBytes.subarray(fixtureBytes.length - 256)
    for (const upload of uploads) expect(upload.body.includes(pixels)).toBe(false)
    for (const address of pageAddresses) {
      expect(new URL(address).pathname, address).toMatch(/^\/[a-z-]*$/)
      expect(new URL(address).search).toBe('')
    }
  }
}
