import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { formatGasTable, runGasBench } from './gas.js'
import { type IngestRow, runIngestBench } from './ingest.js'

/**
 * `npm run bench`: gas of our contract next to the seed paper's (one anvil), then ingest and retrieval
 * through a real node for 1 MiB, 100 MiB and 1 GiB. Prints tables; writes bench/results/bench.json.
 * `--sizes 1,100` (MiB) limits the ingest sizes; `--skip-gas` / `--skip-ingest` run one half.
 */
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,100,1024' },
    'skip-gas': { type: 'boolean' },
    'skip-ingest': { type: 'boolean' },
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

await mkdir(results, { recursive: true })
await writeFile(
  output,
  `${JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`,
)
console.log(`\nwrote ${output}`)

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
