import { pcmimsAbi, pcmimsBytecode } from '@pcmims/contracts'
import type { Account, Address, Hash } from 'viem'
import { deployContract, waitForTransactionReceipt } from 'viem/actions'
import { BaseError } from '../errors/base-error.js'
import { abortable } from '../utils/abortable.js'
import { TransactionRevertedError } from './errors.js'
import type { AnyClient } from './internal/execute.js'

export type DeployPcmimsParameters = {
  /** Network governance (admits units). Defaults to the deploying account. */
  governance?: Address | undefined
  account?: Account | Address | undefined
  signal?: AbortSignal | undefined
}

export type DeployPcmimsReturnType = { address: Address; hash: Hash; gasUsed: bigint; blockNumber: bigint }

/** Deploys the Pcmims contract and waits for it to be mined. */
export async function deployPcmims(
  client: AnyClient,
  params: DeployPcmimsParameters = {},
): Promise<DeployPcmimsReturnType> {
  const { signal } = params
  signal?.throwIfAborted()
  const account = params.account ?? client.account
  if (!account) throw new BaseError('No account to deploy from', { code: 'NO_ACCOUNT' })
  const governance = params.governance ?? (typeof account === 'string' ? account : account.address)
  const hash = await deployContract(client, {
    abi: pcmimsAbi,
    bytecode: pcmimsBytecode,
    args: [governance],
    account,
    chain: client.chain ?? null,
  })
  const receipt = await abortable(waitForTransactionReceipt(client, { hash }), signal)
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    throw new TransactionRevertedError({ functionName: 'constructor', hash })
  }
  return {
    address: receipt.contractAddress,
    hash,
    gasUsed: receipt.gasUsed,
    blockNumber: receipt.blockNumber,
  }
}
