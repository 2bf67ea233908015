import { type Address, zeroAddress } from 'viem'
import { type AnyClient, executeRead, type ReadParameters } from './internal/execute.js'

export type GetGovernanceParameters = ReadParameters

export type GetGovernanceReturnType = {
  governance: Address
  /** Set by `transferGovernance` until accepted; `null` when none. */
  pendingGovernance: Address | null
  unitCount: number
  requestCount: bigint
}

/** Governance and the contract's counters. */
export async function getGovernance(
  client: AnyClient,
  params: GetGovernanceParameters,
): Promise<GetGovernanceReturnType> {
  const read = <T>(functionName: string) => executeRead<T>(client, { ...params, functionName, args: [] })
  const [governance, pendingGovernance, unitCount, requestCount] = await Promise.all([
    read<Address>('governance'),
    read<Address>('pendingGovernance'),
    read<number>('unitCount'),
    read<bigint>('requestCount'),
  ])
  return {
    governance,
    pendingGovernance: pendingGovernance === zeroAddress ? null : pendingGovernance,
    unitCount,
    requestCount,
  }
}
