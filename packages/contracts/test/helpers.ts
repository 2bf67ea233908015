import type { TestChain, TestParticipant } from '@pcmims/test-utils'
import {
  type Account,
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  type Hex,
  type ParseEventLogsReturnType,
  parseEventLogs,
  type TransactionReceipt,
  toHex,
} from 'viem'
import { expect } from 'vitest'
import { GrantTermsBits, pcmimsAbi } from '../src/index.js'

type Abi = typeof pcmimsAbi
export type DecodedEvent = ParseEventLogsReturnType<Abi, undefined, true>[number]
type Sender = TestParticipant | { account: Account; wallet: TestParticipant['wallet'] }

export type WriteResult = { receipt: TransactionReceipt; events: DecodedEvent[]; gasUsed: bigint }

/** Thin test bindings over viem: send a Pcmims call, read, expect a custom error. */
export function bind(chain: TestChain) {
  const governance = { account: chain.governance, wallet: chain.walletClientFor(chain.governance) }

  async function write(from: Sender, functionName: string, args: readonly unknown[]): Promise<WriteResult> {
    const hash = await from.wallet.writeContract({
      address: chain.contract,
      abi: pcmimsAbi,
      // biome-ignore lint/suspicious/noExplicitAny: tests call every function by name
      functionName: functionName as any,
      // biome-ignore lint/suspicious/noExplicitAny: tests call every function by name
      args: args as any,
      gas: 3_000_000n,
    })
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new Error(`${functionName} reverted on chain`)
    const events = parseEventLogs({ abi: pcmimsAbi, logs: receipt.logs, strict: true })
    // Every state change emits at least one event.
    expect(events.length, `${functionName} emitted no event`).toBeGreaterThan(0)
    return { receipt, events, gasUsed: receipt.gasUsed }
  }

  async function read<T>(functionName: string, args: readonly unknown[] = []): Promise<T> {
    return (await chain.publicClient.readContract({
      address: chain.contract,
      abi: pcmimsAbi,
      // biome-ignore lint/suspicious/noExplicitAny: tests call every function by name
      functionName: functionName as any,
      // biome-ignore lint/suspicious/noExplicitAny: tests call every function by name
      args: args as any,
    })) as T
  }

  /** Simulates the call and asserts it reverts with `errorName` (and `args`, when given). */
  async function expectRevert(
    from: Sender | Address,
    functionName: string,
    args: readonly unknown[],
    errorName: string,
    errorArgs?: readonly unknown[],
  ): Promise<void> {
    const account = typeof from === 'string' ? from : from.account
    let caught: unknown
    try {
      await chain.publicClient.simulateContract({
        address: chain.contract,
        abi: pcmimsAbi,
        // biome-ignore lint/suspicious/noExplicitAny: tests call every function by name
        functionName: functionName as any,
        // biome-ignore lint/suspicious/noExplicitAny: tests call every function by name
        args: args as any,
        account,
      })
    } catch (error) {
      caught = error
    }
    expect(caught, `${functionName} should revert with ${errorName}`).toBeInstanceOf(BaseError)
    const reverted = (caught as BaseError).walk((e) => e instanceof ContractFunctionRevertedError)
    expect(reverted, `${functionName}: not a contract revert: ${String(caught)}`).toBeInstanceOf(
      ContractFunctionRevertedError,
    )
    const data = (reverted as ContractFunctionRevertedError).data
    expect(data?.errorName).toBe(errorName)
    if (errorArgs) expect(data?.args).toEqual(errorArgs)
  }

  return { governance, write, read, expectRevert }
}

/** The single event named `eventName` in a write's events. */
export function eventOf(result: WriteResult, eventName: string) {
  const found = result.events.filter((e) => e.eventName === eventName)
  expect(
    found,
    `expected one ${eventName}, got ${result.events.map((e) => e.eventName).join(', ')}`,
  ).toHaveLength(1)
  // biome-ignore lint/suspicious/noExplicitAny: event args are checked field by field in the tests
  return found[0]!.args as any
}

/**
 * The single `GrantSet` of a write with its packed `terms` split into the fields (as numbers, like the old
 * per-field event), checking that the unused high bits are zero.
 */
export function grantSetOf(result: WriteResult) {
  const { terms, ...rest } = eventOf(result, 'GrantSet') as { terms: bigint }
  expect(typeof terms).toBe('bigint')
  expect(terms >> BigInt(GrantTermsBits.epoch + 32), 'GrantSet.terms: bits above the epoch').toBe(0n)
  const field = (offset: number, bits: number) =>
    Number((terms >> BigInt(offset)) & ((1n << BigInt(bits)) - 1n))
  return {
    ...rest,
    scope: field(GrantTermsBits.scope, 8),
    kindMask: field(GrantTermsBits.kindMask, 16),
    expiresAt: field(GrantTermsBits.expiresAt, 40),
    flags: field(GrantTermsBits.flags, 8),
    epoch: field(GrantTermsBits.epoch, 32),
  }
}

export function randomId(): Hex {
  return toHex(crypto.getRandomValues(new Uint8Array(32)))
}

export const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000' as const
export const ZERO_HASH = `0x${'0'.repeat(64)}` as const
