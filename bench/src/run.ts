import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { formatDicomTable, runDicomBench } from './dicom-ingest.js'
import { formatGasTable, runGasBench } from './gas.js'
import { type IngestRow, runIngestBench } from './ingest.js'
import { DEFAULT_LOAD, formatLoadTable, loadFailures, runLoadBench } from './load.js'
import { formatPortalTable, runPortalViewerBench } from './portal-viewer.js'

/**
 * `npm run bench`: gas of our contract next to the seed paper's (one anvil), then ingest and retrieval
 * through a real node for 1 MiB, 100 MiB and 1 GiB, then an HTTP load test of a node (concurrent
 * sign-ins, listings, 100 MiB uploads, and the rate limiter), then node-side DICOM ingest of a 300-slice CT
 * by STOW-RS and C-STORE next to Orthanc, with time to first image by WADO-RS, then the portal's time to
 * first image of that CT in Chromium (decrypted in the browser). Prints tables; writes
 * bench/results/bench.json, keeping the sections of an earlier run that this run skipped.
 * `--sizes 1,100` (MiB) limits the ingest sizes; `--skip-gas` / `--skip-ingest` / `--skip-load` /
 * `--skip-dicom` / `--skip-portal` leave a section out; `--dicom-quiet-ms 500` sets the DICOM nodes' ingest quiet period;
 * `--portal-runs 5` sets the portal's cold openings, `--portal-dir DIR` the built portal it serves;
 * `--load-rate-limit 200,50,30` sets the load node's burst, per-second and sign-in-per-minute limits. A load run with errors fails the command (after the report is written).
 */
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,100,1024' },
    'skip-gas': { type: 'boolean' },
    'skip-ingest': { type: 'boolean' },
    'skip-load': { type: 'boolean' },
    'skip-dicom': { type: 'boolean' },
    'skip-portal': { type: 'boolean' },
    'portal-runs': { type: 'string', default: '5' },
    'portal-dir': { type: 'string' },
    'dicom-quiet-ms': { type: 'string', default: '500' },
    'load-rate-limit': { type: 'string' },
    out: { type: 'string' },
  },
})
const results = fileURLToPath(new URL('../results/', import.meta.url))
const output = values.out ?? `${results}bench.json`
const report: Record<string, unknown> = {
  measuredAt: new Date().toISOString(),
  machine: { node: process.version, platform: `${process.platform}-${process.arch}` },
}

if (!values['skip-gas']) {
  const gas = await runGasBench({ onProgress: (m) => process.stderr.write(`gas: ${m}\n`) })
  console.log(formatGasTable(gas))
  report.gas = gas
}

if (!values['skip-ingest']) {
  const sizes = (values.sizes ?? '').split(',').map((s) => Math.round(Number(s) * 1024 * 1024))
  const ingest = await runIngestBench({ sizes, onLog: (m) => process.stderr.write(`${m}\n`) })
  console.log(
    '\nIngest through a real node (client encrypts + uploads + waits for the anchor; then retrieves + verifies)',
  )
  console.log(
    `single-core bound here: AES-256-GCM ${ingest.bound.aesGcmMBps} MiB/s, SHA-256 ${ingest.bound.sha256MBps} MiB/s, ` +
      `combined (1 AES + 2 SHA passes) ${ingest.bound.combinedMBps} MiB/s`,
  )
  console.log(formatIngestTable(ingest.rows))
  report.ingest = ingest
}

let loadFailed: string[] = []
if (!values['skip-load']) {
  const rateLimit = values['load-rate-limit']
    ? parseRateLimit(values['load-rate-limit'])
    : DEFAULT_LOAD.rateLimit
  const load = await runLoadBench({
    ...DEFAULT_LOAD,
    // Enough to go past the burst however slowly the node answers.
    limiterRequests: Math.max(DEFAULT_LOAD.limiterRequests, 3 * rateLimit.burst),
    rateLimit,
    onLog: (m) => process.stderr.write(`${m}\n`),
  })
  console.log('\nHTTP load on loopback (a node process; this process signs in, lists, encrypts and uploads)')
  console.log(formatLoadTable(load))
  report.load = load
  loadFailed = loadFailures(load)
}

if (!values['skip-dicom']) {
  const dicom = await runDicomBench({
    quietPeriodMs: Number(values['dicom-quiet-ms']),
    onLog: (m) => process.stderr.write(`${m}\n`),
  })
  console.log('\nDICOM ingest of a 300-slice CT, PCMIMS next to Orthanc (same machine, same files, loopback)')
  console.log(formatDicomTable(dicom))
  report.dicom = dicom
}

if (!values['skip-portal']) {
  const portal = await runPortalViewerBench({
    runs: Number(values['portal-runs']),
    portalDir: values['portal-dir'],
    onLog: (m) => process.stderr.write(`${m}\n`),
  })
  console.log(
    `\nPortal viewer: time to first image of a ${portal.corpus.instances}-slice CT (${portal.corpus.mib} MiB), ` +
      `opened from "My records" in Chromium ${portal.browser}, each run a fresh profile; decrypted in the browser`,
  )
  console.log(formatPortalTable(portal))
  report.portal = portal
}

// Sections this run skipped stay as the earlier run measured them; `carriedOver` says when that was.
const previous = await readFile(output, 'utf8')
  .then((text) => JSON.parse(text) as Record<string, unknown>)
  .catch(() => ({}) as Record<string, unknown>)
const carriedOver: Record<string, unknown> = {}
for (const section of ['gas', 'ingest', 'load', 'dicom', 'portal']) {
  if (report[section] === undefined && previous[section] !== undefined) {
    report[section] = previous[section]
    const carried = previous.carriedOver as Record<string, unknown> | undefined
    carriedOver[section] = carried?.[section] ?? previous.measuredAt
  }
}
if (Object.keys(carriedOver).length > 0) report.carriedOver = carriedOver

await mkdir(results, { recursive: true })
await writeFile(
  output,
  `${JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`,
)
console.log(`\nwrote ${output}`)
if (loadFailed.length > 0) {
  console.error(`\nLOAD TEST FAILED:\n${loadFailed.map((line) => `  ${line}`).join('\n')}`)
  process.exitCode = 1
}

function parseRateLimit(text: string) {
  const [burst, perSecond, signInPerMinute] = text.split(',').map(Number)
  if (![burst, perSecond, signInPerMinute].every((n) => n !== undefined && Number.isFinite(n) && n > 0)) {
    throw new Error('--load-rate-limit takes burst,perSecond,signInPerMinute (e.g. 200,50,30)')
  }
  return {
    burst: burst as number,
    perSecond: perSecond as number,
    signInPerMinute: signInPerMinute as number,
  }
}

function formatIngestTable(rows: IngestRow[]): string {
  const header = [
    'size',
    'upload MiB/s',
    'retrieve MiB/s',
    'upload s',
    'retrieve s',
    'client peak RSS MiB',
    'node peak RSS MiB',
    'of bound',
    'anchor gas',
  ]
  const lines = rows.map((r) => [
    r.size,
    String(r.uploadMBps),
    String(r.retrieveMBps),
    String(r.uploadSeconds),
    String(r.retrieveSeconds),
    String(r.clientPeakRssMB),
    String(r.nodePeakRssMB),
    `${Math.round(r.fractionOfBound * 100)}%`,
    r.gasUsed ?? '-',
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)))
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] as number)).join('  ')
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n')
}
