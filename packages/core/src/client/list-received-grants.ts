import type { Address, Hex } from 'viem'
import type { PcmimsClient } from './pcmims-client.js'

export type ReceivedGrant = {
  patient: Address
  grantee: Address
  scope: 'All' | 'Kinds' | 'Records'
  kindMask: number
  /** Unix seconds (chain time). */
  expiresAt: number
  download: boolean
  deidentifiedOnly: boolean
  /** For a `Records` grant: the records it covers. */
  records: Hex[]
}

export type ListReceivedGrantsParameters = { signal?: AbortSignal | undefined }

/** The live grants the client's account holds: the patients who let it read their records. */
export async function listReceivedGrants(
  client: PcmimsClient,
  params: ListReceivedGrantsParameters = {},
): Promise<ReceivedGrant[]> {
  const answer = await client.node.json<{ grants: ReceivedGrant[] }>('GET', '/api/v1/grants/received', {
    signal: params.signal,
  })
  return answer.grants
}
