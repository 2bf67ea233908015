import { Hono } from 'hono'
import type { NodeContext } from '../context.js'
import { NotFoundError } from './errors.js'
import { errorToResponse } from './problem.js'
import { authRoutes } from './routes/auth.js'
import { blobRoutes } from './routes/blobs.js'
import { chainRpcRoutes } from './routes/chain-rpc.js'
import { custodyRoutes } from './routes/custody.js'
import { grantRoutes } from './routes/grants.js'
import { metaRoutes } from './routes/meta.js'
import { participantRoutes } from './routes/participants.js'
import { recordRoutes } from './routes/records.js'
import { requestRoutes } from './routes/requests.js'

/** The node's HTTP API: web-standard Request/Response, so tests call `app.fetch` in-process. */
export function createApp(ctx: NodeContext): Hono {
  const app = new Hono()
  app.use('*', async (c, next) => {
    c.header('x-content-type-options', 'nosniff')
    c.header('cache-control', 'no-store')
    await next()
  })
  metaRoutes(app, ctx)
  authRoutes(app, ctx)
  participantRoutes(app, ctx)
  blobRoutes(app, ctx)
  recordRoutes(app, ctx)
  custodyRoutes(app, ctx)
  chainRpcRoutes(app, ctx)
  grantRoutes(app, ctx)
  requestRoutes(app, ctx)
  app.notFound(() => errorToResponse(new NotFoundError('No such route'), ctx.logger, crypto.randomUUID()))
  app.onError((error) => errorToResponse(error, ctx.logger, crypto.randomUUID()))
  return app
}
