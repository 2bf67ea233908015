import type { Hono } from 'hono'
import { getAddress } from 'viem'
import type { NodeContext } from '../../context.js'
import { authenticate, authenticateWithBody } from '../authenticate.js'
import { AccessDeniedError, NotFoundError } from '../errors.js'
import { parseAddress } from '../params.js'
import { syncIndex } from '../sync-index.js'

export function participantRoutes(app: Hono, ctx: NodeContext): void {
  // Development chain only: gives the signing account 100 ETH so it can register.
  app.post('/api/v1/dev/fund', async (c) => {
    const { caller } = await authenticateWithBody(c, ctx, 1024)
    if (!ctx.dev) throw new NotFoundError('This node runs on a real network: fund accounts there')
    await ctx.dev.fund(caller)
    ctx.logger.info({ account: caller }, 'development account funded')
    return c.json({ address: caller, funded: true })
  })

  // Development chain only: anvil's well-known accounts, so the portal can offer one-click sign-in.
  app.get('/api/v1/dev/accounts', (c) => {
    if (!ctx.dev) throw new NotFoundError('This node runs on a real network: it has no development accounts')
    return c.json({ development: true, accounts: ctx.dev.accounts })
  })

  // Public chain facts about one account (role, status, unit, encryption key).
  app.get('/api/v1/participants/:address', async (c) => {
    const address = parseAddress(c.req.param('address'), 'address')
    return c.json(await ctx.chain.reader.participant(address))
  })

  // Registrations at a unit, for that unit's admin.
  app.get('/api/v1/units/:unit/participants', async (c) => {
    const caller = await authenticate(c, ctx)
    const unit = parseAddress(c.req.param('unit'), 'unit')
    if (caller !== unit) throw new AccessDeniedError("Only the unit's admin lists its registrations")
    await syncIndex(ctx)
    const status = c.req.query('status')
    const rows = ctx.db
      .prepare(
        `SELECT address, role, status, encryption_key FROM participants WHERE unit = ? AND role != 'Unit'
         ${status ? 'AND status = ?' : ''} ORDER BY updated_block`,
      )
      .all(...(status ? [unit.toLowerCase(), status] : [unit.toLowerCase()])) as Array<{
      address: string
      role: string
      status: string
      encryption_key: string
    }>
    return c.json({
      unit,
      participants: rows.map((r) => ({ address: getAddress(r.address), role: r.role, status: r.status })),
    })
  })
}
