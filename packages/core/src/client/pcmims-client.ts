import {
  type Account,
  type Address,
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  type EIP1193Provider,
  http,
  type LocalAccount,
  type PublicClient,
  toHex,
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
  /** A local key (keystore), or an injected wallet's account whose transactions the wallet signs. */
  account: Account
  encryptionKeyPair: EncryptionKeyPair
  node: NodeClient
  config: NodeConfigView
  publicClient: PublicClient
  walletClient: WalletClient
}

/** An injected EIP-1193 wallet (MetaMask and the like) that holds the account's signing key. */
export type PcmimsWallet = { provider: EIP1193Provider; address: Address }

export type CreatePcmimsClientParameters = {
  nodeUrl: string
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
} & (
  | { account: LocalAccount; wallet?: undefined }
  | {
      account?: undefined
      /**
       * Sign-in messages and transactions go to the wallet (`personal_sign`, `eth_sendTransaction`);
       * reads still go to the node's relay or the chain URL.
       */
      wallet: PcmimsWallet
    }
)

export async function createPcmimsClient(params: CreatePcmimsClientParameters): Promise<PcmimsClient> {
  const { wallet } = params
  const account: Account | undefined =
    params.account ?? (wallet && { address: wallet.address, type: 'json-rpc' })
  if (!account) throw new TypeError('createPcmimsClient needs an account or a wallet')
  const node = createNodeClient({
    url: params.nodeUrl,
    account: wallet ? walletSigner(wallet) : params.account,
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
  const walletTransport = wallet
    ? custom(
        {
          request: (args: { method: string; params?: unknown }) =>
            WALLET_METHODS.has(args.method)
              ? wallet.provider.request(args as never)
              : transport({ chain, retryCount: 0 }).request(args as never),
        },
        { retryCount: 0 },
      )
    : transport
  return {
    account,
    encryptionKeyPair: params.encryptionKeyPair,
    node,
    config,
    publicClient: createPublicClient({ chain, transport }) as PublicClient,
    walletClient: createWalletClient({ chain, transport: walletTransport, account }),
  }
}

/** What only the wallet can answer: it holds the key (and knows which accounts it exposes). */
const WALLET_METHODS = new Set([
  'eth_sendTransaction',
  'eth_accounts',
  'eth_requestAccounts',
  'personal_sign',
  'eth_signTypedData_v4',
  'wallet_switchEthereumChain',
  'wallet_addEthereumChain',
])

/** Sign-In with Ethereum through the wallet: it shows the message and signs it with EIP-191. */
function walletSigner(wallet: PcmimsWallet) {
  return {
    address: wallet.address,
    signMessage: ({ message }: { message: string }) =>
      wallet.provider.request({ method: 'personal_sign', params: [toHex(message), wallet.address] }),
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
