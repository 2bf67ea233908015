import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  createGrant,
  getChainTime,
  type PcmimsClient,
  readReport,
  type UploadFile,
  uploadDicomStudies,
  uploadRecord,
  zeroPreamble,
} from '@pcmims/core'
import { FHIR_LIPID_PANEL, type SynthesizedStudy, synthesizeStudy, type TestNode } from '@pcmims/test-utils'
import { unzipSync } from 'fflate'
import type { Browser, Page, Request } from 'playwright-core'
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

/*
 * The viewer and the report view in real Chromium, as the dev patient: a generated two-series CT (300 +
 * 20 slices), a real multi-frame angiogram (JPEG lossless, decoded by Cornerstone's WASM codec in a worker),
 * a PDF report and a FHIR lab report, all uploaded with core on the node side and opened from the records
 * list. Every request the page makes while viewing is recorded: none may carry decrypted content.
 */

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'dicom', 'valid')
const PATIENT = { name: 'Viewerton^Ada^Q', id: 'MRN-VIEWER-77', birthDate: '19610214', sex: 'F' }
const CT_DESCRIPTION = 'VIEWER SYNTH CHEST'
const TITLES = {
  ct: 'Viewer 300-slice CT',
  angio: 'Viewer angiogram',
  pdf: 'Viewer PDF report',
  lab: 'Viewer lab report',
}

