import { type Kind, Purpose, Scope } from '@pcmims/contracts'
import { type Address, type Hex, zeroHash } from 'viem'
import { resolveKindMask } from './internal/enums.js'
import {
  type AnyClient,
  eventOf,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type RequestAccessParameters = WriteParameters & {
  patient: Address
  scope: 'All' | 'Kinds'
  kinds?: readonly Kind[] | undefined
  kindMask?: number | undefined
  purpose: Purpose
  /** Digest of an encrypted note on IPFS (logged only); zero for none. */
  details?: Hex | undefined
}

export type RequestAccessReturnType = WriteReturnType & { requestId: bigint }

/** An Approved requestor or medic asks a patient for access. */
export async function requestAccess(
  client: AnyClient,
  params: RequestAccessParameters,
): Promise<RequestAccessReturnType> {
  const result = await executeWrite(client, {
    ...params,
    functionName: 'requestAccess',
    args: [
      params.patient,
      Scope[params.scope],
      resolveKindMask(params),
      Purpose[params.purpose],
      params.details ?? zeroHash,
    ],
  })
  return { ...result, requestId: eventOf(result, 'AccessRequested').args.id }
}
