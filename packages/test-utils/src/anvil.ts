// The subpath, not the package entry: the entry loads Helia and the whole node.
import { type StartAnvilReturnType, startAnvil } from '@pcmims/node/anvil'
import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  type HttpTransport,
  http,
  type LocalAccount,
  type PublicClient,
  parseEther,
  type WalletClient,
} from 'viem'
import {
  generatePrivateKey,
  mnemonicToAccount,
  type PrivateKeyAccount,
  privateKeyToAccount,
} from 'viem/accounts'
import { deployTestContracts } from './deploy.js'

/** anvil's and Hardhat's well-known development mnemonic. Never use these keys outside a dev chain. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk'
export const TEST_CHAIN_ID = 31337

export type TestWalletClient = WalletClient<HttpTransport, Chain, Account>

export type TestChain = {
  rpcUrl: string
  chain: Chain
  /** Address of the deployed Pcmims contract (governance = `accounts[0]`). */
  contract: Address
  /** Address of the deployed reference contract of the seed paper (when `deploySeedPaper` was set). */
  seedPaperContract: Address | undefined
  publicClient: PublicClient<HttpTransport, Chain>
  /** anvil's funded dev accounts, derived from `ANVIL_MNEMONIC`. */
  accounts: LocalAccount[]
  governance: LocalAccount
  walletClientFor(account: Account): TestWalletClient
  /** A fresh random account funded with 1000 ETH (tests that need many distinct participants use these). */
  newAccount(): Promise<PrivateKeyAccount>
  /** Moves the chain clock forward and mines a block, so views at `latest` see the new time. */
  increaseTime(seconds: number): Promise<void>
  /** Timestamp of the latest block, in seconds. */
  now(): Promise<number>
  snapshot(): Promise<Hex>
  /** Reverts to a snapshot (anvil consumes it: take a new one to revert again). */
  revert(id: Hex): Promise<void>
  anvil: StartAnvilReturnType
  stop(): Promise<void>
}

export type StartTestChainParameters = {
  signal?: AbortSignal | undefined
  /** Number of funded dev accounts (default 10). */
  accounts?: number | undefined
  /** Skip deploying Pcmims (default true: deploy). */
  deploy?: boolean | undefined
  /** Also deploy the seed paper's reconstructed contract (default false). */
  deploySeedPaper?: boolean | undefined
  /** Forward anvil's log (default false). */
  verbose?: boolean | undefined
}

/** Starts anvil on a free loopback port with funded dev accounts and deploys Pcmims with governance = account 0. */
export async function startTestChain(params: StartTestChainParameters = {}): Promise<TestChain> {
  const count = params.accounts ?? 10
  const anvil = await startAnvil({
    chainId: TEST_CHAIN_ID,
    mnemonic: ANVIL_MNEMONIC,
    accounts: count,
    silent: !params.verbose,
    signal: params.signal,
  })
  try {
    const chain = defineChain({
      id: TEST_CHAIN_ID,
      name: 'PCMIMS test chain',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    })
    const transport = http(anvil.rpcUrl, { batch: false, retryCount: 0 })
    const publicClient = createPublicClient({ chain, transport, pollingInterval: 20, cacheTime: 0 })
    const accounts: LocalAccount[] = Array.from({ length: count }, (_, addressIndex) =>
      mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex }),
    )
    const governance = accounts[0]!
    const walletClientFor = (account: Account): TestWalletClient =>
      createWalletClient({ account, chain, transport, pollingInterval: 20, cacheTime: 0 })
    const request = (method: string, args: unknown[]) =>
      // biome-ignore lint/suspicious/noExplicitAny: test RPC methods are outside viem's typed schema
      publicClient.request({ method: method as any, params: args as any }) as Promise<unknown>

    const deployed =
      params.deploy === false
        ? { contract: undefined, seedPaperContract: undefined }
        : await deployTestContracts({
            walletClient: walletClientFor(governance),
            publicClient,
            seedPaper: params.deploySeedPaper ?? false,
          })

    const testChain: TestChain = {
      rpcUrl: anvil.rpcUrl,
      chain,
      contract: deployed.contract ?? '0x0000000000000000000000000000000000000000',
      seedPaperContract: deployed.seedPaperContract,
      publicClient,
      accounts,
      governance,
      walletClientFor,
      async newAccount() {
        const account = privateKeyToAccount(generatePrivateKey())
        await request('anvil_setBalance', [account.address, `0x${parseEther('1000').toString(16)}`])
        return account
      },
      async increaseTime(seconds) {
        await request('evm_increaseTime', [seconds])
        await request('evm_mine', [])
      },
      async now() {
        const block = await publicClient.getBlock({ blockTag: 'latest' })
        return Number(block.timestamp)
      },
      async snapshot() {
        return (await request('evm_snapshot', [])) as Hex
      },
      async revert(id) {
        const ok = await request('evm_revert', [id])
        if (ok !== true) throw new Error(`evm_revert(${id}) failed`)
      },
      anvil,
      stop: () => anvil.stop(),
    }
    return testChain
  } catch (error) {
    await anvil.stop()
    throw error
  }
}