/** A one-page PDF with a heading and a line of text, cross-reference table and all. */
function makePdf(lines: string[]): Uint8Array {
  const content = [
    'BT /F1 28 Tf 60 760 Td',
    ...lines.map((line, i) => `${i === 0 ? '' : '0 -40 Td /F1 16 Tf '}(${line}) Tj`),
    'ET',
    '0 0 0 RG 4 w 60 700 m 540 700 l S',
  ].join('\n')
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ]
  let pdf = '%PDF-1.4\n'
  const offsets: number[] = []
  for (const [i, body] of objects.entries()) {
    offsets.push(pdf.length)
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`
  }
  const xref = pdf.length
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return new TextEncoder().encode(pdf)
}

function memoryFile(path: string, bytes: Uint8Array, mediaType = 'application/dicom'): UploadFile {
  return {
    path,
    mediaType,
    size: bytes.length,
    async *open() {
      for (let i = 0; i < bytes.length; i += 1024 * 1024) yield bytes.subarray(i, i + 1024 * 1024)
    },
  }
}

async function uploadReport(
  client: PcmimsClient,
  patient: `0x${string}`,
  bytes: Uint8Array,
  description: string,
) {
  const report = readReport(bytes)
  const ext = report.format === 'pdf' ? 'pdf' : 'json'
  const file = memoryFile(`report.${ext}`, bytes, report.mediaType)
  await uploadRecord(client, {
    patient,
    kind: 'REPORT',
    files: [file],
    description,
    date: '2026-03-02',
    report: { ...report.summary, path: file.path },
  })
}

let testNode: TestNode
let browser: Browser
let base: string
let ct: SynthesizedStudy
let coronal: SynthesizedStudy
let angio: Uint8Array
let angioRecordId: `0x${string}`

beforeAll(async () => {
  testNode = await startPortalNode()
  base = testNode.node.url
  const uploader = await testNode.clientFor(testNode.dev.uploader!)
  const patient = testNode.dev.patient!.account.address
  const study = { description: CT_DESCRIPTION, accessionNumber: 'ACC-VIEWER-1', studyDate: '20260301' }
  ct = synthesizeStudy({ kind: 'CT', count: 300, seed: 'viewer-ct', patient: PATIENT, study })
  coronal = synthesizeStudy({
    kind: 'CT',
    count: 20,
    seed: 'viewer-ct-coronal',
    patient: PATIENT,
    study: { ...study, studyInstanceUid: ct.studyInstanceUid },
    seriesNumber: 3,
    seriesDescription: 'CORONAL 5MM',
  })
  await uploadDicomStudies(uploader, {
    patient,
    description: TITLES.ct,
    files: [...ct.instances, ...coronal.instances].map((i) => memoryFile(i.fileName, i.bytes)),
  })
  angio = await readFile(join(FIXTURES, 'XA_angio_jpegll.dcm'))
  const [angioRecord] = await uploadDicomStudies(uploader, {
    patient,
    description: TITLES.angio,
    files: [memoryFile('angio.dcm', angio)],
  })
  angioRecordId = angioRecord!.recordId
  await uploadReport(uploader, patient, makePdf(['Radiology report', 'No acute findings.']), TITLES.pdf)
  await uploadReport(
    uploader,
    patient,
    new TextEncoder().encode(JSON.stringify(FHIR_LIPID_PANEL)),
    TITLES.lab,
  )
  await testNode.node.context.indexer.syncOnce()
  browser = await launchBrowser()
}, 900_000)

afterAll(async () => {
  await browser?.close()
  await testNode?.stop()
})

type Watch = { requests: Request[]; problems: string[] }

/** Records every request and every console error or uncaught exception of a page. */
function watch(page: Page): Watch {
  const w: Watch = { requests: [], problems: [] }
  page.on('request', (request) => w.requests.push(request))
  page.on('console', (message) => {
    if (message.type() === 'error') w.problems.push(`console: ${message.text()}`)
  })
  page.on('pageerror', (error) => w.problems.push(`pageerror: ${error.message}`))
  return w
}

/** Nothing the page sent may be decrypted content: no DICOM, no patient name or id, nothing large. */
function expectNothingDecryptedSent(w: Watch): void {
  const needles = ['DICM', 'Viewerton', 'MRN-VIEWER-77', 'Paciente', 'LDL cholesterol', 'No acute findings']
  let checked = 0
  for (const request of w.requests) {
    const url = request.url()
    for (const needle of needles) expect(url).not.toContain(needle)
    expect(url).not.toMatch(/\/(records|patients)\/[^/]*\?/)
    const body = request.postDataBuffer()
    if (!body) continue
    checked++
    const text = body.toString('latin1')
    for (const needle of needles) expect(text, `${request.method()} ${url}`).not.toContain(needle)
    expect(body.length, `${request.method()} ${url} sends ${body.length} bytes`).toBeLessThan(8 * 1024)
  }
  // Signing in posts a signed challenge: the check above did look at request bodies.
  expect(checked).toBeGreaterThan(0)
}

async function openRecord(page: Page, title: string): Promise<void> {
  await page.getByRole('heading', { name: 'My records', level: 1 }).waitFor()
  const button = page.getByRole('button', { name: `Open ${title}` })
  await button.waitFor({ timeout: 120_000 })
  await button.click()
  await page.getByRole('dialog').waitFor()
}

async function closeRecord(page: Page): Promise<void> {
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click()
  await page.getByRole('dialog').waitFor({ state: 'detached' })
}

/** Distinct grey levels and non-black pixels of the viewer's canvas (or the first PDF page). */
async function canvasStats(
  page: Page,
  selector: string,
): Promise<{ nonBlank: number; levels: number; hash: number }> {
  return page.evaluate((sel) => {
    const canvas = document.querySelector<HTMLCanvasElement>(sel)
    if (!canvas || canvas.width === 0) return { nonBlank: 0, levels: 0, hash: 0 }
    const copy = document.createElement('canvas')
    copy.width = canvas.width
    copy.height = canvas.height
    const context = copy.getContext('2d')!
    context.drawImage(canvas, 0, 0)
    const { data } = context.getImageData(0, 0, copy.width, copy.height)
    let nonBlank = 0
    let hash = 0
    const levels = new Set<number>()
    for (let i = 0; i < data.length; i += 4) {
      const v = data[i]! + data[i + 1]! + data[i + 2]!
      if (v > 30 && v < 735) nonBlank++
      levels.add(v)
      hash = (hash * 31 + v) | 0
    }
    return { nonBlank, levels: levels.size, hash }
  }, selector)
}

const VIEWER_CANVAS = '.viewer-element canvas'
const counter = (page: Page) => page.locator('.viewer-counter > span').first().textContent()
const expectCounter = (page: Page, text: string) =>
  expect.poll(() => counter(page), { timeout: 30_000 }).toBe(text)

async function waitForMark(page: Page, name: string, timeout = 180_000): Promise<number> {
  await page.waitForFunction((n) => performance.getEntriesByName(n).length > 0, name, { timeout })
  return page.evaluate((n) => {
    const open = performance.getEntriesByName('pcmims:open-record')[0]!
    const mark = performance.getEntriesByName(n)[0]!
    return mark.startTime - open.startTime
  }, name)
}

describe('the image viewer', () => {
  it('shows the 300-slice CT: first image early, scroll, presets, details, download, nothing decrypted sent', async () => {
    const context = await newContext(browser, DESKTOP)
    const page = await context.newPage()
    const w = watch(page)
    await signInAsDev(page, base, /Demo Patient/)
    await openRecord(page, TITLES.ct)

    const firstMs = await waitForMark(page, 'pcmims:first-image')
    console.log(`300-slice CT: first image ${firstMs.toFixed(0)} ms after opening`)
    await expectCounter(page, '1 / 300')
    const first = await canvasStats(page, VIEWER_CANVAS)
    expect(first.nonBlank).toBeGreaterThan(1000)
    expect(first.levels).toBeGreaterThan(3)

    // Keyboard and wheel scrolling move through the stack; the counter follows.
    await page.locator('.viewer-canvas').focus()
    await page.keyboard.press('ArrowDown')
    await expectCounter(page, '2 / 300')
    await page.keyboard.press('PageDown')
    await expectCounter(page, '12 / 300')
    const box = (await page.locator('.viewer-canvas').boundingBox())!
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
    await page.mouse.wheel(0, 120)
    await page.waitForFunction(
      () => document.querySelector('.viewer-counter > span')?.textContent !== '12 / 300',
    )
    expect(await counter(page)).toMatch(/^1[3-9] \/ 300$/)
    await page.keyboard.press('Home')
    await expectCounter(page, '1 / 300')

    // A lung window shows the same slice differently.
    const before = await canvasStats(page, VIEWER_CANVAS)
    await page.getByLabel('Window', { exact: true }).selectOption('lung')
    await page.getByText('W 1500 L -600').waitFor()
    await page.waitForTimeout(300)
    const lung = await canvasStats(page, VIEWER_CANVAS)
    expect(lung.hash).not.toBe(before.hash)

    // The details panel shows the study, from the sealed manifest.
    await page.getByRole('button', { name: 'Show details' }).click()
    const details = page.getByRole('complementary', { name: 'Image details' })
    await expect(details.getByText(CT_DESCRIPTION).isVisible()).resolves.toBe(true)
    await expect(details.getByText('Viewerton, Ada, Q').isVisible()).resolves.toBe(true)

    // The second series, from its thumbnail.
    await page.getByRole('button', { name: /Series 3 · CT · CORONAL 5MM/ }).click()
    await expectCounter(page, '1 / 20')
    await page.getByRole('button', { name: /Series 2 · CT/ }).click()
    await expectCounter(page, '1 / 300')

    const allMs = await waitForMark(page, 'pcmims:all-images', 600_000)
    console.log(
      `300-slice CT (+20-slice series): every image decrypted and loaded ${allMs.toFixed(0)} ms after opening`,
    )
    await page.getByText(/All 320 files decrypted/).waitFor()
    await screenshot(page, 'viewer-ct')

    // The patient may download: the image on screen is the original file, byte for byte.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download image (DICOM)' }).click(),
    ])
    const got = await readFile((await download.path())!)
    expect(Buffer.compare(got, Buffer.from(zeroPreamble(ct.instances[0]!.bytes)))).toBe(0)

    await closeRecord(page)
    expectNothingDecryptedSent(w)
    expect(w.problems).toEqual([])
    await context.close()
  }, 900_000)

  it('plays a multi-frame angiogram (JPEG lossless codec) and downloads the study as a ZIP', async () => {
    const context = await newContext(browser, DESKTOP)
    const page = await context.newPage()
    const w = watch(page)
    await signInAsDev(page, base, /Demo Patient/)
    await openRecord(page, TITLES.angio)
    await waitForMark(page, 'pcmims:first-image')
    await expectCounter(page, '1 / 4')
    expect((await canvasStats(page, VIEWER_CANVAS)).nonBlank).toBeGreaterThan(1000)
    await page.getByLabel('Frames per second').fill('20')
    await page.getByRole('button', { name: 'Play' }).click()
    await page.waitForFunction(
      () => document.querySelector('.viewer-counter > span')?.textContent !== '1 / 4',
    )
    await page.getByRole('button', { name: 'Pause' }).click()

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download study (ZIP)' }).click(),
    ])
    const entries = unzipSync(await readFile((await download.path())!))
    const files = Object.values(entries)
    expect(files).toHaveLength(1)
    expect(Buffer.compare(Buffer.from(files[0]!), Buffer.from(zeroPreamble(angio)))).toBe(0)
    await closeRecord(page)
    expectNothingDecryptedSent(w)
    expect(w.problems).toEqual([])
    await context.close()
  }, 300_000)
})

describe('a view-only grantee', () => {
  it('sees the images, is told why there is no download, and gets no download control', async () => {
    const patientClient = await testNode.clientFor(testNode.dev.patient!)
    await createGrant(patientClient, {
      grantee: testNode.dev.medic!.account.address,
      records: [angioRecordId],
      expiresAt: (await getChainTime(patientClient.publicClient)) + 86_400,
      download: false,
    })
    await testNode.node.context.indexer.syncOnce()
    const context = await newContext(browser, DESKTOP)
    const page = await context.newPage()
    const w = watch(page)
    await signInAsDev(page, base, /Demo Medic/)
    await page
      .getByRole('button', { name: /^Open records of patient/ })
      .first()
      .click({ timeout: 60_000 })
    const open = page.getByRole('button', { name: `Open ${TITLES.angio}` })
    await open.waitFor({ timeout: 120_000 })
    await open.click()
    await waitForMark(page, 'pcmims:first-image')
    expect((await canvasStats(page, VIEWER_CANVAS)).nonBlank).toBeGreaterThan(1000)
    await page.getByText('View only: the patient did not allow downloads.').waitFor()
    await expect(page.getByText(/kept by the portal, not by cryptography/).isVisible()).resolves.toBe(true)
    await expect(page.getByRole('button', { name: /^Download/ }).count()).resolves.toBe(0)
    await closeRecord(page)
    expectNothingDecryptedSent(w)
    expect(w.problems).toEqual([])
    await context.close()
  }, 300_000)
})

describe('the report view', () => {
  it('draws a PDF report and shows lab results with the out-of-range row flagged in words', async () => {
    const context = await newContext(browser, DESKTOP)
    const page = await context.newPage()
    const w = watch(page)
    await signInAsDev(page, base, /Demo Patient/)

    await openRecord(page, TITLES.pdf)
    await page.locator('canvas.pdf-page').waitFor()
    await page.getByRole('button', { name: 'Download report (original file)' }).waitFor()
    await page.waitForFunction(() => !document.querySelector('.pdf-view .state-loading'))
    const pdf = await canvasStats(page, 'canvas.pdf-page')
    expect(pdf.nonBlank).toBeGreaterThan(200)
    await screenshot(page, 'viewer-report-pdf')
    await page.getByText('Text of the report').click()
    await page.getByText(/No acute findings/).waitFor()
    await closeRecord(page)

    await openRecord(page, TITLES.lab)
    const table = page.getByRole('table')
    await table.waitFor()
    const ldl = table.getByRole('row', { name: /LDL cholesterol/ })
    await expect(ldl.getAttribute('class')).resolves.toContain('lab-flagged')
    await expect(ldl.textContent()).resolves.toMatch(/4\.2 mmol\/L.*High \(H\).*≤ 3 mmol\/L/)
    const hdl = table.getByRole('row', { name: /HDL cholesterol/ })
    await expect(hdl.getAttribute('class')).resolves.toBeNull()
    await page.getByText('1 out of range').waitFor()
    await screenshot(page, 'viewer-report-lab')
    await closeRecord(page)

    expectNothingDecryptedSent(w)
    expect(w.problems).toEqual([])
    await context.close()
  }, 300_000)
})

describe('at phone width', () => {
  it('the viewer and the report view fit 390 px', async () => {
    const context = await newContext(browser, PHONE)
    const page = await context.newPage()
    const w = watch(page)
    await signInAsDev(page, base, /Demo Patient/)
    await openRecord(page, TITLES.ct)
    await waitForMark(page, 'pcmims:first-image')
    await expectCounter(page, '1 / 300')
    expect((await canvasStats(page, VIEWER_CANVAS)).nonBlank).toBeGreaterThan(1000)
    await page.getByRole('button', { name: 'Next image' }).click()
    await expectCounter(page, '2 / 300')
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await screenshot(page, 'viewer-ct')
    await closeRecord(page)

    await openRecord(page, TITLES.pdf)
    await page.locator('canvas.pdf-page').waitFor()
    await page.waitForFunction(() => !document.querySelector('.pdf-view .state-loading'))
    await screenshot(page, 'viewer-report-pdf')
    await closeRecord(page)

    await openRecord(page, TITLES.lab)
    await page.getByRole('table').waitFor()
    await screenshot(page, 'viewer-report-lab')
    await closeRecord(page)
    expectNothingDecryptedSent(w)
    expect(w.problems).toEqual([])
    await context.close()
  }, 600_000)
})
