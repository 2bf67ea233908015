import { kindMask, kindsOf } from '@pcmims/contracts'
import type { Hex } from 'viem'
import { approveRequest } from '../chain/approve-request.js'
import { denyRequest } from '../chain/deny-request.js'
import { getRequest } from '../chain/get-request.js'
import { getChainTime } from './chain-time.js'
import { prepareKeyBundle } from './create-grant.js'
import { PreconditionError } from './errors.js'
import type { PcmimsClient } from './pcmims-client.js'

export type RespondToRequestParameters = {
  requestId: bigint
  approve: boolean
  /** Expiry of the grant an approval creates (unix seconds). */
  expiresAt?: number | undefined
  download?: boolean | undefined
  deidentifiedOnly?: boolean | undefined
  signal?: AbortSignal | undefined
}

/** The patient answers an access request: approval creates the grant (with its key bundle) on chain. */
export async function respondToRequest(
  client: PcmimsClient,
  params: RespondToRequestParameters,
): Promise<{ hash: Hex; gasUsed: bigint; keyBundle?: string | undefined }> {
  const request = await getRequest(client.publicClient, {
    contract: client.config.contract,
    id: params.requestId,
  })
  if (request.patient !== client.account.address)
    throw new PreconditionError('This request is addressed to another patient')
  if (request.status !== 'Pending')
    throw new PreconditionError(`This request is already ${request.status.toLowerCase()}`)
  if (!params.approve) {
    const receipt = await denyRequest(client.walletClient, {
      contract: client.config.contract,
      id: params.requestId,
    })
    return { hash: receipt.hash, gasUsed: receipt.gasUsed }
  }
  const expiresAt = params.expiresAt ?? (await getChainTime(client.publicClient)) + 30 * 24 * 3600
  const scope = request.scope === 'Kinds' ? 'Kinds' : 'All'
  const prepared = await prepareKeyBundle(client, {
    grantee: request.requestor,
    scope,
    kindMask: scope === 'Kinds' ? kindMask(kindsOf(request.kindMask)) : 0,
    records: [],
    deidentifiedOnly: params.deidentifiedOnly,
    signal: params.signal,
  })
  const receipt = await approveRequest(client.walletClient, {
    contract: client.config.contract,
    id: params.requestId,
    expiresAt,
    download: params.download ?? true,
    deidentifiedOnly: params.deidentifiedOnly ?? false,
    keyBundle: prepared.digest,
  })
  return { hash: receipt.hash, gasUsed: receipt.gasUsed, keyBundle: prepared.cid }
}
