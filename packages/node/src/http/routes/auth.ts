import type { Context, Hono } from 'hono'
import { deleteCookie, setCookie } from 'hono/cookie'
import { z } from 'zod'
import { verifySignIn } from '../../auth/verify-sign-in.js'
import type { NodeContext } from '../../context.js'
import { audited, recordAudit } from '../audit.js'
import { authenticate, resolveSession, SESSION_COOKIE, sessionToken } from '../authenticate.js'
import { parseJsonBody, readBodyLimited } from '../body.js'
import { UnauthenticatedError } from '../errors.js'

const signInSchema = z.strictObject({
  message: z.string().min(1).max(4096),
  signature: z
    .string()
    .regex(/^0x[0-9a-fA-F]+$/)
    .max(20_000),
})

/** The statement every PCMIMS sign-in message carries, so a user sees what they sign. */
export const SIGN_IN_STATEMENT = 'Sign in to this PCMIMS node.'

/**
 * Sign-In with Ethereum (EIP-4361): the node issues a single-use nonce, the client signs a message
 * naming this node, its chain and the nonce, and gets a session (bearer token and HttpOnly cookie).
 */
export function authRoutes(app: Hono, ctx: NodeContext): void {
  app.post('/api/v1/auth/nonce', (c) => {
    const { nonce, expiresAt } = ctx.sessions.issueNonce()
    const origin = new URL(ctx.origin)
    return c.json({
      nonce,
      expiresAt: new Date(expiresAt).toISOString(),
      domain: origin.host,
      uri: origin.origin,
      chainId: ctx.chain.chainId,
      version: '1',
      statement: SIGN_IN_STATEMENT,
    })
  })

  app.post('/api/v1/auth/sign-in', async (c) => {
    const body = parseJsonBody(signInSchema, await readBodyLimited(c.req.raw, 16 * 1024), 'sign-in')
    const { address, notAfter } = await audited(
      c,
      ctx,
      { action: 'session.sign-in', actor: null },
      async (facts) => {
        const verified = await verifySignIn(ctx, ctx.sessions, {
          message: body.message,
          signature: body.signature as `0x${string}`,
        })
        facts.actor = verified.address
        return verified
      },
    )
    const { token, session } = ctx.sessions.create(address, notAfter)
    setCookie(c, SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: ctx.origin.startsWith('https:'),
      path: '/',
      expires: new Date(session.expiresAt),
    })
    ctx.logger.info({ caller: address }, 'signed in')
    return c.json({ token, ...sessionJson(session) })
  })

  app.get('/api/v1/auth/session', async (c) => {
    const session = resolveSession(c, ctx)
    if (!session) throw new UnauthenticatedError()
    return c.json(sessionJson(session))
  })

  app.post('/api/v1/auth/sign-out', async (c) => {
    const caller = await authenticate(c, ctx)
    signOut(c, ctx)
    recordAudit(c, ctx, { action: 'session.sign-out', actor: caller })
    return c.body(null, 204)
  })
}

function signOut(c: Context, ctx: NodeContext): void {
  const credential = sessionToken(c)
  if (credential) ctx.sessions.revoke(credential.token)
  deleteCookie(c, SESSION_COOKIE, { path: '/' })
}

function sessionJson(session: { address: string; expiresAt: number; idleExpiresAt: number }) {
  return {
    address: session.address,
    expiresAt: new Date(session.expiresAt).toISOString(),
    idleExpiresAt: new Date(session.idleExpiresAt).toISOString(),
  }
}
