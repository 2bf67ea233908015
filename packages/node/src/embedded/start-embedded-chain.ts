import { existsSync, readFileSync } from 'node:fs'
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import {
  admitUnit,
  approveParticipant,
  deployPcmims,
  deriveEncryptionKeyPair,
  getParticipant,
  registerParticipant,
} from '@pcmims/core'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type PublicClient,
  toHex,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { type StartAnvilReturnType, startAnvil } from '../chain/anvil.js'
import type { NodeConfig } from '../config.js'
import type { Logger } from '../logger.js'
import { type DevAccount, writeDevAccounts } from './dev-accounts.js'

export type EmbeddedChain = {
  anvil: StartAnvilReturnType
  rpcUrl: string
  chainId: number
  contract: Address
  deploymentBlock: bigint
  /** True when the contract had to be (re)deployed: the chain is new or lost its state. */
  freshDeployment: boolean
  devAccounts: DevAccount[]
  /** Names the running anvil, so a node killed before it could stop anvil can clean up next time. */
  pidFile: string
}

type Deployment = { contract: Address; chainId: number; block: string }

/**
 * The one-machine default: an anvil chain whose state lives in `<dataDir>/chain`, the contract
 * deployed on first start (and again if the chain lost it), and a demo health unit with one approved
 * account per role. Every step is idempotent, so a restart after a crash fills in what the chain lost.
 */
export async function startEmbeddedChain(config: NodeConfig, logger: Logger): Promise<EmbeddedChain> {
  if (config.chain.mode !== 'embedded') throw new Error('not an embedded chain configuration')
  const dir = join(config.dataDir, 'chain')
  await mkdir(dir, { recursive: true })
  await stopStaleAnvil(join(dir, 'anvil.pid'), join(dir, 'state.json'), logger)
  const anvil = await startAnvil({
    port: config.chain.port,
    chainId: config.chain.chainId,
    statePath: join(dir, 'state.json'),
    stateInterval: config.chain.stateInterval,
    silent: true,
  })
  await writeFile(join(dir, 'anvil.pid'), JSON.stringify({ pid: anvil.process.pid, rpcUrl: anvil.rpcUrl }))
  try {
    const chain = defineChain({
      id: config.chain.chainId,
      name: 'pcmims-embedded',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    })
    const publicClient = createPublicClient({ chain, transport: http(anvil.rpcUrl) }) as PublicClient
    const devAccounts = await writeDevAccounts(config.dataDir)
    const key = (role: string) => devAccounts.find((a) => a.role === role)?.privateKey as Hex
    const walletFor = (role: string) =>
      createWalletClient({ chain, transport: http(anvil.rpcUrl), account: privateKeyToAccount(key(role)) })

    const deploymentFile = join(dir, 'deployment.json')
    let deployment: Deployment | undefined = existsSync(deploymentFile)
      ? (JSON.parse(readFileSync(deploymentFile, 'utf8')) as Deployment)
      : undefined
    let freshDeployment = false
    const code = deployment ? await publicClient.getCode({ address: deployment.contract }) : undefined
    if (!deployment || !code || code === '0x') {
      if (deployment)
        logger.warn({ contract: deployment.contract }, 'the chain lost the contract: deploying again')
      const deployed = await deployPcmims(walletFor('governance'), {
        governance: privateKeyToAccount(key('governance')).address,
      })
      deployment = {
        contract: deployed.address,
        chainId: config.chain.chainId,
        block: String(deployed.blockNumber),
      }
      await writeFile(deploymentFile, `${JSON.stringify(deployment, null, 2)}\n`)
      freshDeployment = true
    }
    await bootstrapDevUnit(publicClient, deployment.contract, devAccounts, walletFor)
    await anvil.dumpState()
    return {
      anvil,
      rpcUrl: anvil.rpcUrl,
      chainId: config.chain.chainId,
      contract: deployment.contract,
      deploymentBlock: BigInt(deployment.block),
      freshDeployment,
      devAccounts,
      pidFile: join(dir, 'anvil.pid'),
    }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}

/** Admits the demo unit and registers + approves one account per role, skipping what is already done. */
async function bootstrapDevUnit(
  publicClient: PublicClient,
  contract: Address,
  accounts: DevAccount[],
  walletFor: (role: string) => ReturnType<typeof createWalletClient>,
): Promise<void> {
  const unit = accounts.find((a) => a.role === 'unit') as DevAccount
  const unitInfo = await getParticipant(publicClient, { contract, account: unit.address })
  const keyOf = async (account: DevAccount) =>
    toHex((await deriveEncryptionKeyPair(account.privateKey)).publicKey)
  if (unitInfo.status === 'None') {
    await admitUnit(walletFor('governance') as never, {
      contract,
      unit: unit.address,
      encryptionKey: await keyOf(unit),
    })
  }
  const roles = { patient: 'Patient', uploader: 'Uploader', medic: 'Medic', requestor: 'Requestor' } as const
  for (const [role, chainRole] of Object.entries(roles)) {
    const account = accounts.find((a) => a.role === role) as DevAccount
    let info = await getParticipant(publicClient, { contract, account: account.address })
    if (info.status === 'None' || info.status === 'Rejected') {
      await registerParticipant(walletFor(role) as never, {
        contract,
        unit: unit.address,
        role: chainRole,
        encryptionKey: await keyOf(account),
      })
      info = await getParticipant(publicClient, { contract, account: account.address })
    }
    if (info.status === 'Pending' || info.status === 'Suspended') {
      await approveParticipant(walletFor('unit') as never, { contract, account: account.address })
    }
  }
}

/**
 * An anvil left running by a node that was killed: save its state first (it may hold anchors made
 * since the last dump), then stop it.
 */
async function stopStaleAnvil(pidFile: string, statePath: string, logger: Logger): Promise<void> {
  if (!existsSync(pidFile)) return
  let stale: { pid?: unknown; rpcUrl?: unknown } = {}
  try {
    stale = JSON.parse(await readFile(pidFile, 'utf8'))
  } catch {
    stale = {}
  }
  await rm(pidFile, { force: true })
  const pid = Number(stale.pid)
  if (!Number.isInteger(pid) || pid <= 0 || !isAnvil(pid)) return
  logger.warn({ pid }, 'stopping an anvil left over from a previous run')
  if (typeof stale.rpcUrl === 'string' && /^http:\/\/127\.0\.0\.1:\d+$/.test(stale.rpcUrl)) {
    await saveState(stale.rpcUrl, statePath).catch((error: Error) =>
      logger.warn({ error: error.message }, 'could not save the leftover chain state'),
    )
  }
  process.kill(pid, 'SIGTERM')
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100))
  if (alive(pid)) process.kill(pid, 'SIGKILL')
}

async function saveState(rpcUrl: string, statePath: string): Promise<void> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_dumpState', params: [] }),
    signal: AbortSignal.timeout(10_000),
  })
  const { result } = (await response.json()) as { result?: string }
  if (typeof result !== 'string' || !result.startsWith('0x')) throw new Error('no state returned')
  const tmp = `${statePath}.stale.tmp`
  const handle = await open(tmp, 'w')
  try {
    await handle.writeFile(gunzipSync(Buffer.from(result.slice(2), 'hex')))
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(tmp, statePath)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function isAnvil(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('anvil')
  } catch {
    return alive(pid)
  }
}
