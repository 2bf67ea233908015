import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  approveParticipant,
  createDeidentifiedCopy,
  createGrant,
  createNodeClient,
  getChainTime,
  getParticipant,
  listHeldStudies,
  listRecords,
  type PcmimsClient,
  registerParticipant,
  respondToRequest,
  uploadDicomStudies,
} from '@pcmims/core'
import {
  stowBody,
  synthesizeStudy,
  type TestIdentity,
  type TestNode,
  writeSynthesizedStudy,
} from '@pcmims/test-utils'
import { zipSync } from 'fflate'
import type { Browser, Page } from 'playwright-core'
import { type Hex, toHex } from 'viem'
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

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'dicom')

let testNode: TestNode
let browser: Browser
let base: string
let work: string
let patient: PcmimsClient
let patientAddress: `0x${string}`

beforeAll(async () => {
  testNode = await startPortalNode({
    ingest: { quietPeriodMs: 300, maxInstanceBytes: 64 * 1024 ** 2, maxStowBytes: 256 * 1024 ** 2 },
  })
  base = testNode.node.url
  browser = await launchBrowser()
  work = await mkdtemp(join(tmpdir(), 'pcmims-staff-'))
  patient = await testNode.clientFor(testNode.dev.patient!)
  patientAddress = testNode.dev.patient!.account.address
}, 240_000)

afterAll(async () => {
  await browser?.close()
  await testNode?.stop()
  if (work) await rm(work, { recursive: true, force: true })
})

const nav = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true }).click()

/** Signs in at phone width, opens a section, lets `prepare` set the screen up, and saves the screenshot. */
async function phoneShot(
  who: RegExp,
  section: string,
  name: string,
  prepare?: (page: Page) => Promise<void>,
): Promise<void> {
  const context = await newContext(browser, PHONE)
  const page = await context.newPage()
  await signInAsDev(page, base, who)
  await nav(page, section)
  await page.getByRole('heading', { name: section, level: 1 }).waitFor()
  if (prepare) await prepare(page)
  await screenshot(page, name)
  // Nothing wider than the phone: the page does not scroll sideways.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  expect(overflow, `${name} at phone width scrolls sideways`).toBeLessThanOrEqual(0)
  await context.close()
}

async function enrol(who: TestIdentity, role: 'Patient' | 'Uploader' | 'Medic' | 'Requestor') {
  const client = await testNode.clientFor(who)
  await registerParticipant(client.walletClient, {
    contract: client.config.contract,
    unit: testNode.dev.unit!.account.address,
    role,
    encryptionKey: toHex(who.encryptionKeyPair.publicKey),
  })
  const unit = await testNode.clientFor(testNode.dev.unit!)
  await approveParticipant(unit.walletClient, {
    contract: client.config.contract,
    account: who.account.address,
  })
}

