import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Address } from 'viem'

const CLI = fileURLToPath(new URL('../../packages/cli/bin/pcmims.js', import.meta.url))
export const MiB = 1024 * 1024

/** A file of `size` bytes (a random MiB repeated with a counter); resolves to its SHA-256 (hex). */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  const stream = createWriteStream(path)
  const hash = createHash('sha256')
  // Incompressible enough, and fast to produce.
  const block = randomBytes(MiB)
  for (let written = 0; written < size; written += MiB) {
    block.writeUInt32LE(written / MiB, 0)
    const piece = block.subarray(0, Math.min(MiB, size - written))
    hash.update(piece)
    if (!stream.write(piece)) await new Promise<void>((r) => stream.once('drain', () => r()))
  }
  await new Promise<void>((resolve, reject) =>
    stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
  )
  return hash.digest('hex')
}

export function label(size: number): string {
  return size >= MiB ? `${round(size / MiB)} MiB` : `${round(size / 1024)} KiB`
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

/** A process's peak resident memory (Linux `VmHWM`), in bytes; NaN where it cannot be read. */
export async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const match = /VmHWM:\s+(\d+) kB/.exec(status)
  return match ? Number(match[1]) * 1024 : Number.NaN
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

export type NodeProcess = {
  url: string
  rpcUrl: string
  chainId: number
  contract: Address
  accounts: Array<{ role: string; keystore: string; passphrase: string; address: string }>
  process: ChildProcess
  stop(): Promise<void>
}

/**
 * `pcmims start --json` in its own process on free loopback ports (with a config file if given);
 * resolves with its start document once it serves.
 */
export async function startNodeProcess(
  dataDir: string,
  options: { configFile?: string | undefined; env?: Record<string, string> | undefined } = {},
): Promise<NodeProcess> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'start',
      '--json',
      '--data-dir',
      dataDir,
      ...(options.configFile ? ['--config', options.configFile] : []),
      '--port',
      String(await freePort()),
      '--chain-port',
      String(await freePort()),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
  )
  let stderr = ''
  child.stderr?.on('data', (data) => {
    stderr = `${stderr}${data}`.slice(-10_000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const started = await new Promise<Omit<NodeProcess, 'process' | 'stop'>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the node did not start in 120 s\n${stderr}`)), 120_000)
    let document: string[] | undefined
    // stdout carries the pretty-printed start document (log lines go to stderr).
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line === '{') document = []
      if (!document) return
      document.push(line)
      if (line === '}') {
        clearTimeout(timer)
        resolve(JSON.parse(document.join('\n')))
      }
    })
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`the node exited during start\n${stderr}`))
    })
  })
  return {
    ...started,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      await exited
    },
  }
}
