import { enumName, Role, Status } from '@pcmims/contracts'
import { type Address, getAddress } from 'viem'
import { type AnyClient, executeRead, type ReadParameters } from './internal/execute.js'

export type GetParticipantParameters = ReadParameters & { account: Address }

export type GetParticipantReturnType = {
  account: Address
  /** The participant's health unit (for a unit: itself); zero when not registered. */
  unit: Address
  role: Role
  status: Status
  unitIndex: number
  /** Unix seconds of the last registration or status change. */
  updatedAt: number
}

/** The account's participant entry; `role: 'None'` when it never registered. */
export async function getParticipant(
  client: AnyClient,
  params: GetParticipantParameters,
): Promise<GetParticipantReturnType> {
  const p = await executeRead<{
    unit: Address
    role: number
    status: number
    unitIndex: number
    updatedAt: number
  }>(client, { ...params, functionName: 'participantOf', args: [params.account] })
  return {
    account: getAddress(params.account),
    unit: p.unit,
    role: enumName(Role, p.role),
    status: enumName(Status, p.status),
    unitIndex: p.unitIndex,
    updatedAt: p.updatedAt,
  }
}
