import { grantFlags } from '@pcmims/contracts'
import { type Hex, zeroHash } from 'viem'
import { toUnixSeconds } from './internal/enums.js'
import {
  type AnyClient,
  eventOf,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type ApproveRequestParameters = WriteParameters & {
  /** The request id. */
  id: bigint
  expiresAt: number | bigint | Date
  download?: boolean | undefined
  deidentifiedOnly?: boolean | undefined
  keyBundle?: Hex | undefined
}

export type ApproveRequestReturnType = WriteReturnType & { epoch: number }

/** The patient approves a pending request; the requestor's grant (the requested scope) is written in the same tx. */
export async function approveRequest(
  client: AnyClient,
  params: ApproveRequestParameters,
): Promise<ApproveRequestReturnType> {
  const result = await executeWrite(client, {
    ...params,
    functionName: 'approveRequest',
    args: [
      params.id,
      toUnixSeconds(params.expiresAt),
      grantFlags({ download: params.download ?? false, deidentifiedOnly: params.deidentifiedOnly ?? false }),
      params.keyBundle ?? zeroHash,
    ],
  })
  return { ...result, epoch: eventOf(result, 'GrantSet').args.epoch }
}
