import { AccessBasis, enumName } from '@pcmims/contracts'
import type { Address, Hex } from 'viem'
import { type AnyClient, executeRead, type ReadParameters } from './internal/execute.js'

export type GetAccessParameters = ReadParameters & { grantee: Address; recordId: Hex }

export type GetAccessReturnType = {
  allowed: boolean
  download: boolean
  deidentifiedOnly: boolean
  /** Unix seconds when this basis lapses (2^40 - 1 for patient and custodian). */
  until: number
  basis: AccessBasis
}

/** Whether, why and on which terms `grantee` may read `recordId` now. */
export async function getAccess(
  client: AnyClient,
  params: GetAccessParameters,
): Promise<GetAccessReturnType> {
  const [allowed, download, deidentifiedOnly, until, basis] = await executeRead<
    readonly [boolean, boolean, boolean, number, number]
  >(client, { ...params, functionName: 'accessOf', args: [params.grantee, params.recordId] })
  return { allowed, download, deidentifiedOnly, until, basis: enumName(AccessBasis, basis) }
}
