import type { Hono } from 'hono'
import type { Address } from 'viem'
import type { AuditEntriesFilter } from '../../audit/audit-log.js'
import type { NodeContext } from '../../context.js'
import { recordAudit } from '../audit.js'
import { authenticate } from '../authenticate.js'
import { AccessDeniedError, BadRequestError } from '../errors.js'

const SCOPES = ['patient', 'actor', 'all'] as const

function intQuery(value: string | undefined, name: string, max: number): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d{1,15}$/.test(value) || Number(value) > max)
    throw new BadRequestError(`${name} must be an integer ≤ ${max}`)
  return Number(value)
}

/**
 * The audit trail: a patient reads the entries about them, anyone the entries of their own actions,
 * and the unit's operator (its privacy officer) the whole log — each with inclusion proofs against
 * the root this node anchored on chain, so the reader checks them against the chain, not the node.
 */
export function auditRoutes(app: Hono, ctx: NodeContext): void {
  const isOperator = (caller: Address) => caller === ctx.unit.address

  app.get('/api/v1/audit', async (c) => {
    const caller = await authenticate(c, ctx)
    const scope = (c.req.query('scope') ?? 'patient') as (typeof SCOPES)[number]
    if (!SCOPES.includes(scope)) throw new BadRequestError(`scope must be one of ${SCOPES.join(', ')}`)
    if (scope === 'all' && !isOperator(caller)) {
      throw new AccessDeniedError("Only the unit's operator reads the whole audit log")
    }
    const fromSeq = intQuery(c.req.query('fromSeq'), 'fromSeq', Number.MAX_SAFE_INTEGER)
    const limit = intQuery(c.req.query('limit'), 'limit', 10_000)
    const filter: AuditEntriesFilter =
      scope === 'all' ? { all: true } : scope === 'actor' ? { actor: caller } : { patient: caller }
    const page = ctx.audit.entriesFor(filter, { fromSeq, limit })
    recordAudit(c, ctx, {
      action: 'audit.read',
      actor: caller,
      patient: scope === 'patient' ? caller : null,
      detail: `scope:${scope}`,
    })
    return c.json({
      unit: ctx.unit.address,
      contract: ctx.chain.contract,
      chainId: ctx.chain.chainId,
      scope,
      size: page.size,
      anchor: page.anchor,
      nextSeq: page.nextSeq,
      ...(page.problem ? { problem: page.problem } : {}),
      entries: page.entries,
    })
  })

  // What this node recorded of its anchors, and consistency proofs between the sizes a reader names.
  app.get('/api/v1/audit/anchors', async (c) => {
    await authenticate(c, ctx)
    const sizesText = c.req.query('consistency')
    let consistency: unknown[] = []
    if (sizesText !== undefined) {
      const sizes = sizesText.split(',').map((s) => intQuery(s, 'consistency', Number.MAX_SAFE_INTEGER) ?? 0)
      if (sizes.length > 1000) throw new BadRequestError('At most 1000 sizes')
      consistency = ctx.audit.consistencyProofs(sizes)
    }
    return c.json({ unit: ctx.unit.address, anchors: ctx.audit.anchors(), consistency })
  })

  // Anchor now (the operator, e.g. before an inspection); otherwise the node anchors periodically.
  app.post('/api/v1/audit/anchor', async (c) => {
    const caller = await authenticate(c, ctx)
    if (!isOperator(caller)) throw new AccessDeniedError("Only the unit's operator anchors the audit log")
    const anchor = await ctx.audit.anchor()
    return c.json({ anchored: anchor !== null, anchor: anchor ?? ctx.audit.latestAnchor() })
  })
}
