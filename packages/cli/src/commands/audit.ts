import { BaseError, fetchAuditTrail, verifyAuditTrail } from '@pcmims/core'
import { getAddress } from 'viem'
import type { Command } from '../command.js'
import { flag } from '../command.js'
import { connect } from '../context.js'
import { table } from '../format.js'
import { UsageError } from '../io.js'

class AuditVerificationError extends BaseError {
  override name = 'AuditVerificationError'
  constructor(details: string) {
    super('The audit trail does not verify against the chain', { code: 'AUDIT_VERIFICATION_FAILED', details })
  }
}

export const audit: Command = {
  name: ['audit'],
  summary: 'Who accessed your records: the audit trail, verified against the roots anchored on chain',
  usage: 'audit [--verify] [--mine | --all] | audit --anchor',
  options: {
    verify: { type: 'boolean' },
    mine: { type: 'boolean' },
    all: { type: 'boolean' },
    anchor: { type: 'boolean' },
  },
  details: [
    ['--anchor', "the unit's operator: anchor the log's Merkle root on chain now (otherwise periodic)"],
    ['--verify', 'check every entry and its inclusion proof against the chain; exit 1 naming what fails'],
    ['--mine', 'the entries of your own actions instead of those about you as a patient'],
    ['--all', "the whole log (the unit's operator only): also checks the hash chain entry by entry"],
  ],
  async run(ctx) {
    if (flag(ctx, 'mine') && flag(ctx, 'all')) throw new UsageError('Give --mine or --all, not both')
    if (flag(ctx, 'anchor') && (flag(ctx, 'verify') || flag(ctx, 'mine') || flag(ctx, 'all'))) {
      throw new UsageError('--anchor goes alone')
    }
    const scope = flag(ctx, 'all') ? 'all' : flag(ctx, 'mine') ? 'actor' : 'patient'
    const client = await connect(ctx.global)
    if (flag(ctx, 'anchor')) {
      const answer = await client.node.json<{
        anchored: boolean
        anchor: { size: number; root: string; txHash: string } | null
      }>('POST', '/api/v1/audit/anchor', { signal: ctx.signal })
      ctx.io.result(answer, () =>
        answer.anchor
          ? `${answer.anchored ? 'Anchored' : 'Nothing new to anchor; latest anchor'}: ${answer.anchor.size} entries, root ${answer.anchor.root}, tx ${answer.anchor.txHash}`
          : 'The log is empty: nothing to anchor',
      )
      return
    }
    if (!flag(ctx, 'verify')) {
      const trail = await fetchAuditTrail(client, { scope, signal: ctx.signal })
      const entries = trail.entries.map((e) => e.entry as Record<string, unknown>)
      ctx.io.result({ unit: trail.unit, scope, size: trail.size, entries }, () =>
        entries.length === 0
          ? 'No audit entries.'
          : table(
              ['SEQ', 'TIME', 'ACTION', 'OUTCOME', 'WHO', 'RECORD', 'FROM'],
              entries.map((e) => [
                String(e.seq),
                String(e.time),
                String(e.action),
                String(e.outcome),
                typeof e.actor === 'string' ? getAddress(e.actor) : '-',
                e.recordId ? `${String(e.recordId).slice(0, 10)}…` : '-',
                String(e.source),
              ]),
            ),
      )
      return
    }
    const result = await verifyAuditTrail(client, { scope, signal: ctx.signal })
    const counts = { verified: 0, unanchored: 0, failed: 0 }
    for (const entry of result.report.entries) counts[entry.status]++
    const problems = [...result.report.problems, ...(result.fullLog?.problems ?? [])]
    const firstBroken = result.fullLog?.firstBroken ?? null
    // Nothing anchored yet is not a pass: nothing was checked against the chain.
    const nothingVerifiable = counts.verified === 0 && counts.unanchored > 0 && counts.failed === 0
    ctx.io.result(
      {
        ok: result.ok && !nothingVerifiable,
        verifiable: !nothingVerifiable,
        unit: result.trail.unit,
        scope,
        latestAnchoredSize: result.latestAnchoredSize,
        counts,
        ...(firstBroken ? { firstBroken } : {}),
        problems,
        entries: result.report.entries,
      },
      () =>
        [
          nothingVerifiable
            ? 'NOTHING VERIFIABLE YET: no entry is covered by an anchor on chain'
            : result.ok
              ? 'VERIFIED against the chain'
              : 'FAILED verification against the chain',
          `  ${counts.verified} verified, ${counts.unanchored} not anchored yet, ${counts.failed} failed` +
            ` (unit ${result.trail.unit}, anchored size ${result.latestAnchoredSize})`,
          ...(nothingVerifiable
            ? [
                '  the node anchors its log periodically and at shutdown (pcmims status shows when);',
                "  the unit's operator can anchor now: pcmims audit --anchor",
              ]
            : []),
          ...(firstBroken ? [`  first broken entry: ${firstBroken.message}`] : []),
          ...problems.slice(0, 20).map((p) => `  - ${p}`),
          ...(problems.length > 20 ? [`  … and ${problems.length - 20} more`] : []),
        ].join('\n'),
    )
    if (!result.ok) throw new AuditVerificationError(firstBroken?.message ?? problems[0] ?? 'see the report')
    if (nothingVerifiable) {
      throw new BaseError('Nothing in the audit trail is anchored on chain yet', {
        code: 'AUDIT_NOT_ANCHORED',
        details:
          "try again after the node's next anchor, or ask the unit's operator to run pcmims audit --anchor",
      })
    }
  },
}
