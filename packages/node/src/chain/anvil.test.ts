import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AnvilError,
  isLoopbackHost,
  resolveAnvilBinary,
  type StartAnvilReturnType,
  startAnvil,
} from './anvil.js'

const started: StartAnvilReturnType[] = []
const dirs: string[] = []

afterEach(async () => {
  await Promise.all(started.splice(0).map((a) => a.stop()))
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pcmims-anvil-'))
  dirs.push(dir)
  return dir
}

async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await response.json()) as { result?: T; error?: { message: string } }
  if (body.error) throw new Error(body.error.message)
  return body.result as T
}

/** eth_sendTransaction answers before anvil's automine has run: wait for the receipt. */
async function mined(url: string, hash: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await rpc(url, 'eth_getTransactionReceipt', [hash])) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`${hash} not mined`)
}

async function launch(params: Parameters<typeof startAnvil>[0] = {}) {
  const anvil = await startAnvil({ silent: true, ...params })
  started.push(anvil)
  return anvil
}

const SINK = '0x000000000000000000000000000000000000bEEF'

describe('startAnvil', () => {
  it('finds the platform binary of @foundry-rs/anvil', () => {
    expect(resolveAnvilBinary()).toMatch(/anvil(\.exe)?$/)
  })

  it('starts on a free loopback port with the requested chain id', async () => {
    const anvil = await launch({ chainId: 4242 })
    expect(anvil.port).toBeGreaterThan(0)
    expect(anvil.rpcUrl).toBe(`http://127.0.0.1:${anvil.port}`)
    expect(await rpc(anvil.rpcUrl, 'eth_chainId')).toBe('0x1092')
    const other = await launch()
    expect(other.port).not.toBe(anvil.port)
  })

  it('persists state: dump, stop, restart from the file keeps a transferred balance', async () => {
    const statePath = join(await tempDir(), 'chain', 'state.json')
    const first = await launch({ statePath, accounts: 2 })
    const [from] = await rpc<string[]>(first.rpcUrl, 'eth_accounts')
    const hash = await rpc<string>(first.rpcUrl, 'eth_sendTransaction', [{ from, to: SINK, value: '0x2a' }])
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/)
    await mined(first.rpcUrl, hash)
    await first.dumpState()
    const dumped = JSON.parse(await readFile(statePath, 'utf8')) as {
      accounts: Record<string, { balance: string }>
    }
    expect(dumped.accounts[SINK.toLowerCase()]?.balance).toBe('0x2a')
    await first.stop()
    expect(first.process.exitCode !== null || first.process.signalCode !== null).toBe(true)

    const second = await launch({ statePath, accounts: 2 })
    expect(await rpc(second.rpcUrl, 'eth_getBalance', [SINK, 'latest'])).toBe('0x2a')
    expect(await rpc(second.rpcUrl, 'eth_blockNumber')).toBe('0x1')
  })

  it('writes the state on a graceful stop too (anvil --state)', async () => {
    const statePath = join(await tempDir(), 'state.json')
    const first = await launch({ statePath })
    const [from] = await rpc<string[]>(first.rpcUrl, 'eth_accounts')
    await mined(
      first.rpcUrl,
      await rpc(first.rpcUrl, 'eth_sendTransaction', [{ from, to: SINK, value: '0x07' }]),
    )
    await first.stop()
    const second = await launch({ statePath })
    expect(await rpc(second.rpcUrl, 'eth_getBalance', [SINK, 'latest'])).toBe('0x7')
  })

  it('dumps periodically with stateInterval while running', async () => {
    const statePath = join(await tempDir(), 'state.json')
    const anvil = await launch({ statePath, stateInterval: 1 })
    const [from] = await rpc<string[]>(anvil.rpcUrl, 'eth_accounts')
    await mined(
      anvil.rpcUrl,
      await rpc(anvil.rpcUrl, 'eth_sendTransaction', [{ from, to: SINK, value: '0x05' }]),
    )
    let balance: string | undefined
    for (let i = 0; i < 40 && balance !== '0x5'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      try {
        const state = JSON.parse(await readFile(statePath, 'utf8')) as {
          accounts: Record<string, { balance: string }>
        }
        balance = state.accounts[SINK.toLowerCase()]?.balance
      } catch {
        // not written yet, or written while we read
      }
    }
    expect(balance).toBe('0x5')
    expect(anvil.process.exitCode).toBeNull()
    await expect(startAnvil({ stateInterval: 1, silent: true })).rejects.toMatchObject({
      code: 'ANVIL_INVALID_PARAMETER',
    })
  })

  it('refuses any host that is not loopback', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.org']) {
      await expect(startAnvil({ host, silent: true })).rejects.toMatchObject({
        code: 'ANVIL_HOST_NOT_LOOPBACK',
      })
    }
    expect(isLoopbackHost('127.0.0.1')).toBe(true)
    expect(isLoopbackHost('127.3.2.1')).toBe(true)
    expect(isLoopbackHost('::1')).toBe(true)
    expect(isLoopbackHost('[::1]')).toBe(true)
    expect(isLoopbackHost('localhost')).toBe(true)
    expect(isLoopbackHost('128.0.0.1')).toBe(false)
  })

  it('fails clearly when anvil exits during start', async () => {
    const statePath = join(await tempDir(), 'broken.json')
    await writeFile(statePath, '{ this is not a state file')
    const error = await startAnvil({ statePath, silent: true }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AnvilError)
    expect((error as AnvilError).code).toBe('ANVIL_EXITED')
  })

  it('stops when the signal aborts', async () => {
    const controller = new AbortController()
    const anvil = await launch({ signal: controller.signal })
    const exited = new Promise((resolve) => anvil.process.once('exit', resolve))
    controller.abort()
    await exited
    await expect(rpc(anvil.rpcUrl, 'eth_chainId')).rejects.toThrow()
  })

  it('an already aborted signal prevents the start', async () => {
    await expect(startAnvil({ signal: AbortSignal.abort(), silent: true })).rejects.toThrow()
  })
})
