import { enumName, Purpose, RequestStatus, Scope } from '@pcmims/contracts'
import type { Address } from 'viem'
import { type AnyClient, executeRead, type ReadParameters } from './internal/execute.js'

export type GetRequestParameters = ReadParameters & { id: bigint }

export type GetRequestReturnType = {
  id: bigint
  requestor: Address
  patient: Address
  scope: Scope
  kindMask: number
  purpose: Purpose
  /** 'None' when no request has this id. */
  status: RequestStatus
  createdAt: number
}

/** An access request (its `details` digest is in the `AccessRequested` event only). */
export async function getRequest(
  client: AnyClient,
  params: GetRequestParameters,
): Promise<GetRequestReturnType> {
  const q = await executeRead<{
    requestor: Address
    scope: number
    kindMask: number
    purposeCode: number
    status: number
    createdAt: number
    patient: Address
  }>(client, { ...params, functionName: 'requestOf', args: [params.id] })
  return {
    id: params.id,
    requestor: q.requestor,
    patient: q.patient,
    scope: enumName(Scope, q.scope),
    kindMask: q.kindMask,
    purpose: enumName(Purpose, q.purposeCode),
    status: enumName(RequestStatus, q.status),
    createdAt: q.createdAt,
  }
}
