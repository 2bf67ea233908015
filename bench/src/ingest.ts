import { spawn } from 'node:child_process'
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { label, MiB, peakRss, round, startNodeProcess, writeRandomFile } from './node-process.js'

const CLIENT = fileURLToPath(new URL('./ingest-client.js', import.meta.url))

export type IngestRow = {
  size: string
  bytes: number
  uploadMBps: number
  retrieveMBps: number
  uploadSeconds: number
  retrieveSeconds: number
  clientPeakRssMB: number
  nodePeakRssMB: number
  gasUsed: string | null
  /** Upload throughput as a fraction of this machine's single-core AES-256-GCM + SHA-256 bound. */
  fractionOfBound: number
}

export type IngestBenchResult = {
  rows: IngestRow[]
  bound: { aesGcmMBps: number; sha256MBps: number; combinedMBps: number }
}

/**
 * Ingest through the whole system, as a radiologist's client does it: a node process (embedded chain,
 * Helia) and a client process that encrypts, uploads, waits for the anchor, then retrieves and
 * verifies. Peak RSS of each process is reported separately.
 */
export async function runIngestBench(params: {
  sizes: number[]
  onLog?: (line: string) => void
}): Promise<IngestBenchResult> {
  const log = params.onLog ?? (() => {})
  const dir = await mkdtemp(join(tmpdir(), 'pcmims-bench-'))
  const node = await startNodeProcess(join(dir, 'node'), { env: { PCMIMS_LOG_LEVEL: 'warn' } })
  try {
    const accounts = node.accounts
    const uploader = accounts.find((a) => a.role === 'uploader')!
    const patient = accounts.find((a) => a.role === 'patient')!
    const bound = measureBound()
    const rows: IngestRow[] = []
    for (const size of params.sizes) {
      const file = join(dir, `data-${size}.bin`)
      await writeRandomFile(file, size)
      log(`ingest ${label(size)}…`)
      const out = await runProcess(process.execPath, [
        CLIENT,
        node.url,
        uploader.keystore,
        uploader.passphrase,
        patient.keystore,
        patient.passphrase,
        file,
      ])
      const result = JSON.parse(out.trim().split('\n').pop() as string) as {
        size: number
        uploadSeconds: number
        retrieveSeconds: number
        gasUsed: string | null
        clientPeakRssBytes: number
      }
      await rm(file)
      const uploadMBps = size / MiB / result.uploadSeconds
      rows.push({
        size: label(size),
        bytes: size,
        uploadMBps: round(uploadMBps),
        retrieveMBps: round(size / MiB / result.retrieveSeconds),
        uploadSeconds: round(result.uploadSeconds),
        retrieveSeconds: round(result.retrieveSeconds),
        clientPeakRssMB: round(result.clientPeakRssBytes / MiB),
        nodePeakRssMB: round((await peakRss(node.process.pid as number)) / MiB),
        gasUsed: result.gasUsed,
        fractionOfBound: round(uploadMBps / bound.combinedMBps, 3),
      })
    }
    return { rows, bound }
  } finally {
    await node.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

function measureBound() {
  const chunk = randomBytes(4 * MiB)
  const total = 256 * MiB
  const time = (fn: () => void) => {
    const t = performance.now()
    fn()
    return (performance.now() - t) / 1000
  }
  const aes = time(() => {
    const cipher = createCipheriv('aes-256-gcm', randomBytes(32), randomBytes(12))
    for (let n = 0; n < total; n += chunk.length) cipher.update(chunk)
    cipher.final()
  })
  const sha = time(() => {
    const hash = createHash('sha256')
    for (let n = 0; n < total; n += chunk.length) hash.update(chunk)
    hash.digest()
  })
  const aesGcmMBps = total / MiB / aes
  const sha256MBps = total / MiB / sha
  // The client encrypts and hashes every byte, the store hashes every block: one AES pass, two SHA passes.
  const combinedMBps = 1 / (1 / aesGcmMBps + 2 / sha256MBps)
  return { aesGcmMBps: round(aesGcmMBps), sha256MBps: round(sha256MBps), combinedMBps: round(combinedMBps) }
}

function runProcess(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited with ${code}`)),
    )
  })
}
