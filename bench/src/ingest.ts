import { type ChildProcess, spawn } from 'node:child_process'
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../../packages/cli/bin/pcmims.js', import.meta.url))
const CLIENT = fileURLToPath(new URL('./ingest-client.js', import.meta.url))
const MiB = 1024 * 1024

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
  const node = await startNodeProcess(join(dir, 'node'))
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

function label(size: number): string {
  return size >= 1024 * MiB ? `${size / 1024 / MiB} GiB` : `${size / MiB} MiB`
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

/** Single-core AES-256-GCM and SHA-256 throughput of this machine (Node's OpenSSL), on 256 MiB. */
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

async function writeRandomFile(path: string, size: number): Promise<void> {
  const stream = createWriteStream(path)
  // One random MiB repeated with a counter: incompressible enough, and fast to produce.
  const block = randomBytes(MiB)
  for (let written = 0; written < size; written += MiB) {
    block.writeUInt32LE(written / MiB, 0)
    const piece = block.subarray(0, Math.min(MiB, size - written))
    if (!stream.write(piece)) await new Promise<void>((r) => stream.once('drain', () => r()))
  }
  await new Promise<void>((resolve, reject) =>
    stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
  )
}

async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const match = /VmHWM:\s+(\d+) kB/.exec(status)
  return match ? Number(match[1]) * 1024 : Number.NaN
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

type NodeProcess = {
  url: string
  accounts: Array<{ role: string; keystore: string; passphrase: string; address: string }>
  process: ChildProcess
  stop(): Promise<void>
}

async function startNodeProcess(dataDir: string): Promise<NodeProcess> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'start',
      '--json',
      '--data-dir',
      dataDir,
      '--port',
      String(await freePort()),
      '--chain-port',
      String(await freePort()),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PCMIMS_LOG_LEVEL: 'warn' } },
  )
  let buffer = ''
  const started = await new Promise<{ url: string; accounts: NodeProcess['accounts'] }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('node did not start in 120 s')), 120_000)
    child.stdout?.on('data', (data) => {
      buffer += data
      // The start document is pretty-printed JSON; log lines are single-line JSON with a "level".
      const start = buffer.indexOf('{\n')
      if (start >= 0) {
        try {
          const doc = JSON.parse(buffer.slice(start))
          clearTimeout(timer)
          resolve(doc)
        } catch {
          // not complete yet
        }
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`node exited with ${code}`))
    })
  })
  child.stderr?.resume()
  return {
    ...started,
    process: child,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
    },
  }
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
