import { pcmimsAbi } from '@pcmims/contracts'
import type { Account, Address, Chain, Client, Hash, Transport } from 'viem'
import { readContract, simulateContract, waitForTransactionReceipt, writeContract } from 'viem/actions'
import { BaseError } from '../../errors/base-error.js'
import { abortable } from '../../utils/abortable.js'
import { decodePcmimsLogs, type PcmimsEvent } from '../decode-pcmims-logs.js'
import { TransactionRevertedError, toContractCallError } from '../errors.js'

/** Parameters every write takes besides its own. */
export type WriteParameters = {
  /** The deployed Pcmims contract. */
  contract: Address
  /** Sender; defaults to the wallet client's account. */
  account?: Account | Address | undefined
  signal?: AbortSignal | undefined
}

/** What every write returns. */
export type WriteReturnType = {
  hash: Hash
  gasUsed: bigint
  blockNumber: bigint
  /** The contract's events from this transaction, decoded. */
  events: PcmimsEvent[]
}

/** Parameters every read takes besides its own. */
export type ReadParameters = {
  contract: Address
  /** Read at this block instead of the latest one. */
  blockNumber?: bigint | undefined
  signal?: AbortSignal | undefined
}

export type AnyClient = Client<Transport, Chain | undefined, Account | undefined>

/**
 * Simulates (a revert costs no gas and becomes a `ContractCallError`), sends, waits for the receipt and decodes
 * the contract's events. Typed per operation by the callers.
 */
export async function executeWrite(
  client: AnyClient,
  params: WriteParameters & { functionName: string; args: readonly unknown[] },
): Promise<WriteReturnType> {
  const { contract, functionName, args, signal } = params
  signal?.throwIfAborted()
  const account = params.account ?? client.account
  if (!account) throw new BaseError('No account to send the transaction from', { code: 'NO_ACCOUNT' })
  let request: Parameters<typeof writeContract>[1]
  try {
    const simulated = await abortable(
      // biome-ignore lint/suspicious/noExplicitAny: the public functions type functionName/args against the ABI
      simulateContract(client, { address: contract, abi: pcmimsAbi, functionName, args, account } as any),
      signal,
    )
    request = { ...simulated.request, chain: client.chain ?? null } as Parameters<typeof writeContract>[1]
  } catch (error) {
    throw toContractCallError(error, functionName)
  }
  signal?.throwIfAborted()
  let hash: Hash
  try {
    hash = await writeContract(client, request)
  } catch (error) {
    throw toContractCallError(error, functionName)
  }
  const receipt = await abortable(waitForTransactionReceipt(client, { hash }), signal)
  if (receipt.status !== 'success') throw new TransactionRevertedError({ functionName, hash })
  return {
    hash,
    gasUsed: receipt.gasUsed,
    blockNumber: receipt.blockNumber,
    events: decodePcmimsLogs(receipt.logs, { address: contract }),
  }
}

/** `readContract` on Pcmims with error mapping. */
export async function executeRead<T>(
  client: AnyClient,
  params: ReadParameters & { functionName: string; args: readonly unknown[] },
): Promise<T> {
  const { contract, functionName, args, blockNumber, signal } = params
  try {
    return (await abortable(
      readContract(client, {
        address: contract,
        abi: pcmimsAbi,
        functionName,
        args,
        ...(blockNumber === undefined ? {} : { blockNumber }),
        // biome-ignore lint/suspicious/noExplicitAny: the public functions type functionName/args against the ABI
      } as any),
      signal,
    )) as T
  } catch (error) {
    throw toContractCallError(error, functionName)
  }
}

/** First decoded event named `eventName` from a write, or an error if the contract did not emit it. */
export function eventOf<N extends PcmimsEvent['eventName']>(
  result: WriteReturnType,
  eventName: N,
): Extract<PcmimsEvent, { eventName: N }> {
  const event = result.events.find((e) => e.eventName === eventName)
  if (!event) {
    throw new BaseError('Expected event missing from the receipt', {
      code: 'EVENT_MISSING',
      details: eventName,
    })
  }
  return event as Extract<PcmimsEvent, { eventName: N }>
}
