import { GrantFlag, Kind, type RecordKind, type RecordRecipient } from '@pcmims/core'
import { type Address, getAddress, hexToBytes } from 'viem'
import type { NodeContext } from '../context.js'

/**
 * Who besides the patient and the custodian gets a new record's key: every grantee whose grant covers new
 * records of this kind (scope All, or Kinds with this kind), live, not de-identified-only, approved, with an
 * encryption key. Candidates come from the index; each is re-read from the chain, which decides.
 */
export async function standingGrantees(
  ctx: Pick<NodeContext, 'db' | 'chain'>,
  patient: Address,
  kind: RecordKind,
): Promise<RecordRecipient[]> {
  const candidates = ctx.db
    .prepare(`SELECT grantee FROM grants WHERE patient = ? AND scope IN ('All', 'Kinds')`)
    .all(patient.toLowerCase()) as Array<{ grantee: string }>
  if (candidates.length === 0) return []
  const now = await ctx.chain.reader.now()
  const out: RecordRecipient[] = []
  for (const { grantee } of candidates) {
    const address = getAddress(grantee)
    const grant = await ctx.chain.reader.grant(patient, address)
    const covers =
      grant.scope === 'All' || (grant.scope === 'Kinds' && ((grant.kindMask >> Kind[kind]) & 1) === 1)
    const deidentifiedOnly = (grant.flags & GrantFlag.DeidentifiedOnly) !== 0
    if (!covers || grant.expiresAt <= now || deidentifiedOnly) continue
    const participant = await ctx.chain.reader.participant(address)
    if (participant.status !== 'Approved' || /^0x0{64}$/.test(participant.encryptionKey)) continue
    out.push({ address, role: 'grantee', publicKey: hexToBytes(participant.encryptionKey) })
  }
  return out
}
