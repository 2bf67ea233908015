import {
  createPcmimsClient,
  type GetParticipantReturnType,
  getParticipant,
  type PcmimsClient,
} from '@pcmims/core'
import type { Identity } from './identity.js'

export type Participant = GetParticipantReturnType & { address: `0x${string}` }

/**
 * Signs in to the node that served this page (Sign-In with Ethereum, signed here) and reaches the chain
 * through its relay, so the browser needs no chain endpoint of its own. Transactions are signed here.
 */
export async function openSession(identity: Identity, signal?: AbortSignal): Promise<PcmimsClient> {
  const common = {
    nodeUrl: window.location.origin,
    encryptionKeyPair: identity.encryptionKeyPair,
    chainAccess: 'node' as const,
    ...(signal ? { signal } : {}),
  }
  let client: PcmimsClient
  if (identity.wallet) client = await createPcmimsClient({ ...common, wallet: identity.wallet })
  else if (identity.account.type === 'local')
    client = await createPcmimsClient({ ...common, account: identity.account })
  else throw new Error('This identity has neither a local key nor a wallet')
  await client.node.signIn({ signal })
  return client
}

export async function readParticipant(client: PcmimsClient): Promise<Participant> {
  const participant = await getParticipant(client.publicClient, {
    contract: client.config.contract,
    account: client.account.address,
  })
  return { ...participant, address: client.account.address }
}

export type DevAccount = { role: string; name: string; address: `0x${string}`; privateKey: `0x${string}` }

/** The development chain's well-known accounts, or none on a real network (the node answers 404). */
export async function fetchDevAccounts(signal?: AbortSignal): Promise<DevAccount[]> {
  const response = await fetch('/api/v1/dev/accounts', signal ? { signal } : {})
  if (!response.ok) return []
  const body = (await response.json()) as { accounts?: DevAccount[] }
  return body.accounts ?? []
}