describe('unit admin: registrations', () => {
  it('a new account registers as a patient in the page; the unit approves it; the account sees it after Check again', async () => {
    const context = await newContext(browser, DESKTOP)
    const page = await context.newPage()
    await page.goto(base)
    const card = page.locator('form', { has: page.getByRole('heading', { name: 'Create an account' }) })
    await card.getByLabel('Passphrase', { exact: true }).fill('a long enough passphrase')
    await card.getByLabel('Passphrase again').fill('a long enough passphrase')
    await card.getByRole('button', { name: 'Create account' }).click()
    const backup = page.getByRole('button', { name: 'Download keystore backup' })
    await backup.waitFor({ timeout: 120_000 })
    const address = (await page
      .locator('section', { has: page.getByRole('heading', { name: 'Your new account' }) })
      .locator('code')
      .first()
      .getAttribute('title')) as `0x${string}`
    expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/)
    const download = page.waitForEvent('download')
    await backup.click()
    expect(JSON.parse(await readFile((await (await download).path())!, 'utf8'))).toHaveProperty('crypto')
    await page.getByRole('button', { name: 'Continue to registration' }).click()
    await page.getByRole('heading', { name: 'Register with a health unit' }).waitFor({ timeout: 60_000 })
    await page.getByRole('radio', { name: /Patient/ }).check()
    await page.getByRole('button', { name: 'Request registration' }).click()
    await page.getByRole('heading', { name: /Registration: pending/ }).waitFor({ timeout: 60_000 })

    // The unit admin sees it waiting, with its role, and approves it.
    const admin = await (await newContext(browser, DESKTOP)).newPage()
    await signInAsDev(admin, base, /Demo Health Unit/)
    await admin.getByRole('heading', { name: 'Registrations', level: 1 }).waitFor()
    const row = admin.getByRole('row', { name: new RegExp(address) })
    await row.waitFor()
    await expect(row.getByRole('cell', { name: 'Patient' }).isVisible()).resolves.toBe(true)
    await screenshot(admin, 'unit-registrations')
    await phoneShot(/Demo Health Unit/, 'Registrations', 'unit-registrations', async (p) => {
      await p.getByRole('row', { name: new RegExp(address) }).waitFor()
    })
    await admin.getByRole('button', { name: `Approve ${address}` }).click()
    await admin
      .getByRole('status')
      .getByText(/approved/)
      .waitFor({ timeout: 60_000 })
    // The list reloads after the approval: the row goes.
    await admin
      .getByRole('row', { name: new RegExp(address) })
      .waitFor({ state: 'detached', timeout: 30_000 })
    const unit = await testNode.clientFor(testNode.dev.unit!)
    expect(
      await getParticipant(unit.publicClient, { contract: unit.config.contract, account: address }),
    ).toMatchObject({ role: 'Patient', status: 'Approved' })

    // The new account learns it on "Check again": its patient pages open.
    await page.getByRole('button', { name: 'Check again' }).click()
    await page.getByRole('heading', { name: 'My records', level: 1 }).waitFor({ timeout: 60_000 })
    await context.close()
    await admin.context().close()
  }, 300_000)

  it('the unit admin suspends a staff member after confirming', async () => {
    const medic = await testNode.newIdentity()
    await enrol(medic, 'Medic')
    const address = medic.account.address
    const context = await newContext(browser, DESKTOP)
    const page = await context.newPage()
    await signInAsDev(page, base, /Demo Health Unit/)
    await nav(page, 'Staff and members')
    await page.getByRole('heading', { name: 'Medics' }).waitFor()
    await screenshot(page, 'unit-staff')
    await phoneShot(/Demo Health Unit/, 'Staff and members', 'unit-staff', async (p) => {
      await p.getByRole('heading', { name: 'Medics' }).waitFor()
    })
    await page.getByRole('button', { name: `Suspend ${address}` }).click()
    const dialog = page.getByRole('alertdialog', { name: 'Suspend this account?' })
    await dialog.waitFor()
    // Escape cancels: nothing changes.
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
    await page.getByRole('button', { name: `Suspend ${address}` }).click()
    await dialog.getByRole('button', { name: 'Suspend account' }).click()
    await page
      .getByRole('status')
      .getByText(/suspended/)
      .waitFor({ timeout: 60_000 })
    await page.getByRole('button', { name: `Reinstate ${address}` }).waitFor()
    const unit = await testNode.clientFor(testNode.dev.unit!)
    expect(
      await getParticipant(unit.publicClient, { contract: unit.config.contract, account: address }),
    ).toMatchObject({ status: 'Suspended' })
    await context.close()
  }, 240_000)
})

