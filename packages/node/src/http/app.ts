import { type Context, Hono } from 'hono'
import type { NodeContext } from '../context.js'
import { resolveCaller } from './authenticate.js'
import { NotFoundError } from './errors.js'
import { apiSpec } from './openapi/api-spec.js'
import { openapiRoutes } from './openapi/openapi-document.js'
import { validateAgainstSpec } from './openapi/validate.js'
import { portalRoutes } from './portal.js'
import { errorToResponse } from './problem.js'
import { clientIp, createRateLimiter, rateLimit } from './rate-limit.js'
import { auditRoutes } from './routes/audit.js'
import { authRoutes } from './routes/auth.js'
import { blobRoutes } from './routes/blobs.js'
import { chainRpcRoutes } from './routes/chain-rpc.js'
import { custodyRoutes } from './routes/custody.js'
import { dicomwebRoutes } from './routes/dicomweb.js'
import { grantRoutes } from './routes/grants.js'
import { metaRoutes } from './routes/meta.js'
import { participantRoutes } from './routes/participants.js'
import { recordRoutes } from './routes/records.js'
import { requestRoutes } from './routes/requests.js'
import { stowRoutes } from './routes/stow.js'
import { unitIngestRoutes } from './routes/unit-ingest.js'
import { uploadRoutes } from './routes/uploads.js'

/** The node's HTTP API: web-standard Request/Response, so tests call `app.fetch` in-process. */
export function createApp(ctx: NodeContext): Hono {
  const app = new Hono()
  app.use('*', async (c, next) => {
    c.header('x-content-type-options', 'nosniff')
    c.header('cache-control', 'no-store')
    await next()
  })
  mountRateLimits(app, ctx)
  // Params and query checked against the OpenAPI registry before any handler; JSON answers after.
  app.use('/api/v1/*', validateAgainstSpec(apiSpec, { logger: ctx.logger }))
  openapiRoutes(app, ctx)
  metaRoutes(app, ctx)
  authRoutes(app, ctx)
  participantRoutes(app, ctx)
  blobRoutes(app, ctx)
  uploadRoutes(app, ctx)
  recordRoutes(app, ctx)
  custodyRoutes(app, ctx)
  dicomwebRoutes(app, ctx)
  stowRoutes(app, ctx)
  unitIngestRoutes(app, ctx)
  chainRpcRoutes(app, ctx)
  grantRoutes(app, ctx)
  requestRoutes(app, ctx)
  auditRoutes(app, ctx)
  portalRoutes(app, ctx)
  app.notFound(() => errorToResponse(new NotFoundError('No such route'), ctx.logger, crypto.randomUUID()))
  app.onError((error) => errorToResponse(error, ctx.logger, crypto.randomUUID()))
  return app
}

/**
 * Token buckets: sign-in attempts per client IP (a brute force of nonces costs the attacker, not the
 * node), and every other request per signed-in address, or per IP before sign-in.
 */
function mountRateLimits(app: Hono, ctx: NodeContext): void {
  const { burst, perSecond, signInPerMinute } = ctx.config.rateLimit
  const requests = createRateLimiter({ burst, perSecond })
  const signIns = createRateLimiter({ burst: signInPerMinute, perSecond: signInPerMinute / 60 })
  const byIp = (c: Context) => `ip:${clientIp(c) ?? 'in-process'}`
  app.use('/api/v1/auth/nonce', rateLimit(signIns, byIp))
  app.use('/api/v1/auth/sign-in', rateLimit(signIns, byIp))
  app.use(
    '/api/v1/*',
    rateLimit(requests, (c) => {
      let caller: string | undefined
      try {
        caller = resolveCaller(c, ctx)
      } catch {
        // An invalid credential is the handler's to refuse (401); it still costs its sender's IP.
      }
      return caller ? `address:${caller}` : byIp(c)
    }),
  )
}
