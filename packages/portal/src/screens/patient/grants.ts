import { kindsOf, type PcmimsClient, type RecordKind } from '@pcmims/core'
import type { Address, Hex } from 'viem'
import { KIND_LABELS } from '../common/record-list.js'

/** An active grant as the node's index lists it (GET /api/v1/grants). */
export type Grant = {
  patient: Address
  grantee: Address
  scope: 'All' | 'Kinds' | 'Records'
  kindMask: number
  expiresAt: number
  download: boolean
  deidentifiedOnly: boolean
  epoch: number
  keyBundle: string | null
  records: Hex[]
}

export async function fetchGrants(client: PcmimsClient, signal?: AbortSignal): Promise<Grant[]> {
  const answer = await client.node.json<{ grants: Grant[] }>('GET', '/api/v1/grants', {
    query: { patient: client.account.address },
    signal,
  })
  return answer.grants
}

/** An emergency access (GET /api/v1/emergencies). */
export type Emergency = {
  medic: Address
  patient: Address
  unitIndex: number
  reasonCode: number
  until: number
  active: boolean
  ended: boolean
  blockNumber: number
}

export async function fetchEmergencies(client: PcmimsClient, signal?: AbortSignal): Promise<Emergency[]> {
  const answer = await client.node.json<{ emergencies: Emergency[] }>('GET', '/api/v1/emergencies', {
    signal,
  })
  const me = client.account.address.toLowerCase()
  return answer.emergencies.filter((e) => e.patient.toLowerCase() === me)
}

/** The emergency reason codes (the same table as the CLI's; the chain stores only the number). */
const REASONS = ['Unspecified', 'Unconscious patient', 'Trauma', 'Cardiac', 'Stroke', 'Other'] as const

export function reasonName(code: number): string {
  return REASONS[code] ?? `Reason code ${code}`
}

export function kindNames(mask: number): string {
  return kindsOf(mask)
    .map((k) => KIND_LABELS[k as RecordKind] ?? k)
    .join(', ')
}

/** What a grant (or request) covers, for people. */
export function scopeText(grant: { scope: string; kindMask: number; records?: readonly Hex[] }): string {
  if (grant.scope === 'Kinds') return `Only: ${kindNames(grant.kindMask)} (also future ones)`
  if (grant.scope === 'Records') {
    const n = grant.records?.length ?? 0
    return `${n} chosen ${n === 1 ? 'record' : 'records'}`
  }
  return 'All records (also future ones)'
}