describe('radiologist / lab upload', () => {
  it('uploads a study folder and a ZIP through the page; shows record id, transaction and gas; the node lists the records', async () => {
    const folder = join(work, 'ct-study')
    await writeSynthesizedStudy({
      directory: folder,
      kind: 'CT',
      count: 3,
      rows: 32,
      columns: 32,
      seed: 'portal-upload-ct',
      patient: { name: 'Quixote^Alonso', id: 'MRN-PORTAL-1' },
      study: { description: 'Head CT', accessionNumber: 'ACC-PORTAL-1' },
    })
    const mr = synthesizeStudy({
      kind: 'MR',
      count: 2,
      rows: 32,
      columns: 32,
      seed: 'portal-upload-mr',
      patient: { name: 'Quixote^Alonso', id: 'MRN-PORTAL-1' },
      study: { description: 'Knee MR' },
    })
    const zipPath = join(work, 'knee-mr.zip')
    await writeFile(
      zipPath,
      zipSync(Object.fromEntries(mr.instances.map((i) => [`export/${i.fileName}`, i.bytes]))),
    )

    const before = (await listRecords(patient)).map((r) => r.id)
    const context = await newContext(browser, DESKTOP)
    const page = await context.newPage()
    await signInAsDev(page, base, /Demo Radiologist/)
    await page.getByRole('heading', { name: 'Upload', level: 1 }).waitFor()
    await page.getByLabel('Patient (account address)').fill(patientAddress)
    await page.getByText('An approved patient.').waitFor()
    await page.getByLabel('Choose a folder…').setInputFiles(folder)
    await page.getByRole('heading', { name: 'One study found' }).waitFor({ timeout: 60_000 })
    await page.getByLabel('Choose files or a ZIP…').setInputFiles(zipPath)
    await page.getByRole('heading', { name: '2 studies found' }).waitFor({ timeout: 60_000 })
    await expect(page.getByText('Head CT').first().isVisible()).resolves.toBe(true)
    await expect(page.getByText('Knee MR').first().isVisible()).resolves.toBe(true)
    await page.getByLabel('Appointment or accession (optional)').fill('APPT-77')
    await screenshot(page, 'upload-before')
    await page.getByRole('button', { name: 'Upload 2 studies' }).click()
    await page.getByRole('heading', { name: '2 records made' }).waitFor({ timeout: 180_000 })
    await page.getByRole('button', { name: 'Upload more' }).waitFor()
    const results = page.locator('.result-list > li')
    await expect(results.count()).resolves.toBe(2)
    const made: Hex[] = []
    for (const item of await results.all()) {
      const text = await item.innerText()
      const recordId = /Record id\s+(0x[0-9a-f]{64})/i.exec(text)?.[1] as Hex | undefined
      expect(recordId, text).toBeDefined()
      expect(text).toMatch(/Transaction\s+0x[0-9a-f]{64}/i)
      expect(text).toMatch(/Gas used\s+[\d,.\s ]+/)
      expect(text).toContain('Anchored')
      made.push(recordId!)
    }
    // Overall progress reached the end.
    const overall = page.getByLabel(/^Overall:/)
    expect(await overall.evaluate((e: HTMLProgressElement) => e.value === e.max)).toBe(true)
    await screenshot(page, 'upload-after')

    // The node, asked as the patient, lists exactly these new records, a CT and an MRI.
    const after = await listRecords(patient, { withDetails: true })
    const fresh = after.filter((r) => !before.includes(r.id))
    expect(fresh.map((r) => r.id).sort()).toEqual([...made].sort())
    expect(fresh.map((r) => r.kind).sort()).toEqual(['CT', 'MRI'])
    expect(fresh.every((r) => r.details?.appointment === 'APPT-77')).toBe(true)
    await context.close()

    await phoneShot(/Demo Radiologist/, 'Upload', 'upload-before', async (p) => {
      await p.getByLabel('Patient (account address)').fill(patientAddress)
      await p.getByLabel('Choose a folder…').setInputFiles(folder)
      await p.getByRole('heading', { name: 'One study found' }).waitFor({ timeout: 60_000 })
    })
    await phoneShot(/Demo Radiologist/, 'Upload', 'upload-after', async (p) => {
      await p.getByLabel('Patient (account address)').fill(patientAddress)
      await p.getByText('An approved patient.').waitFor()
      await p.getByLabel('Choose files or a ZIP…').setInputFiles(zipPath)
      await p.getByRole('button', { name: 'Upload 1 study' }).click()
      await p.getByRole('heading', { name: 'Record made' }).waitFor({ timeout: 120_000 })
    })
  }, 300_000)

  it('names a malformed file clearly and uploads nothing while it is chosen', async () => {
    const before = (await listRecords(patient)).length
    const context = await newContext(browser, DESKTOP)
    const page = await context.newPage()
    await signInAsDev(page, base, /Demo Radiologist/)
    await page.getByLabel('Patient (account address)').fill(patientAddress)
    await page.getByText('An approved patient.').waitFor()
    await page
      .getByLabel('Choose files or a ZIP…')
      .setInputFiles([
        join(FIXTURES, 'valid', 'CT_small.dcm'),
        join(FIXTURES, 'malformed', 'rtplan_truncated.dcm'),
      ])
    const alert = page.getByRole('alert').filter({ hasText: 'cannot be read' })
    await alert.waitFor({ timeout: 60_000 })
    await expect(alert.getByText('rtplan_truncated.dcm').isVisible()).resolves.toBe(true)
    await expect(alert.innerText()).resolves.not.toContain('CT_small.dcm')
    const upload = page.getByRole('button', { name: /^Upload/ })
    await expect(upload.isDisabled()).resolves.toBe(true)
    await screenshot(page, 'upload-malformed')
    expect((await listRecords(patient)).length).toBe(before)
    // Leaving it out is an explicit choice; then the sound file alone is offered.
    await alert.getByRole('button', { name: 'Leave these files out' }).click()
    await page.getByRole('button', { name: 'Upload 1 study' }).waitFor()
    await context.close()
  }, 180_000)
})

