import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  admitUnit,
  approveParticipant,
  createPcmimsClient,
  encryptKeystore,
  type PcmimsClient,
  registerParticipant,
} from '@pcmims/core'
import { defaultConfig, type NodeConfig, type NodeHandle, startNode } from '@pcmims/node'
import { identity, type TestChain, type TestIdentity } from '@pcmims/test-utils'
import { toHex } from 'viem'
import { generatePrivateKey } from 'viem/accounts'

export type RpcParticipantRole = 'Patient' | 'Uploader' | 'Medic' | 'Requestor'

export type RpcNode = {
  node: NodeHandle
  /** The health unit the node acts for (its operator key is in the node's keystore). */
  unit: TestIdentity & { client: PcmimsClient }
  dataDir: string
  /** A client for `who` on this node; its chain calls go to the URL the node advertises. */
  clientFor(who: TestIdentity, options?: { fetch?: typeof fetch }): Promise<PcmimsClient>
  /** A fresh account with 100 ETH, not registered. */
  newIdentity(): Promise<TestIdentity>
  /** A fresh account registered at the node's unit in `role` and approved by the unit. */
  participant(role: RpcParticipantRole): Promise<TestIdentity & { client: PcmimsClient }>
  /** Stops the node and removes its data directory (the chain is the caller's). */
  stop(): Promise<void>
}

export type StartRpcNodeParameters = {
  chain: TestChain
  /** The RPC URL the node uses (default: the chain's own); clients are always given the chain's own. */
  rpcUrl?: string | undefined
  /** Replaces whole sections of the node's configuration. */
  config?: Partial<NodeConfig> | undefined
}

/**
 * A node on a chain it does not run (any EVM JSON-RPC endpoint with the contract already deployed), as
 * a hospital joining a network would: governance admits its unit, its operator key sits in a keystore,
 * its participants register at the unit and the unit approves them.
 */
export async function startRpcNode(params: StartRpcNodeParameters): Promise<RpcNode> {
  const { chain } = params
  const dataDir = await mkdtemp(join(tmpdir(), 'pcmims-rpc-'))
  try {
    const newIdentity = async () => {
      const who = await identity(generatePrivateKey())
      await chain.publicClient.request({
        method: 'anvil_setBalance' as never,
        params: [who.account.address, '0x56BC75E2D63100000'] as never,
      })
      return who
    }
    const unitIdentity = await newIdentity()
    await admitUnit(chain.walletClientFor(chain.governance), {
      contract: chain.contract,
      unit: unitIdentity.account.address,
      encryptionKey: toHex(unitIdentity.encryptionKeyPair.publicKey),
    })
    const keystore = join(dataDir, 'unit.json')
    await writeFile(
      keystore,
      JSON.stringify(
        await encryptKeystore({
          privateKey: unitIdentity.privateKey,
          passphrase: 'unit pass',
          kdfParams: { n: 2 ** 12 },
        }),
      ),
    )
    const node = await startNode({
      config: {
        ...defaultConfig(join(dataDir, 'node')),
        port: 0,
        dev: false,
        logLevel: 'silent',
        chain: {
          mode: 'rpc',
          rpcUrl: params.rpcUrl ?? chain.rpcUrl,
          publicRpcUrl: chain.rpcUrl,
          contract: chain.contract,
          fromBlock: 0,
          confirmations: 0,
        },
        unit: { keystore, passphraseEnv: 'UNUSED' },
        ...params.config,
      },
      unitPassphrase: 'unit pass',
    })
    const clientFor = (who: TestIdentity, options: { fetch?: typeof fetch } = {}) =>
      createPcmimsClient({
        nodeUrl: node.url,
        account: who.account,
        encryptionKeyPair: who.encryptionKeyPair,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      })
    const unit = { ...unitIdentity, client: await clientFor(unitIdentity) }
    return {
      node,
      unit,
      dataDir,
      clientFor,
      newIdentity,
      async participant(role) {
        const who = await newIdentity()
        const client = await clientFor(who)
        await registerParticipant(client.walletClient, {
          contract: chain.contract,
          unit: unit.account.address,
          role,
          encryptionKey: toHex(who.encryptionKeyPair.publicKey),
        })
        await approveParticipant(unit.client.walletClient, {
          contract: chain.contract,
          account: who.account.address,
        })
        return { ...who, client }
      },
      async stop() {
        await node.stop()
        await rm(dataDir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true })
    throw error
  }
}
