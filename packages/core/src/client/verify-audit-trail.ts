import type { Address, Hex } from 'viem'
import {
  type AuditConsistencyProof,
  type AuditVerificationReport,
  type ServedAuditEntry,
  verifyAuditEntries,
} from '../audit/verify-audit-entries.js'
import { type FullLogReport, verifyFullLog } from '../audit/verify-full-log.js'
import { getAuditRoot } from '../chain/get-audit-root.js'
import { getLatestAuditSize } from '../chain/get-latest-audit-size.js'
import type { PcmimsClient } from './pcmims-client.js'

/** Whose entries: about the caller as patient, of the caller's own actions, or the whole log (the unit's operator). */
export type AuditTrailScope = 'patient' | 'actor' | 'all'

export type AuditTrail = {
  unit: Address
  scope: AuditTrailScope
  /** Entries in the node's log when it answered. */
  size: number
  entries: Array<ServedAuditEntry & { hash: Hex }>
  /** Anchors the node says it sent (checked against the chain by `verifyAuditTrail`). */
  anchorSizes: number[]
}

export type FetchAuditTrailParameters = {
  scope?: AuditTrailScope | undefined
  signal?: AbortSignal | undefined
}

type AuditPage = {
  unit: Address
  size: number
  nextSeq: number | null
  entries: Array<ServedAuditEntry & { hash: Hex }>
}

/** Every entry of the scope, page by page, as the node serves them (with their inclusion proofs). */
export async function fetchAuditTrail(
  client: PcmimsClient,
  { scope = 'patient', signal }: FetchAuditTrailParameters = {},
): Promise<AuditTrail> {
  const entries: AuditPage['entries'] = []
  let fromSeq: number | null = 0
  let page: AuditPage | undefined
  while (fromSeq !== null) {
    page = await client.node.json<AuditPage>('GET', '/api/v1/audit', {
      query: { scope, fromSeq, limit: 5000 },
      signal,
    })
    entries.push(...page.entries)
    fromSeq = page.nextSeq
  }
  const anchors = await client.node.json<{ anchors: Array<{ size: number }> }>(
    'GET',
    '/api/v1/audit/anchors',
    {
      signal,
    },
  )
  return {
    unit: page?.unit ?? client.config.unit,
    scope,
    size: page?.size ?? 0,
    entries,
    anchorSizes: anchors.anchors.map((a) => a.size),
  }
}

export type VerifyAuditTrailParameters = FetchAuditTrailParameters

export type VerifyAuditTrailReturnType = {
  trail: AuditTrail
  /** The unit's latest anchored size, read from the chain. */
  latestAnchoredSize: number
  /** Each entry against the roots on chain; ok when every entry verified or is not anchored yet. */
  report: AuditVerificationReport
  /** For the whole log only: hash chain, sequence and every anchored root recomputed. */
  fullLog?: FullLogReport | undefined
  ok: boolean
}

/**
 * Fetches the audit entries and checks them against the chain, not the node: each entry's hash, its
 * inclusion proof up to a root the unit anchored on chain, and consistency between anchored roots (a
 * node that rewrote its history cannot prove the old root is a prefix of the new one).
 */
export async function verifyAuditTrail(
  client: PcmimsClient,
  params: VerifyAuditTrailParameters = {},
): Promise<VerifyAuditTrailReturnType> {
  const trail = await fetchAuditTrail(client, params)
  const read = { contract: client.config.contract, unit: trail.unit, signal: params.signal }
  const latestAnchoredSize = await getLatestAuditSize(client.publicClient, read)
  const sizes = new Set<number>(trail.anchorSizes)
  for (const served of trail.entries) if (served.proof) sizes.add(served.proof.size)
  if (latestAnchoredSize > 0) sizes.add(latestAnchoredSize)
  const anchoredRoots = new Map<number, Hex | null>()
  for (const size of [...sizes].sort((a, b) => a - b)) {
    anchoredRoots.set(size, await getAuditRoot(client.publicClient, { ...read, size }))
  }
  const onChain = [...anchoredRoots].filter(([, root]) => root !== null).map(([size]) => size)
  let consistencyProofs: AuditConsistencyProof[] = []
  if (onChain.length > 1) {
    consistencyProofs = (
      await client.node.json<{ consistency: AuditConsistencyProof[] }>('GET', '/api/v1/audit/anchors', {
        query: { consistency: onChain.join(',') },
        signal: params.signal,
      })
    ).consistency
  }
  const report = verifyAuditEntries({
    entries: trail.entries,
    anchoredRoots,
    latestAnchoredSize,
    consistencyProofs,
    contiguous: trail.scope === 'all',
  })
  const fullLog =
    trail.scope === 'all'
      ? verifyFullLog({
          entries: trail.entries.map((e) => e.entry),
          hashes: trail.entries.map((e) => e.hash),
          anchoredRoots,
        })
      : undefined
  return { trail, latestAnchoredSize, report, fullLog, ok: report.ok && (fullLog?.ok ?? true) }
}
