import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createPcmimsClient,
  deriveEncryptionKeyPair,
  type EncryptionKeyPair,
  type PcmimsClient,
} from '@pcmims/core'
import { defaultConfig, type NodeConfig, type NodeHandle, startNode } from '@pcmims/node'
import type { Hex, LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'

export type TestIdentity = { account: LocalAccount; privateKey: Hex; encryptionKeyPair: EncryptionKeyPair }

export type TestNode = {
  node: NodeHandle
  dataDir: string
  /** The development accounts the node created, by role (governance, unit, patient, uploader, medic, requestor). */
  dev: Record<string, TestIdentity>
  /** A client for one identity; `chainAccess: 'node'` sends its chain calls through the node's relay. */
  clientFor(identity: TestIdentity, options?: { chainAccess?: 'direct' | 'node' }): Promise<PcmimsClient>
  /** A fresh random identity funded from the governance account. */
  newIdentity(): Promise<TestIdentity>
  /** Moves the chain clock and mines a block. */
  increaseTime(seconds: number): Promise<void>
  rpc(method: string, params?: unknown[]): Promise<unknown>
  stop(options?: { keepData?: boolean }): Promise<void>
}

export type StartTestNodeParameters = {
  dataDir?: string | undefined
  config?: Partial<NodeConfig> | undefined
}

/** Starts a real node (embedded anvil, Helia, HTTP on 127.0.0.1 with free ports) in this process. */
export async function startTestNode(params: StartTestNodeParameters = {}): Promise<TestNode> {
  const dataDir = params.dataDir ?? (await mkdtemp(join(tmpdir(), 'pcmims-test-')))
  const base = defaultConfig(dataDir)
  const config: NodeConfig = {
    ...base,
    port: 0,
    chain: { mode: 'embedded', port: 0, chainId: 31337, stateInterval: 1 },
    logLevel: 'silent',
    ...params.config,
  }
  const node = await startNode({ config })
  const dev: Record<string, TestIdentity> = {}
  for (const account of node.devAccounts) {
    dev[account.role] = await identity(account.privateKey)
  }
  async function rpc(method: string, rpcParams: unknown[] = []): Promise<unknown> {
    const response = await fetch(node.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: rpcParams }),
    })
    const body = (await response.json()) as { result?: unknown; error?: { message: string } }
    if (body.error) throw new Error(body.error.message)
    return body.result
  }
  return {
    node,
    dataDir,
    dev,
    clientFor: (who, options = {}) =>
      createPcmimsClient({
        nodeUrl: node.url,
        account: who.account,
        encryptionKeyPair: who.encryptionKeyPair,
        chainAccess: options.chainAccess,
      }),
    async newIdentity() {
      const who = await identity(generatePrivateKey())
      await rpc('anvil_setBalance', [who.account.address, '0x3635C9ADC5DEA00000'])
      return who
    },
    async increaseTime(seconds) {
      await rpc('evm_increaseTime', [seconds])
      await rpc('evm_mine', [])
    },
    rpc,
    async stop(options = {}) {
      await node.stop()
      if (!options.keepData && !params.dataDir) await rm(dataDir, { recursive: true, force: true })
    },
  }
}

export async function identity(privateKey: Hex): Promise<TestIdentity> {
  return {
    account: privateKeyToAccount(privateKey),
    privateKey,
    encryptionKeyPair: await deriveEncryptionKeyPair(privateKey),
  }
}
