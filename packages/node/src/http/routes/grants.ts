import { dagCborCidFromDigest } from '@pcmims/core'
import type { Hono } from 'hono'
import { getAddress, type Hex } from 'viem'
import type { NodeContext } from '../../context.js'
import { audited } from '../audit.js'
import { authenticate, requireParticipant } from '../authenticate.js'
import { AccessDeniedError, NotFoundError } from '../errors.js'
import { parseAddress } from '../params.js'
import { syncIndex } from '../sync-index.js'

type GrantRow = {
  patient: string
  grantee: string
  scope: string
  kind_mask: number
  expires_at: number
  flags: number
  epoch: number
  key_bundle: string | null
}

function grantJson(row: GrantRow, records: string[]) {
  return {
    patient: getAddress(row.patient),
    grantee: getAddress(row.grantee),
    scope: row.scope,
    kindMask: row.kind_mask,
    expiresAt: row.expires_at,
    download: (row.flags & 1) === 1,
    deidentifiedOnly: (row.flags & 2) === 2,
    epoch: row.epoch,
    keyBundle: row.key_bundle,
    records,
  }
}

/** Grants as answered, a `Records` grant with the records it covers. */
function grantsJson(ctx: NodeContext, rows: GrantRow[]) {
  const recordsOf = ctx.db.prepare(
    'SELECT record_id FROM grant_records WHERE patient = ? AND grantee = ? AND epoch = ? ORDER BY record_id',
  )
  return rows.map((row) =>
    grantJson(
      row,
      row.scope === 'Records'
        ? (recordsOf.all(row.patient, row.grantee, row.epoch) as Array<{ record_id: string }>).map(
            (r) => r.record_id,
          )
        : [],
    ),
  )
}

export function grantRoutes(app: Hono, ctx: NodeContext): void {
  // Active grants of a patient: the patient manages them; uploaders of any unit need them to wrap new
  // records for standing grantees (grants are public on chain anyway; this is the index of them).
  app.get('/api/v1/grants', async (c) => {
    const caller = await authenticate(c, ctx)
    const patient = parseAddress(c.req.query('patient') ?? caller, 'patient')
    const grantee = c.req.query('grantee') ? parseAddress(c.req.query('grantee'), 'grantee') : undefined
    if (caller !== patient && caller !== grantee) await requireParticipant(ctx, caller, ['Uploader', 'Unit'])
    await syncIndex(ctx)
    const now = await ctx.chain.reader.now()
    const rows = ctx.db
      .prepare(
        `SELECT * FROM grants WHERE patient = ? ${grantee ? 'AND grantee = ?' : ''} AND scope != 'None' AND expires_at > ?
         ORDER BY grantee`,
      )
      .all(
        ...(grantee ? [patient.toLowerCase(), grantee.toLowerCase(), now] : [patient.toLowerCase(), now]),
      ) as GrantRow[]
    return c.json({
      patient,
      grants: grantsJson(ctx, rows),
    })
  })

  // The grants the caller holds: the patients who let it read their records (a medic's patient list).
  app.get('/api/v1/grants/received', async (c) => {
    const caller = await authenticate(c, ctx)
    await syncIndex(ctx)
    const now = await ctx.chain.reader.now()
    const rows = ctx.db
      .prepare(
        `SELECT * FROM grants WHERE grantee = ? AND scope != 'None' AND expires_at > ? ORDER BY patient`,
      )
      .all(caller.toLowerCase(), now) as GrantRow[]
    return c.json({
      grantee: caller,
      grants: grantsJson(ctx, rows),
    })
  })

  // Emergency accesses declared for a patient (the patient's view), or by a medic (their own).
  app.get('/api/v1/emergencies', async (c) => {
    const caller = (await authenticate(c, ctx)).toLowerCase()
    await syncIndex(ctx)
    const now = await ctx.chain.reader.now()
    const rows = ctx.db
      .prepare('SELECT * FROM emergencies WHERE patient = ? OR medic = ? ORDER BY block_number DESC')
      .all(caller, caller) as Array<{
      medic: string
      patient: string
      unit_index: number
      reason: number
      until: number
      block_number: number
      ended: number
    }>
    return c.json({
      emergencies: rows.map((r) => ({
        medic: getAddress(r.medic),
        patient: getAddress(r.patient),
        unitIndex: r.unit_index,
        reasonCode: r.reason,
        until: r.until,
        active: r.ended === 0 && r.until > now,
        ended: r.ended === 1,
        blockNumber: r.block_number,
      })),
    })
  })

  // The key bundle of the current grant, for its patient and grantee only.
  app.get('/api/v1/grants/:patient/:grantee/bundle', async (c) => {
    const caller = await authenticate(c, ctx)
    const patient = parseAddress(c.req.param('patient'), 'patient')
    const grantee = parseAddress(c.req.param('grantee'), 'grantee')
    const facts = {
      action: 'key-bundle.release',
      actor: caller,
      patient,
      detail: `to:${grantee.toLowerCase()}`,
    } as const
    return audited(c, ctx, facts, async () => {
      if (caller !== patient && caller !== grantee)
        throw new AccessDeniedError('Only the patient and the grantee see a key bundle')
      // A suspended (or rejected) grantee is refused by the chain everywhere else: not the keys either.
      if (caller === grantee && caller !== patient) {
        const status = (await ctx.chain.reader.participant(grantee)).status
        if (status !== 'Approved')
          throw new AccessDeniedError(`This account is not approved (status: ${status})`)
      }
      await syncIndex(ctx)
      // The chain decides (the index may lag): a live grant, and never the originals' keys to a
      // de-identified-only grantee.
      const grant = await ctx.chain.reader.grant(patient, grantee)
      const now = await ctx.chain.reader.now()
      if (grant.scope === 'None' || grant.expiresAt <= now) throw new AccessDeniedError('No active grant')
      if ((grant.flags & 2) !== 0) throw new NotFoundError('This grant has no key bundle')
      const row = ctx.db
        .prepare('SELECT * FROM grants WHERE patient = ? AND grantee = ? AND epoch = ?')
        .get(patient.toLowerCase(), grantee.toLowerCase(), grant.epoch) as GrantRow | undefined
      if (!row) throw new NotFoundError('This node has not indexed the grant yet')
      if (!row.key_bundle || /^0x0+$/.test(row.key_bundle))
        throw new NotFoundError('This grant has no key bundle')
      const cid = dagCborCidFromDigest(row.key_bundle as Hex)
      if (!(await ctx.store.has(cid))) throw new NotFoundError('This node does not hold the key bundle')
      const bytes = await ctx.store.getBlock(cid)
      return new Response(bytes as BufferSource, {
        headers: { 'content-type': 'application/vnd.ipld.dag-cbor' },
      })
    })
  })
}