const observation = (id: string, name: string, value: number, low: number, high: number, flag?: string) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: id, display: name }] },
  effectiveDateTime: '2026-03-02T08:30:00Z',
  valueQuantity: { value, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
  referenceRange: [{ low: { value: low, unit: 'mmol/L' }, high: { value: high, unit: 'mmol/L' } }],
  ...(flag
    ? {
        interpretation: [
          {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: flag },
            ],
          },
        ],
      }
    : {}),
})

describe('lab reports', () => {
  it('uploads a FHIR lab report as a REPORT record; a file that is no report is named and blocks the upload', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          resource: {
            resourceType: 'DiagnosticReport',
            id: 'lipids',
            status: 'final',
            code: { text: 'Lipid panel' },
            effectiveDateTime: '2026-03-02',
            result: [{ reference: 'Observation/ldl' }, { reference: 'Observation/trig' }],
          },
        },
        { resource: observation('ldl', 'LDL cholesterol', 4.2, 0, 3.0, 'H') },
        { resource: observation('trig', 'Triglycerides', 1.2, 0.4, 1.7) },
      ],
    }
    const report = join(work, 'lab-export.json')
    const notReport = join(work, 'notes.json')
    await writeFile(report, JSON.stringify(bundle))
    await writeFile(notReport, JSON.stringify({ resourceType: 'Patient' }))
    const before = (await listRecords(patient, { kind: 'REPORT' })).map((r) => r.id)
    const context = await newContext(browser, DESKTOP)
    const page = await context.newPage()
    await signInAsDev(page, base, /Demo Radiologist/)
    await page.getByLabel('Patient (account address)').fill(patientAddress)
    await page.getByText('An approved patient.').waitFor()
    await page.getByRole('radio', { name: /Reports/ }).check()
    await page.getByLabel('Choose report files…').setInputFiles([report, notReport])
    const alert = page.getByRole('alert').filter({ hasText: 'cannot be read' })
    await alert.getByText('notes.json').waitFor({ timeout: 60_000 })
    await expect(page.getByRole('button', { name: /^Upload/ }).isDisabled()).resolves.toBe(true)
    const row = page.getByRole('row', { name: /Lipid panel/ })
    await expect(row.innerText()).resolves.toMatch(/2, 1 out of range/)
    await alert.getByRole('button', { name: 'Leave these files out' }).click()
    await page.getByRole('button', { name: 'Upload 1 report' }).click()
    await page.getByRole('heading', { name: 'Record made' }).waitFor({ timeout: 120_000 })
    const made = /Record id\s+(0x[0-9a-f]{64})/i.exec(await page.locator('.result-list').innerText())?.[1]
    const after = await listRecords(patient, { kind: 'REPORT', withDetails: true })
    const fresh = after.filter((r) => !before.includes(r.id))
    expect(fresh.map((r) => r.id)).toEqual([made])
    expect(fresh[0]?.details?.description).toBe('Lipid panel')
    await context.close()
  }, 180_000)
})

