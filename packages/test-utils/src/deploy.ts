import {
  pcmimsAbi,
  pcmimsBytecode,
  Role,
  seedPaperImageCentricAbi,
  seedPaperImageCentricBytecode,
} from '@pcmims/contracts'
import {
  type Account,
  type Address,
  type Chain,
  type Hash,
  type Hex,
  type HttpTransport,
  type PublicClient,
  toHex,
  type WalletClient,
} from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import type { TestChain, TestWalletClient } from './anvil.js'

export type DeployTestContractsParameters = {
  walletClient: WalletClient<HttpTransport, Chain, Account>
  publicClient: PublicClient<HttpTransport, Chain>
  /** Defaults to the wallet's account. */
  governance?: Address | undefined
  seedPaper?: boolean | undefined
}

/** Deploys Pcmims (and optionally the seed paper's contract) and waits for the receipts. */
export async function deployTestContracts(
  params: DeployTestContractsParameters,
): Promise<{ contract: Address; seedPaperContract: Address | undefined; gasUsed: bigint }> {
  const { walletClient, publicClient } = params
  const hash = await walletClient.deployContract({
    abi: pcmimsAbi,
    bytecode: pcmimsBytecode,
    args: [params.governance ?? walletClient.account.address],
  })
  const receipt = await publicClient.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error('Pcmims deployment failed')
  let seedPaperContract: Address | undefined
  if (params.seedPaper) {
    const seedHash = await walletClient.deployContract({
      abi: seedPaperImageCentricAbi,
      bytecode: seedPaperImageCentricBytecode,
    })
    const seedReceipt = await publicClient.waitForTransactionReceipt({ hash: seedHash })
    if (seedReceipt.status !== 'success' || !seedReceipt.contractAddress) {
      throw new Error('SeedPaperImageCentric deployment failed')
    }
    seedPaperContract = seedReceipt.contractAddress
  }
  return { contract: receipt.contractAddress, seedPaperContract, gasUsed: receipt.gasUsed }
}

/** A funded account registered on the test chain, with its wallet and (random, test-only) encryption key. */
export type TestParticipant = {
  account: PrivateKeyAccount
  address: Address
  /** 32 random bytes standing in for an X25519 public key. */
  encryptionKey: Hex
  wallet: TestWalletClient
}

export type TestRole = 'patient' | 'uploader' | 'medic' | 'requestor'

export type SetupUnitParameters = {
  /** How many participants of each role to register at the unit (default: none). */
  roles?: Partial<Record<TestRole, number>> | undefined
  /** Approve the registrations (default true); false leaves them Pending. */
  approve?: boolean | undefined
}

export type TestUnit = TestParticipant & {
  unitIndex: number
  patients: TestParticipant[]
  uploaders: TestParticipant[]
  medics: TestParticipant[]
  requestors: TestParticipant[]
}

const roleOf: Record<TestRole, number> = {
  patient: Role.Patient,
  uploader: Role.Uploader,
  medic: Role.Medic,
  requestor: Role.Requestor,
}

/** Random 32 bytes: a placeholder encryption key for contract tests (real keys come from core/crypto). */
export function randomKey(): Hex {
  return toHex(crypto.getRandomValues(new Uint8Array(32)))
}

/** A fresh funded account with a wallet and a random key, not registered. */
export async function newParticipant(chain: TestChain): Promise<TestParticipant> {
  const account = await chain.newAccount()
  return {
    account,
    address: account.address,
    encryptionKey: randomKey(),
    wallet: chain.walletClientFor(account),
  }
}

async function send(chain: TestChain, hashPromise: Promise<Hash>): Promise<void> {
  const receipt = await chain.publicClient.waitForTransactionReceipt({ hash: await hashPromise })
  if (receipt.status !== 'success') throw new Error(`transaction ${receipt.transactionHash} reverted`)
}

/**
 * Governance admits a new unit; then fresh accounts register at it in the given roles and the unit approves them.
 */
export async function setupUnit(chain: TestChain, params: SetupUnitParameters = {}): Promise<TestUnit> {
  const unit = await newParticipant(chain)
  const governance = chain.walletClientFor(chain.governance)
  await send(
    chain,
    governance.writeContract({
      address: chain.contract,
      abi: pcmimsAbi,
      functionName: 'admitUnit',
      args: [unit.address, unit.encryptionKey],
    }),
  )
  const unitIndex = await chain.publicClient.readContract({
    address: chain.contract,
    abi: pcmimsAbi,
    functionName: 'unitCount',
  })
  const result: TestUnit = { ...unit, unitIndex, patients: [], uploaders: [], medics: [], requestors: [] }
  const buckets: Record<TestRole, TestParticipant[]> = {
    patient: result.patients,
    uploader: result.uploaders,
    medic: result.medics,
    requestor: result.requestors,
  }
  for (const role of ['patient', 'uploader', 'medic', 'requestor'] as const) {
    const count = params.roles?.[role] ?? 0
    for (let i = 0; i < count; i++) {
      const participant = await registerParticipant(chain, unit.address, role)
      if (params.approve !== false) await approveParticipant(chain, unit, participant.address)
      buckets[role].push(participant)
    }
  }
  return result
}

/** A fresh account registers itself at `unit` in `role` (left Pending). */
export async function registerParticipant(
  chain: TestChain,
  unit: Address,
  role: TestRole,
): Promise<TestParticipant> {
  const participant = await newParticipant(chain)
  await send(
    chain,
    participant.wallet.writeContract({
      address: chain.contract,
      abi: pcmimsAbi,
      functionName: 'register',
      args: [unit, roleOf[role], participant.encryptionKey],
    }),
  )
  return participant
}

/** The unit approves one of its Pending (or Suspended) participants. */
export async function approveParticipant(
  chain: TestChain,
  unit: TestParticipant,
  account: Address,
): Promise<void> {
  await send(
    chain,
    unit.wallet.writeContract({
      address: chain.contract,
      abi: pcmimsAbi,
      functionName: 'approve',
      args: [account],
    }),
  )
}
