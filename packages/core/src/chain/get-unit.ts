import { type Address, zeroAddress } from 'viem'
import { type AnyClient, executeRead, type ReadParameters } from './internal/execute.js'

export type GetUnitParameters = ReadParameters & { unitIndex: number }

/** Address of the unit with this index (a record's custodian), or `null`. */
export type GetUnitReturnType = Address | null

export async function getUnit(client: AnyClient, params: GetUnitParameters): Promise<GetUnitReturnType> {
  const unit = await executeRead<Address>(client, {
    ...params,
    functionName: 'unitAt',
    args: [params.unitIndex],
  })
  return unit === zeroAddress ? null : unit
}
