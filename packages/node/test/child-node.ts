import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createPcmimsClient, decryptKeystore, type PcmimsClient } from '@pcmims/core'
import type { TestIdentity } from '@pcmims/test-utils'
import type { Address } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

/** The real `pcmims` executable, run on this process's Node (24). */
const CLI = fileURLToPath(new URL('../../cli/bin/pcmims.js', import.meta.url))

/** The one JSON document `pcmims start --json` prints once the node serves requests. */
export type StartInfo = {
  url: string
  chainId: number
  contract: Address
  rpcUrl: string
  unit: Address
  accounts: Array<{ role: string; name: string; address: Address; keystore: string; passphrase: string }>
}

export type ChildNode = {
  info: StartInfo
  process: ChildProcess
  pid: number
  /** Pid of the anvil this node started (from `<dataDir>/chain/anvil.pid`). */
  anvilPid: number
  /** pino records the node printed so far (on stdout or stderr). */
  logs: Array<Record<string, unknown>>
  stderr(): string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** A TCP port nothing listens on right now (the kernel's pick), for a node that must keep its ports across restarts. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * Runs `pcmims start --json` in a child process (in its own process group, so the node and its anvil
 * can be killed together) and resolves once it printed its start document.
 */
export async function startChildNode(params: {
  dataDir: string
  port: number
  chainPort: number
  timeoutMs?: number
}): Promise<ChildNode> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'start',
      '--data-dir',
      params.dataDir,
      '--port',
      String(params.port),
      '--chain-port',
      String(params.chainPort),
      '--json',
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PCMIMS_DEBUG: '1' } },
  )
  const pid = child.pid
  if (pid === undefined) throw new Error('could not spawn the node')
  const logs: Array<Record<string, unknown>> = []
  let stderr = ''
  const keepLog = (line: string) => {
    if (!line.startsWith('{"level"')) return false
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      // a log line cut by the kill
    }
    return true
  }
  // The node logs JSON lines (pino); which stream they go to is the CLI's choice, so read both.
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
    if (!keepLog(line)) stderr = `${stderr}${line}\n`.slice(-20_000)
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  // stdout mixes one-line pino records with the pretty-printed (multi-line) start document.
  const info = await new Promise<StartInfo>((resolve, reject) => {
    let document: string[] | undefined
    const timer = setTimeout(() => {
      reject(new Error(`the node did not start in time\n${stderr}`))
    }, params.timeoutMs ?? 60_000)
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (document) {
        document.push(line)
        if (line === '}') {
          clearTimeout(timer)
          resolve(JSON.parse(document.join('\n')) as StartInfo)
          document = undefined
        }
      } else if (line === '{') {
        document = [line]
      } else {
        keepLog(line)
      }
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`the node exited during start (${code ?? signal})\n${stderr}`))
    })
  }).catch((error: unknown) => {
    killEverything(pid, params.dataDir)
    throw error
  })
  const anvilPid = anvilPidOf(await readFile(join(params.dataDir, 'chain', 'anvil.pid'), 'utf8'))
  return { info, process: child, pid, anvilPid, logs, stderr: () => stderr, exited }
}

/** True while `pid` runs (a zombie, killed but not yet reaped, counts as gone: it holds no ports). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may contain spaces, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true
  }
}

export async function waitUntilDead(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still alive`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Last-resort cleanup: the node's process group, and whatever anvil the data dir's pid file names. */
export function killEverything(pid: number | undefined, dataDir: string): void {
  if (pid !== undefined) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
  const pidFile = join(dataDir, 'chain', 'anvil.pid')
  if (!existsSync(pidFile)) return
  const anvil = anvilPidOf(readFileSync(pidFile, 'utf8'))
  if (!Number.isInteger(anvil) || anvil <= 0) return
  try {
    if (readFileSync(`/proc/${anvil}/cmdline`, 'utf8').includes('anvil')) process.kill(anvil, 'SIGKILL')
  } catch {
    // gone
  }
}

export type DevIdentities = Record<string, TestIdentity>

/** Opens the dev keystores the start document names (cheap: the dev scrypt cost is low). */
export async function devIdentities(info: StartInfo): Promise<DevIdentities> {
  const out: DevIdentities = {}
  for (const account of info.accounts) {
    const opened = await decryptKeystore({
      keystore: await readFile(account.keystore, 'utf8'),
      passphrase: account.passphrase,
    })
    out[account.role] = {
      account: privateKeyToAccount(opened.privateKey),
      privateKey: opened.privateKey,
      encryptionKeyPair: opened.encryptionKeyPair,
    }
  }
  return out
}

export function clientFor(info: StartInfo, who: TestIdentity): Promise<PcmimsClient> {
  return createPcmimsClient({
    nodeUrl: info.url,
    account: who.account,
    encryptionKeyPair: who.encryptionKeyPair,
  })
}

export type Health = {
  status: string
  chain: { ok: boolean; blockNumber?: string; indexedBlock?: string }
  outbox: { queued: number; submitted: number; confirmed: number; failed: number }
}

export async function health(url: string): Promise<Health> {
  const response = await fetch(`${url}/api/v1/health`)
  return (await response.json()) as Health
}

/** Waits until the outbox has nothing queued or in flight. */
export async function waitForOutboxDrained(url: string, timeoutMs = 60_000): Promise<Health> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const h = await health(url).catch(() => undefined)
    if (h && h.status === 'ok' && h.outbox.queued === 0 && h.outbox.submitted === 0) return h
    if (Date.now() > deadline) throw new Error(`outbox not drained: ${JSON.stringify(h)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export async function jsonRpc<T>(rpcUrl: string, method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await response.json()) as { result?: T; error?: { message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result as T
}

/** `<dataDir>/chain/anvil.pid` holds `{ pid, rpcUrl }`. */
function anvilPidOf(text: string): number {
  try {
    return Number((JSON.parse(text) as { pid?: unknown }).pid)
  } catch {
    return Number.NaN
  }
}