describe('medic', () => {
  it('requests access and sees it pending; declares an emergency after reading its consequences', async () => {
    const context = await newContext(browser, DESKTOP)
    const page = await context.newPage()
    await signInAsDev(page, base, /Demo Medic/)
    await nav(page, 'Request access')
    await page.getByLabel('Patient (account address)').fill(patientAddress)
    await page.getByText('An approved patient.').waitFor()
    await page.getByLabel('Purpose').selectOption('Treatment')
    await page.getByRole('radio', { name: 'Only some kinds' }).check()
    await page.getByRole('checkbox', { name: 'CT' }).check()
    await page.getByRole('checkbox', { name: 'Reports' }).check()
    await page.getByRole('button', { name: 'Send request' }).click()
    await page
      .getByRole('status')
      .getByText(/Request #\d+ sent/)
      .waitFor({ timeout: 60_000 })
    const row = page.getByRole('row', { name: /Treatment/ })
    await row.waitFor()
    await expect(row.getByText('Pending').isVisible()).resolves.toBe(true)
    await expect(row.getByText('CT, Reports').isVisible()).resolves.toBe(true)
    await screenshot(page, 'request-access')
    const requests = await patient.node.json<{ requests: Array<{ requestor: string; status: string }> }>(
      'GET',
      '/api/v1/requests',
    )
    expect(
      requests.requests.some(
        (r) => r.requestor === testNode.dev.medic!.account.address && r.status === 'Pending',
      ),
    ).toBe(true)
    await phoneShot(/Demo Medic/, 'Request access', 'request-access', async (p) => {
      await p.getByRole('row', { name: /Treatment/ }).waitFor()
    })

    // Emergency: the consequences come first, in a confirmation.
    await nav(page, 'Emergency access')
    await page.getByLabel('Patient (account address)').fill(patientAddress)
    await page.getByText('An approved patient.').waitFor()
    await expect(page.getByRole('button', { name: 'Review consequences…' }).isDisabled()).resolves.toBe(true)
    await page.getByLabel('Reason').selectOption({ label: 'Trauma' })
    await page.getByRole('button', { name: 'Review consequences…' }).click()
    const confirm = page.getByRole('alertdialog', { name: 'Before you declare an emergency' })
    await confirm.waitFor()
    await expect(confirm.innerText()).resolves.toMatch(/alerted at once/)
    await expect(confirm.innerText()).resolves.toMatch(/logged/)
    await expect(confirm.innerText()).resolves.toMatch(/at most 4 hours/)
    await expect(confirm.innerText()).resolves.toMatch(/answerable to your health unit/)
    await screenshot(page, 'medic-emergency-confirm')
    await phoneShot(/Demo Medic/, 'Emergency access', 'medic-emergency-confirm', async (p) => {
      await p.getByLabel('Patient (account address)').fill(patientAddress)
      await p.getByText('An approved patient.').waitFor()
      await p.getByLabel('Reason').selectOption({ label: 'Stroke' })
      await p.getByRole('button', { name: 'Review consequences…' }).click()
      await p.getByRole('alertdialog').waitFor()
    })
    await confirm.getByRole('button', { name: 'Declare emergency access' }).click()
    await page
      .getByRole('status')
      .getByText(/Emergency access to patient/)
      .waitFor({ timeout: 60_000 })
    await page
      .getByRole('row', { name: /Trauma/ })
      .getByText('Active')
      .waitFor()
    const emergencies = await patient.node.json<{
      emergencies: Array<{ medic: string; active: boolean; reasonCode: number }>
    }>('GET', '/api/v1/emergencies')
    expect(emergencies.emergencies).toContainEqual(
      expect.objectContaining({ medic: testNode.dev.medic!.account.address, active: true, reasonCode: 2 }),
    )
    // A second declaration while one is active is refused before the confirmation, not by a reverted transaction.
    await page.getByLabel('Patient (account address)').fill(patientAddress)
    await page.getByText('An approved patient.').waitFor()
    await page.getByLabel('Reason').selectOption({ label: 'Stroke' })
    await page.getByRole('button', { name: 'Review consequences…' }).click()
    await page
      .getByRole('alert')
      .getByText(/already have emergency access/)
      .waitFor()
    await expect(page.getByRole('alertdialog').count()).resolves.toBe(0)

    // My patients: the emergency, and a patient who granted access (seeded), each opening their records.
    const other = await testNode.newIdentity()
    await enrol(other, 'Patient')
    const otherClient = await testNode.clientFor(other)
    await createGrant(otherClient, {
      grantee: testNode.dev.medic!.account.address,
      expiresAt: (await getChainTime(otherClient.publicClient)) + 86_400,
      download: false,
    })
    await nav(page, 'My patients')
    await page.getByRole('row', { name: /Emergency access/ }).waitFor()
    const granted = page.getByRole('row', { name: /View only/ })
    await granted.waitFor()
    await expect(granted.innerText()).resolves.toMatch(/23 h|1 d/)
    await screenshot(page, 'medic-patients')
    await phoneShot(/Demo Medic/, 'My patients', 'medic-patients', async (p) => {
      await p.getByRole('row', { name: /View only/ }).waitFor()
    })
    await granted.getByRole('button', { name: /Open records/ }).click()
    await page.getByRole('heading', { name: /Records of patient/ }).waitFor()
    await expect(page.getByText('View only: downloads are not allowed.').isVisible()).resolves.toBe(true)
    await context.close()
  }, 300_000)
})

describe('requestor', () => {
  it('asks for access; once the patient approves de-identified copies, finds the copy in Copies received', async () => {
    // A study of the patient to copy.
    const uploader = await testNode.clientFor(testNode.dev.uploader!)
    const study = synthesizeStudy({
      kind: 'CT',
      count: 2,
      rows: 32,
      columns: 32,
      seed: 'portal-requestor',
      patient: { name: 'Panza^Sancho', id: 'MRN-REQ-1' },
    })
    const [source] = await uploadDicomStudies(uploader, {
      patient: patientAddress,
      files: study.instances.map((i) => ({
        path: i.fileName,
        mediaType: 'application/dicom',
        size: i.bytes.length,
        async *open() {
          yield i.bytes
        },
      })),
    })

    const context = await newContext(browser, DESKTOP)
    const page = await context.newPage()
    await signInAsDev(page, base, /Demo Requestor/)
    await page.getByRole('heading', { name: 'My requests', level: 1 }).waitFor()
    await page.getByLabel('Patient (account address)').fill(patientAddress)
    await page.getByText('An approved patient.').waitFor()
    await page.getByLabel('Purpose').selectOption('Research')
    await page.getByRole('button', { name: 'Send request' }).click()
    const sent = await page
      .getByRole('status')
      .getByText(/Request #\d+ sent/)
      .textContent({ timeout: 60_000 })
    const requestId = BigInt(/#(\d+)/.exec(sent ?? '')![1]!)
    await page
      .getByRole('row', { name: /Research/ })
      .getByText('Pending')
      .waitFor()

    // The patient approves for de-identified copies only and makes one (node-side, as the patient's browser would).
    await respondToRequest(patient, {
      requestId,
      approve: true,
      expiresAt: (await getChainTime(patient.publicClient)) + 86_400,
      download: false,
      deidentifiedOnly: true,
    })
    const copy = await createDeidentifiedCopy(patient, {
      recordId: source!.recordId,
      audience: testNode.dev.requestor!.account.address,
    })

    await page.getByRole('button', { name: 'Refresh' }).click()
    await page
      .getByRole('row', { name: /Research/ })
      .getByText('Approved')
      .waitFor({ timeout: 30_000 })
    await nav(page, 'Copies received')
    const row = page.getByRole('row', { name: /De-identified/ })
    await row.first().waitFor({ timeout: 60_000 })
    await expect(row.count()).resolves.toBe(1)
    await expect(
      row
        .first()
        .getByRole('button', { name: /^Open De-identified CT copy/ })
        .isVisible(),
    ).resolves.toBe(true)
    // The original is not listed for the requestor: only the copy made for it.
    const requestorClient = await testNode.clientFor(testNode.dev.requestor!)
    const visible = await listRecords(requestorClient, { patient: patientAddress })
    expect(visible.map((r) => r.id)).toContain(copy.recordId)
    expect(visible.map((r) => r.id)).not.toContain(source!.recordId)
    await screenshot(page, 'requestor-copies')
    await phoneShot(/Demo Requestor/, 'Copies received', 'requestor-copies', async (p) => {
      await p
        .getByRole('row', { name: /De-identified/ })
        .first()
        .waitFor({ timeout: 60_000 })
    })
    await context.close()
  }, 300_000)
})

describe('unmatched studies', () => {
  it('a study received over STOW-RS for an unknown MRN is held, then resolved to the patient in the page', async () => {
    const mr = synthesizeStudy({
      kind: 'MR',
      count: 2,
      rows: 32,
      columns: 32,
      seed: 'portal-held',
      patient: { name: 'Carrasco^Sanson', id: 'MRN-HELD-PORTAL' },
      study: { accessionNumber: 'ACC-HELD-P', studyDate: '20250203', description: 'Brain MR' },
    })
    const other = synthesizeStudy({
      kind: 'MR',
      count: 1,
      rows: 32,
      columns: 32,
      seed: 'portal-held-discard',
      patient: { name: 'Nobody^Known', id: 'MRN-DISCARD-PORTAL' },
    })
    const { token } = await createNodeClient({
      url: base,
      account: testNode.dev.uploader!.account,
    }).signIn()
    const { contentType, body } = stowBody(mr.instances.map((i) => i.bytes))
    const stored = await fetch(`${base}/api/v1/dicomweb/studies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      body,
    })
    expect(stored.status).toBe(200)
    const second = stowBody(other.instances.map((i) => i.bytes))
    const storedSecond = await fetch(`${base}/api/v1/dicomweb/studies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': second.contentType },
      body: second.body,
    })
    expect(storedSecond.status).toBe(200)
    await testNode.node.context.ingest.idle()
    const uploader = await testNode.clientFor(testNode.dev.uploader!)
    const held = (await listHeldStudies(uploader)).find((s) => s.patientId === 'MRN-HELD-PORTAL')
    expect(held).toBeDefined()

    const context = await newContext(browser, DESKTOP)
    const page = await context.newPage()
    await signInAsDev(page, base, /Demo Radiologist/)
    await nav(page, 'Unmatched studies')
    const card = page.locator('.held-card', { hasText: 'MRN-HELD-PORTAL' })
    await card.waitFor()
    await expect(card.innerText()).resolves.toMatch(/Carrasco Sanson/)
    await expect(card.innerText()).resolves.toMatch(/2025-02-03/)
    await screenshot(page, 'held-studies')
    await phoneShot(/Demo Radiologist/, 'Unmatched studies', 'held-studies', async (p) => {
      await p.locator('.held-card', { hasText: 'MRN-HELD-PORTAL' }).waitFor()
    })
    await card.getByRole('button', { name: 'Resolve study of Patient ID MRN-HELD-PORTAL' }).click()
    const dialog = page.getByRole('dialog', { name: 'Resolve: name the patient' })
    await dialog.getByLabel('Patient (account address)').fill(patientAddress)
    await dialog.getByText('An approved patient.').waitFor()
    await expect(dialog.getByRole('checkbox', { name: /Remember this MRN/ }).isChecked()).resolves.toBe(true)
    await dialog.getByRole('button', { name: 'Seal for this patient' }).click()
    const status = page.getByRole('status').getByText(/Sealed into a record/)
    await status.waitFor({ timeout: 60_000 })
    const recordId = /(0x[0-9a-f]{64})/.exec((await status.textContent()) ?? '')?.[1] as Hex
    expect(recordId).toBeDefined()
    await card.waitFor({ state: 'detached', timeout: 30_000 })
    // Sealed for the patient, anchored, and the MRN now maps to them.
    const entry = await testNode.node.context.outbox.waitFor(recordId, 60_000)
    expect(entry.state).toBe('confirmed')
    await testNode.node.context.indexer.syncOnce()
    expect((await listRecords(patient)).map((r) => r.id)).toContain(recordId)
    const mapped = await uploader.node.json<{ patient: string | null }>(
      'POST',
      '/api/v1/unit/patient-ids/lookup',
      {
        body: { patientId: 'MRN-HELD-PORTAL' },
      },
    )
    expect(mapped.patient).toBe(patientAddress)

    // The other one is discarded, after a confirmation.
    const discardCard = page.locator('.held-card', { hasText: 'MRN-DISCARD-PORTAL' })
    await discardCard.getByRole('button', { name: /^Discard study/ }).click()
    const confirm = page.getByRole('alertdialog', { name: 'Discard this study?' })
    await confirm.getByRole('button', { name: 'Discard study' }).click()
    await page
      .getByRole('status')
      .getByText(/discarded/)
      .waitFor({ timeout: 60_000 })
    await discardCard.waitFor({ state: 'detached', timeout: 30_000 })
    expect((await listHeldStudies(uploader)).some((s) => s.patientId === 'MRN-DISCARD-PORTAL')).toBe(false)
    await context.close()
  }, 240_000)
})
