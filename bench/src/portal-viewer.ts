import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createPcmimsClient, decryptKeystore, type UploadFile, uploadDicomStudies } from '@pcmims/core'
import { synthesizeStudy } from '@pcmims/test-utils'
import { type Browser, chromium, type Page } from 'playwright-core'
import { privateKeyToAccount } from 'viem/accounts'
import { MiB, type NodeProcess, round, startNodeProcess } from './node-process.js'

/** Debian's Chromium; the bench never downloads a browser. */
const CHROMIUM = process.env.PCMIMS_CHROMIUM ?? '/usr/bin/chromium'
const PORTAL_DIST = fileURLToPath(new URL('../../packages/portal/dist/', import.meta.url))
const TITLE = 'Bench 300-slice CT'
const DESKTOP = { width: 1280, height: 800 }

/** A mark or request of one opening, in ms after the click on "Open …". */
export type PortalPhase = { name: string; atMs: number }
export type PortalRequest = { name: string; startMs: number; endMs: number; kib: number }

export type PortalViewerRun = {
  firstImageMs: number
  allImagesMs: number
  /** The viewer's `pcmims:*` performance marks, in time order. */
  marks: PortalPhase[]
  /** What the page fetched from the click to the first image (chunks, chain relay, record, blobs). */
  requests: PortalRequest[]
}

export type Spread = { median: number; min: number; max: number }

export type PortalViewerBenchResult = {
  corpus: { description: string; instances: number; bytes: number; mib: number }
  browser: string
  /** Each run is a fresh browser profile (no HTTP cache, no storage): a cold first opening. */
  runs: PortalViewerRun[]
  /** How long the bench looks at "My records" before it clicks (a person reads the list first). */
  pauseBeforeClickMs: number
  firstImageMs: Spread
  allImagesMs: Spread
  /** The run whose first-image time is the median. */
  medianRun: number
  loadAverage: { start: number[]; end: number[] }
  notes: string[]
}

export type RunPortalViewerBenchParameters = {
  /** The built portal the node serves (default packages/portal/dist: `npm run bench` builds it). */
  portalDir?: string | undefined
  runs?: number | undefined
  count?: number | undefined
  pauseBeforeClickMs?: number | undefined
  onLog?: ((line: string) => void) | undefined
}

/**
 * Time to first image in the portal's viewer, measured in the browser: a node process (embedded chain,
 * Helia) serving the built portal, the dev uploader uploading a synthesized 300-slice CT (512×512,
 * ~150 MiB) for the dev patient with core, then Chromium signing in as the dev patient and opening the
 * record from "My records", once per fresh browser profile. The page's own performance marks say when
 * the first image was drawn and when every image was decrypted and loaded.
 */
