import type { PcmimsClient } from '@pcmims/core'
import { useState } from 'react'
import type { Address } from 'viem'
import { useSession } from '../../session/session-context.js'
import { shortAddress } from '../../ui/format.js'

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

type ParticipantSender = (
  walletClient: PcmimsClient['walletClient'],
  params: { contract: Address; account: Address },
) => Promise<unknown>

/**
 * One status change by the unit admin (approve, reject, suspend, reinstate): the account being changed
 * while it runs, the error, and a sentence when it is done; `onChanged` reloads the list.
 */
export function useParticipantChange(onChanged: () => void) {
  const { client } = useSession()
  const [busy, setBusy] = useState<Address | undefined>()
  const [error, setError] = useState<unknown>()
  const [done, setDone] = useState<string | undefined>()
  async function change(who: UnitParticipant, send: ParticipantSender, verb: string) {
    setBusy(who.address)
    setError(undefined)
    setDone(undefined)
    try {
      await send(client.walletClient, { contract: client.config.contract, account: who.address })
      setDone(`${ROLE_LABELS[who.role] ?? who.role} ${shortAddress(who.address)} ${verb}.`)
      onChanged()
    } catch (caught) {
      setError(caught)
    } finally {
      setBusy(undefined)
    }
  }
  return { busy, error, done, change }
}
