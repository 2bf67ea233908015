import {
  type Address,
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  http,
  type LocalAccount,
  type PublicClient,
  type WalletClient,
} from 'viem'
import type { EncryptionKeyPair } from '../crypto/encryption-key-pair.js'
import { createNodeClient, type NodeClient, type NodeSession } from './node-client.js'

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
  /** A session opened earlier, to reuse instead of signing in again. */
  session?: NodeSession | undefined
  /** Overrides the chain RPC URL the node advertises. */
  rpcUrl?: string | undefined
  /**
   * `node`: reach the chain through the node's authenticated relay (`/api/v1/chain/rpc`) — for users
   * who can reach their hospital's node but not the chain. Transactions are still signed here.
   */
  chainAccess?: 'direct' | 'node' | undefined
  fetch?: typeof fetch
  signal?: AbortSignal
}

export async function createPcmimsClient(params: CreatePcmimsClientParameters): Promise<PcmimsClient> {
  const node = createNodeClient({
    url: params.nodeUrl,
    account: params.account,
    session: params.session,
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
  const transport =
    params.chainAccess === 'node'
      ? custom(
          { request: ({ method, params: rpcParams }) => relay(node, method, rpcParams) },
          { retryCount: 0 },
        )
      : http(rpcUrl, { retryCount: 1 })
  return {
    account: params.account,
    encryptionKeyPair: params.encryptionKeyPair,
    node,
    config,
    publicClient: createPublicClient({ chain, transport }) as PublicClient,
    walletClient: createWalletClient({ chain, transport, account: params.account }),
  }
}

let relayId = 0

/** One JSON-RPC call through the node's relay; errors keep their JSON-RPC code so viem maps them. */
async function relay(node: NodeClient, method: string, params: unknown): Promise<unknown> {
  const answer = await node.json<{
    result?: unknown
    error?: { code: number; message: string; data?: unknown }
  }>('POST', '/api/v1/chain/rpc', { body: { jsonrpc: '2.0', id: ++relayId, method, params: params ?? [] } })
  if (answer.error) {
    throw Object.assign(new Error(answer.error.message), { code: answer.error.code, data: answer.error.data })
  }
  return answer.result
}
