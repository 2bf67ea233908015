import {
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type LocalAccount,
  type PublicClient,
  type WalletClient,
} from 'viem'
import type { EncryptionKeyPair } from '../crypto/encryption-key-pair.js'
import { createNodeClient, type NodeClient } from './node-client.js'

export type NodeConfigView = {
  chainId: number
  contract: Address
  rpcUrl: string
  /** The custodian health unit this node acts for. */
  unit: Address
  limits: { maxBlobBytes: number; maxJsonBytes: number }
}

/** Everything a user's client needs: their keys, their node, and the chain the node names. */
export type PcmimsClient = {
  account: LocalAccount
  encryptionKeyPair: EncryptionKeyPair
  node: NodeClient
  config: NodeConfigView
  publicClient: PublicClient
  walletClient: WalletClient
}

export type CreatePcmimsClientParameters = {
  nodeUrl: string
  account: LocalAccount
  encryptionKeyPair: EncryptionKeyPair
  /** Overrides the chain RPC URL the node advertises. */
  rpcUrl?: string | undefined
  fetch?: typeof fetch
  signal?: AbortSignal
}

export async function createPcmimsClient(params: CreatePcmimsClientParameters): Promise<PcmimsClient> {
  const node = createNodeClient({
    url: params.nodeUrl,
    account: params.account,
    ...(params.fetch ? { fetch: params.fetch } : {}),
  })
  const config = await node.json<NodeConfigView>('GET', '/api/v1/config', { signal: params.signal })
  const rpcUrl = params.rpcUrl ?? config.rpcUrl
  const chain = defineChain({
    id: config.chainId,
    name: `pcmims-${config.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  })
  const transport = http(rpcUrl, { retryCount: 1 })
  return {
    account: params.account,
    encryptionKeyPair: params.encryptionKeyPair,
    node,
    config,
    publicClient: createPublicClient({ chain, transport }) as PublicClient,
    walletClient: createWalletClient({ chain, transport, account: params.account }),
  }
}