export async function runPortalViewerBench(
  params: RunPortalViewerBenchParameters = {},
): Promise<PortalViewerBenchResult> {
  const log = params.onLog ?? (() => {})
  const portalDir = params.portalDir ?? PORTAL_DIST
  const runsWanted = params.runs ?? 5
  const pause = params.pauseBeforeClickMs ?? 1000
  if (!existsSync(join(portalDir, 'index.html')))
    throw new Error(`no built portal in ${portalDir} (npm run build)`)
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`)
  const loadStart = loadavg().map((n) => round(n, 2))
  const work = await mkdtemp(join(tmpdir(), 'pcmims-bench-portal-'))
  let node: NodeProcess | undefined
  let browser: Browser | undefined
  try {
    node = await startNodeProcess(join(work, 'node'), {
      env: { PCMIMS_LOG_LEVEL: 'warn', PCMIMS_PORTAL_DIR: portalDir, PCMIMS_DIMSE_ENABLED: '0' },
    })
    const corpus = await seed(node, params.count ?? 300, log)
    browser = await chromium.launch({
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
    const runs: PortalViewerRun[] = []
    for (let i = 0; i < runsWanted; i++) {
      const run = await openOnce(browser, node.url, pause)
      log(
        `portal: run ${i + 1}/${runsWanted}: first image ${Math.round(run.firstImageMs)} ms, all images ${Math.round(run.allImagesMs)} ms`,
      )
      runs.push(run)
    }
    const byFirst = runs
      .map((run, index) => ({ run, index }))
      .sort((a, b) => a.run.firstImageMs - b.run.firstImageMs)
    return {
      corpus,
      browser: browser.version(),
      runs,
      pauseBeforeClickMs: pause,
      firstImageMs: spread(runs.map((r) => r.firstImageMs)),
      allImagesMs: spread(runs.map((r) => r.allImagesMs)),
      medianRun: byFirst[Math.floor((byFirst.length - 1) / 2)]!.index,
      loadAverage: { start: loadStart, end: loadavg().map((n) => round(n, 2)) },
      notes: [
        'headless Chromium without a GPU: Cornerstone draws with its CPU path (as on machines without WebGL)',
        'each run is a fresh browser profile: the portal and viewer code come from the node, not a cache',
        'times run from the click on "Open <title>" (mark pcmims:open-record) to the marks',
      ],
    }
  } finally {
    await browser?.close().catch(() => undefined)
    await node?.stop()
    await rm(work, { recursive: true, force: true })
  }
}

async function seed(
  node: NodeProcess,
  count: number,
  log: (line: string) => void,
): Promise<PortalViewerBenchResult['corpus']> {
  const dev = (role: string) => {
    const account = node.accounts.find((a) => a.role === role)
    if (!account) throw new Error(`the node has no dev ${role}`)
    return account
  }
  const uploaderKeys = await decryptKeystore({
    keystore: await readFile(dev('uploader').keystore, 'utf8'),
    passphrase: dev('uploader').passphrase,
  })
  const uploader = await createPcmimsClient({
    nodeUrl: node.url,
    account: privateKeyToAccount(uploaderKeys.privateKey),
    encryptionKeyPair: uploaderKeys.encryptionKeyPair,
  })
  log(`portal: synthesizing a ${count}-slice CT…`)
  const study = synthesizeStudy({
    kind: 'CT',
    count,
    seed: 'bench-portal',
    patient: { name: 'BENCH^PORTAL', id: 'BENCH-PORTAL-CT' },
    study: { description: 'BENCH PORTAL CT', accessionNumber: 'BENCH-PORTAL-1' },
  })
  const bytes = study.instances.reduce((n, i) => n + i.bytes.length, 0)
  log(`portal: uploading ${round(bytes / MiB)} MiB as the dev uploader…`)
  await uploadDicomStudies(uploader, {
    patient: dev('patient').address as `0x${string}`,
    description: TITLE,
    files: study.instances.map((i) => memoryFile(i.fileName, i.bytes)),
  })
  await uploader.node.signOut().catch(() => undefined)
  return { description: TITLE, instances: study.instances.length, bytes, mib: round(bytes / MiB) }
}

function memoryFile(path: string, bytes: Uint8Array): UploadFile {
  return {
    path,
    mediaType: 'application/dicom',
    size: bytes.length,
    async *open() {
      for (let i = 0; i < bytes.length; i += MiB) yield bytes.subarray(i, i + MiB)
    },
  }
}

/** One cold opening: a fresh profile signs in as the dev patient and opens the CT from "My records". */
async function openOnce(browser: Browser, url: string, pause: number): Promise<PortalViewerRun> {
  const context = await browser.newContext({ viewport: DESKTOP, reducedMotion: 'reduce' })
  try {
    const page = await context.newPage()
    // Every blob of the 300 files, not the default 250 entries.
    await page.addInitScript(() => performance.setResourceTimingBufferSize(5000))
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(url)
    await page.getByRole('button', { name: /Demo Patient/ }).click()
    await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 60_000 })
    await page.getByRole('heading', { name: 'My records', level: 1 }).waitFor()
    const open = page.getByRole('button', { name: `Open ${TITLE}` })
    // The node's indexer may still be catching up with the upload on the first run.
    await open.waitFor({ timeout: 180_000 })
    await page.waitForTimeout(pause)
    await open.click()
    const firstImageMs = await waitForMark(page, 'pcmims:first-image', 120_000)
    const allImagesMs = await waitForMark(page, 'pcmims:all-images', 600_000)
    if (errors.length > 0) throw new Error(`the page failed: ${errors.join('; ')}`)
    const { marks, requests } = await page.evaluate(() => {
      const start = performance.getEntriesByName('pcmims:open-record')[0]?.startTime ?? 0
      const first = performance.getEntriesByName('pcmims:first-image')[0]?.startTime ?? 0
      const marks = performance
        .getEntriesByType('mark')
        .filter((m) => m.name.startsWith('pcmims:'))
        .map((m) => ({ name: m.name.slice('pcmims:'.length), atMs: m.startTime - start }))
      const requests = (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
        .filter((r) => r.responseEnd >= start && r.startTime <= first)
        .map((r) => ({
          name: new URL(r.name).pathname,
          startMs: r.startTime - start,
          endMs: r.responseEnd - start,
          kib: r.encodedBodySize / 1024,
        }))
      // The first file's ciphertext off the network (Resource Timing): the first blob after the manifest.
      const opened = performance.getEntriesByName('pcmims:record-opened')[0]?.startTime
      const firstBlob = (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
        .filter((r) => opened !== undefined && r.startTime >= opened && r.name.includes('/blobs/'))
        .sort((a, b) => a.startTime - b.startTime)[0]
      if (firstBlob) marks.push({ name: 'first-file-fetched (network)', atMs: firstBlob.responseEnd - start })
      return { marks, requests }
    })
    return {
      firstImageMs,
      allImagesMs,
      marks: marks.sort((a, b) => a.atMs - b.atMs).map((m) => ({ ...m, atMs: round(m.atMs) })),
      requests: requests.map((r) => ({
        name: requestLabel(r.name),
        startMs: round(r.startMs),
        endMs: round(r.endMs),
        kib: round(r.kib),
      })),
    }
  } finally {
    await context.close()
  }
}

/** Names without ids: which chunk, which API route (record ids and CIDs are elided). */
function requestLabel(path: string): string {
  if (path.startsWith('/assets/')) return path.slice('/assets/'.length).replace(/-[\w-]{8}(?=\.\w+$)/, '')
  return path
    .replace(/0x[0-9a-fA-F]{40,64}/g, ':id')
    .replace(/\/blobs\/[^/]+$/, '/blobs/:cid')
    .replace(/^\/api\/v1/, '')
}

async function waitForMark(page: Page, name: string, timeout: number): Promise<number> {
  await page.waitForFunction((n) => performance.getEntriesByName(n).length > 0, name, { timeout })
  return page.evaluate((n) => {
    const open = performance.getEntriesByName('pcmims:open-record')[0]!
    return performance.getEntriesByName(n)[0]!.startTime - open.startTime
  }, name)
}

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { median: Math.round(median), min: Math.round(sorted[0]!), max: Math.round(sorted.at(-1)!) }
}

/** The summary line per measure, then the median run's marks with the time each phase took. */
export function formatPortalTable(result: PortalViewerBenchResult): string {
  const summary = table(
    ['measure (ms after the click)', 'median', 'min', 'max', 'runs'],
    [
      ['first image', result.firstImageMs],
      ['all images decrypted + loaded', result.allImagesMs],
    ].map(([label, s]) => {
      const v = s as Spread
      return [label as string, String(v.median), String(v.min), String(v.max), String(result.runs.length)]
    }),
  )
  const median = result.runs[result.medianRun]
  if (!median) return summary
  let previous = 0
  const phases = table(
    ['mark (median run)', 'at ms', 'phase ms'],
    median.marks
      .filter((m) => m.name !== 'open-record')
      .map((m) => {
        const row = [m.name, String(Math.round(m.atMs)), String(Math.round(m.atMs - previous))]
        previous = m.atMs
        return row
      }),
  )
  return `${summary}\n\n${phases}`
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n')
}
