import { Status } from '@pcmims/contracts'
import type { Address } from 'viem'
import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type SetUnitStatusParameters = WriteParameters & { unit: Address; status: 'Approved' | 'Suspended' }

export type SetUnitStatusReturnType = WriteReturnType

/** Governance suspends a unit or approves it again. */
export async function setUnitStatus(
  client: AnyClient,
  params: SetUnitStatusParameters,
): Promise<SetUnitStatusReturnType> {
  return executeWrite(client, {
    ...params,
    functionName: 'setUnitStatus',
    args: [params.unit, Status[params.status]],
  })
}
