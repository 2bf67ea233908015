import type { PcmimsClient } from '@pcmims/core'
import type { Address } from 'viem'

export type UnitParticipant = { address: Address; role: string; status: string }

export const ROLE_LABELS: Record<string, string> = {
  Patient: 'Patient',
  Uploader: 'Radiologist / lab',
  Medic: 'Medic',
  Requestor: 'Requestor',
}

/** The unit's registrations from the node's index of the chain (only the unit's own admin may list them). */
export async function listUnitParticipants(
  client: PcmimsClient,
  params: { status?: string | undefined; signal?: AbortSignal | undefined } = {},
): Promise<UnitParticipant[]> {
  const answer = await client.node.json<{ participants: UnitParticipant[] }>(
    'GET',
    `/api/v1/units/${client.account.address}/participants`,
    { query: { status: params.status }, signal: params.signal },
  )
  return answer.participants
}
