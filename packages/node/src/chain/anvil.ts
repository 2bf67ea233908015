import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, open, rename } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { isIP } from 'node:net'
import { dirname, join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { BaseError } from '@pcmims/core'

export type StartAnvilParameters = {
  /** Loopback address to listen on; anything else is refused. Default 127.0.0.1. */
  host?: string | undefined
  /** 0 or undefined: anvil picks a free port and we read it from its banner. */
  port?: number | undefined
  chainId?: number | undefined
  /** State file: loaded on start when it exists (`--load-state`); written atomically by `dumpState()`, periodically and on `stop()`. */
  statePath?: string | undefined
  /** Also dump every N seconds (needs `statePath`). */
  stateInterval?: number | undefined
  mnemonic?: string | undefined
  /** Number of funded dev accounts (anvil default 10). */
  accounts?: number | undefined
  /** Aborting stops anvil (as `stop()` does) or cancels a start in progress. */
  signal?: AbortSignal | undefined
  /** Do not forward anvil's log to this process's stdout/stderr. Default false. */
  silent?: boolean | undefined
  /** How long to wait for JSON-RPC to answer. Default 30 s. */
  startTimeoutMs?: number | undefined
}

export type StartAnvilReturnType = {
  rpcUrl: string
  port: number
  process: ChildProcess
  /** Fetches the state with `anvil_dumpState` and atomically writes it to `statePath` (no-op without one). */
  dumpState(): Promise<void>
  /** Dumps the state (if any), then SIGTERM, SIGKILL if it has not exited after `timeoutMs` (default 10 s). */
  stop(options?: { timeoutMs?: number }): Promise<void>
}

/** Thrown when anvil cannot be found, refuses to start, or does not answer. `code` is stable (`ANVIL_*`). */
export class AnvilError extends BaseError {
  override name = 'AnvilError'

  constructor(message: string, params: { code: string; details?: string | undefined; cause?: unknown }) {
    super(message, params)
  }
}

const require = createRequire(import.meta.url)

const platformPackages: Record<string, string> = {
  'linux-x64': '@foundry-rs/anvil-linux-amd64',
  'linux-arm64': '@foundry-rs/anvil-linux-arm64',
  'darwin-x64': '@foundry-rs/anvil-darwin-amd64',
  'darwin-arm64': '@foundry-rs/anvil-darwin-arm64',
  'win32-x64': '@foundry-rs/anvil-win32-amd64',
}

/**
 * Path of the anvil binary shipped by `@foundry-rs/anvil`'s optional platform package. We spawn it directly:
 * the package's `bin.mjs` wrapper would sit between us and anvil and swallow signals and exit codes.
 */
export function resolveAnvilBinary(): string {
  const key = `${process.platform}-${process.arch}`
  const pkg = platformPackages[key]
  if (!pkg) throw new AnvilError(`No anvil binary for ${key}`, { code: 'ANVIL_UNSUPPORTED_PLATFORM' })
  const binary = process.platform === 'win32' ? 'anvil.exe' : 'anvil'
  const candidates: string[] = []
  try {
    candidates.push(require.resolve(`${pkg}/bin/${binary}`))
  } catch {
    // not resolvable from here: try next to the wrapper package
  }
  try {
    const wrapper = dirname(require.resolve('@foundry-rs/anvil/package.json'))
    candidates.push(join(wrapper, '..', 'dist', binary))
  } catch {
    // wrapper not installed either
  }
  const found = candidates.find((path) => existsSync(path))
  if (!found) {
    throw new AnvilError('The anvil binary is not installed', {
      code: 'ANVIL_NOT_FOUND',
      details: `install @foundry-rs/anvil with its optional dependency ${pkg}`,
    })
  }
  return found
}

/** True for 127.0.0.0/8, ::1 and `localhost`: the only addresses the embedded chain may listen on. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  const version = isIP(bare)
  if (version === 4) return bare.split('.')[0] === '127'
  if (version === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1'
  return false
}

/** Starts a local anvil dev chain on loopback and resolves once it answers JSON-RPC. */
export async function startAnvil(params: StartAnvilParameters = {}): Promise<StartAnvilReturnType> {
  const { signal, silent = false, statePath } = params
  const host = params.host ?? '127.0.0.1'
  signal?.throwIfAborted()
  if (!isLoopbackHost(host)) {
    throw new AnvilError('anvil may only listen on a loopback address', {
      code: 'ANVIL_HOST_NOT_LOOPBACK',
      details: `host ${host}`,
    })
  }
  if (
    params.port !== undefined &&
    (!Number.isInteger(params.port) || params.port < 0 || params.port > 65535)
  ) {
    throw new AnvilError('Invalid anvil port', {
      code: 'ANVIL_INVALID_PARAMETER',
      details: `port ${params.port}`,
    })
  }
  if (params.stateInterval !== undefined && statePath === undefined) {
    throw new AnvilError('stateInterval needs a statePath', { code: 'ANVIL_INVALID_PARAMETER' })
  }

  const args = ['--host', host === 'localhost' ? '127.0.0.1' : host, '--port', String(params.port ?? 0)]
  if (params.chainId !== undefined) args.push('--chain-id', String(params.chainId))
  if (params.mnemonic !== undefined) args.push('--mnemonic', params.mnemonic)
  if (params.accounts !== undefined) args.push('--accounts', String(params.accounts))
  if (statePath !== undefined) {
    await mkdir(dirname(statePath), { recursive: true })
    // Only load: anvil's own `--state` writing truncates the file in place, so a crash mid-write
    // leaves a file it cannot read back. Every write goes through dumpState() (temp file, fsync,
    // rename) instead: periodically, on demand, and before stop().
    if (existsSync(statePath)) args.push('--load-state', statePath)
  }

  // ANVIL_IP_ADDR would override the host we chose; never let the environment widen it.
  const { ANVIL_IP_ADDR: _ignored, ...env } = process.env
  const child = spawn(resolveAnvilBinary(), args, { env, stdio: ['ignore', 'pipe', 'pipe'] })

  let log = ''
  const keepLog = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-8192)
  }
  child.stdout.on('data', (chunk: Buffer) => {
    keepLog(chunk)
    if (!silent) process.stdout.write(chunk)
  })
  child.stderr.on('data', (chunk: Buffer) => {
    keepLog(chunk)
    if (!silent) process.stderr.write(chunk)
  })

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, sig) => resolve({ code, signal: sig }))
  })
  let hasExited = false
  void exited.then(() => {
    hasExited = true
  })

  // Anvil dies with us: on a normal exit of this process it still gets SIGTERM (the last periodic or
  // explicit dump is what survives; the node re-checks its anchors on the next start).
  const onParentExit = () => {
    if (!hasExited) child.kill('SIGTERM')
  }
  process.once('exit', onParentExit)

  const stop = async (options: { timeoutMs?: number } = {}): Promise<void> => {
    signal?.removeEventListener('abort', onAbort)
    process.off('exit', onParentExit)
    if (hasExited || child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timeoutMs = options.timeoutMs ?? 10_000
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    const result = await Promise.race([exited, timedOut])
    clearTimeout(timer)
    if (result === 'timeout') {
      child.kill('SIGKILL')
      await exited
    }
  }
  const onAbort = () => {
    void stop()
  }
  signal?.addEventListener('abort', onAbort, { once: true })

  let port: number
  try {
    port = await waitForPort(child, exited, () => log, params.startTimeoutMs ?? 30_000, signal)
  } catch (error) {
    await stop({ timeoutMs: 2_000 })
    throw error
  }
  const rpcHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  const rpcUrl = `http://${rpcHost}:${port}`
  try {
    await waitForRpc(rpcUrl, exited, () => log, params.startTimeoutMs ?? 30_000, signal)
  } catch (error) {
    await stop({ timeoutMs: 2_000 })
    throw error
  }

  let dumping: Promise<void> = Promise.resolve()
  const dumpOnce = async (): Promise<void> => {
    if (statePath === undefined) return
    // anvil_dumpState answers hex-encoded gzip of the same JSON `--load-state` reads.
    const hex = await rpc<string>(rpcUrl, 'anvil_dumpState', [])
    if (typeof hex !== 'string' || !hex.startsWith('0x')) {
      throw new AnvilError('anvil_dumpState returned an unexpected value', { code: 'ANVIL_DUMP_FAILED' })
    }
    const json = gunzipSync(Buffer.from(hex.slice(2), 'hex'))
    const tmp = `${statePath}.${process.pid}.tmp`
    const handle = await open(tmp, 'w')
    try {
      await handle.writeFile(json)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(tmp, statePath)
    const dir = await open(dirname(statePath), 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  }
  // One dump at a time: they share the temp file name.
  const dumpState = (): Promise<void> => {
    const next = dumping.then(dumpOnce, dumpOnce)
    dumping = next.catch(() => undefined)
    return next
  }
  let interval: NodeJS.Timeout | undefined
  if (statePath !== undefined && params.stateInterval !== undefined) {
    interval = setInterval(() => {
      if (!hasExited) void dumpState().catch(() => undefined)
    }, params.stateInterval * 1000)
    interval.unref()
  }
  const stopAndDump = async (options: { timeoutMs?: number } = {}): Promise<void> => {
    if (interval) clearInterval(interval)
    if (!hasExited && statePath !== undefined) await dumpState().catch(() => undefined)
    await stop(options)
  }

  return { rpcUrl, port, process: child, dumpState, stop: stopAndDump }
}

const listening = /Listening on (\S+):(\d+)/

async function waitForPort(
  child: ChildProcess,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  log: () => string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let seen = ''
    const cleanup = () => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      signal?.removeEventListener('abort', onAbort)
    }
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-4096)
      const match = listening.exec(seen)
      if (match) {
        cleanup()
        resolve(Number(match[2]))
      }
    }
    const onAbort = () => {
      cleanup()
      reject(signal?.reason ?? new Error('aborted'))
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(
        new AnvilError('anvil did not start in time', { code: 'ANVIL_START_TIMEOUT', details: tail(log()) }),
      )
    }, timeoutMs)
    child.stdout?.on('data', onData)
    signal?.addEventListener('abort', onAbort, { once: true })
    void exited.then(({ code, signal: sig }) => {
      cleanup()
      reject(
        new AnvilError('anvil exited during start', {
          code: 'ANVIL_EXITED',
          details: `exit ${code ?? sig}: ${tail(log())}`,
        }),
      )
    })
  })
}

async function waitForRpc(
  rpcUrl: string,
  exited: Promise<unknown>,
  log: () => string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  let dead = false
  void exited.then(() => {
    dead = true
  })
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    signal?.throwIfAborted()
    if (dead)
      throw new AnvilError('anvil exited during start', { code: 'ANVIL_EXITED', details: tail(log()) })
    try {
      await rpc(rpcUrl, 'eth_chainId', [])
      return
    } catch (error) {
      lastError = error
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  throw new AnvilError('anvil does not answer JSON-RPC', {
    code: 'ANVIL_START_TIMEOUT',
    details: tail(log()),
    cause: lastError,
  })
}

async function rpc<T>(rpcUrl: string, method: string, params: unknown[]): Promise<T> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  if (!response.ok) throw new Error(`${method}: HTTP ${response.status}`)
  const body = (await response.json()) as { result?: T; error?: { message?: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message ?? 'error'}`)
  return body.result as T
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-10).join('\n')
}
