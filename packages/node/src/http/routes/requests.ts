import type { Hono } from 'hono'
import { getAddress } from 'viem'
import type { NodeContext } from '../../context.js'
import { authenticate } from '../authenticate.js'
import { syncIndex } from '../sync-index.js'

const PURPOSES = ['Treatment', 'Research', 'Insurance', 'Legal', 'Other']

export function requestRoutes(app: Hono, ctx: NodeContext): void {
  // Access requests addressed to the caller (as patient) or made by the caller (as requestor).
  app.get('/api/v1/requests', async (c) => {
    const caller = (await authenticate(c, ctx)).toLowerCase()
    await syncIndex(ctx)
    const rows = ctx.db
      .prepare('SELECT * FROM requests WHERE patient = ? OR requestor = ? ORDER BY CAST(id AS INTEGER) DESC')
      .all(caller, caller) as Array<{
      id: string
      requestor: string
      patient: string
      scope: string
      kind_mask: number
      purpose: number
      details: string | null
      status: string
      created_block: number
    }>
    return c.json({
      requests: rows.map((r) => ({
        id: r.id,
        requestor: getAddress(r.requestor),
        patient: getAddress(r.patient),
        scope: r.scope,
        kindMask: r.kind_mask,
        purpose: PURPOSES[r.purpose] ?? 'Other',
        status: r.status,
        direction: r.patient === caller ? 'incoming' : 'outgoing',
      })),
    })
  })
}
