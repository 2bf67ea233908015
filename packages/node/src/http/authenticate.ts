import type { Context } from 'hono'
import { getCookie } from 'hono/cookie'
import type { Address, Hex } from 'viem'
import type { Session } from '../auth/sessions.js'
import type { AccessView, NodeContext, ParticipantView } from '../context.js'
import { readBodyLimited } from './body.js'
import { AccessDeniedError, BadRequestError, HttpError, UnauthenticatedError } from './errors.js'
import { parseAddress } from './params.js'

/** The cookie a browser session rides on (HttpOnly, SameSite=Strict); other clients send a bearer token. */
export const SESSION_COOKIE = 'pcmims_session'

// One resolution per request, its failure included: the rate limiter resolves first, and an expired
// session (deleted as it is found expired) must still be reported as expired to the handler.
const sessions = new WeakMap<Request, { session: Session | undefined } | { error: unknown }>()

/** The session token a request carries, if any: `Authorization: Bearer …` first, then the cookie. */
export function sessionToken(c: Context): { token: string; via: 'bearer' | 'cookie' } | undefined {
  const header = c.req.header('authorization')
  if (header !== undefined) {
    const match = /^Bearer ([A-Za-z0-9_-]{1,128})$/.exec(header)
    if (!match?.[1])
      throw new UnauthenticatedError('Malformed Authorization header', 'expected: Bearer <token>')
    return { token: match[1], via: 'bearer' }
  }
  const cookie = getCookie(c, SESSION_COOKIE)
  return cookie ? { token: cookie, via: 'cookie' } : undefined
}

/**
 * The signed-in caller, or undefined when the request carries no credential. A credential that is
 * invalid or expired throws (401): a client that believes it is signed in must learn it is not.
 */
export function resolveCaller(c: Context, ctx: NodeContext): Address | undefined {
  return resolveSession(c, ctx)?.address
}

/** The request's live session, resolved once per request (see `resolveCaller`). */
export function resolveSession(c: Context, ctx: NodeContext): Session | undefined {
  const known = sessions.get(c.req.raw)
  if (known) {
    if ('error' in known) throw known.error
    return known.session
  }
  try {
    const session = resolveCredential(c, ctx)
    sessions.set(c.req.raw, { session })
    return session
  } catch (error) {
    sessions.set(c.req.raw, { error })
    throw error
  }
}

function resolveCredential(c: Context, ctx: NodeContext): Session | undefined {
  const credential = sessionToken(c)
  if (!credential) return undefined
  // A cookie rides along on cross-site requests: state-changing ones must come from this node's pages.
  if (credential.via === 'cookie' && !['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) {
    if (c.req.header('origin') !== new URL(ctx.origin).origin) {
      throw new AccessDeniedError('Cross-site request refused', 'the Origin header must be this node')
    }
  }
  return ctx.sessions.resolve(credential.token)
}

/** The signed-in caller; 401 without a live session. */
export async function authenticate(c: Context, ctx: NodeContext): Promise<Address> {
  const caller = resolveCaller(c, ctx)
  if (!caller) throw new UnauthenticatedError()
  return caller
}

/** The signed-in caller and a bounded body, read only once the caller is known. */
export async function authenticateWithBody(
  c: Context,
  ctx: NodeContext,
  limit: number,
): Promise<{ caller: Address; body: Uint8Array }> {
  const caller = await authenticate(c, ctx)
  const body = await readBodyLimited(c.req.raw, limit)
  return { caller, body }
}

/** Loads the caller's participant record from the chain and checks role and status. */
export async function requireParticipant(
  ctx: NodeContext,
  address: Address,
  roles: ReadonlyArray<ParticipantView['role']>,
): Promise<ParticipantView> {
  const participant = await ctx.chain.reader.participant(address)
  if (participant.status === 'None') throw new AccessDeniedError('This account is not registered')
  if (participant.status !== 'Approved') {
    throw new AccessDeniedError(`This account is not approved (status: ${participant.status})`)
  }
  if (!roles.includes(participant.role)) {
    throw new AccessDeniedError(
      `This action needs the role ${roles.join(' or ')}`,
      `caller role: ${participant.role}`,
    )
  }
  return participant
}

/**
 * The chain's verdict on reading a record: allowed. A de-identified-only grantee is refused every original
 * (DEIDENTIFIED_ONLY) and allowed the de-identified copies the patient made for it.
 */
export async function requireRecordAccess(
  ctx: NodeContext,
  caller: Address,
  recordId: Hex,
): Promise<AccessView> {
  const access = await ctx.chain.reader.access(caller, recordId)
  // The chain refuses originals to a de-identified-only grantee and says why in the flag.
  if (access.deidentifiedOnly) {
    throw new HttpError(403, 'The patient allowed de-identified copies only', { code: 'DEIDENTIFIED_ONLY' })
  }
  if (!access.allowed) throw new AccessDeniedError('No access to this record')
  return access
}

/** An address given as a record's patient: it must be an approved patient (400 otherwise). */
export async function requireApprovedPatient(
  ctx: NodeContext,
  text: string,
  name = 'patient',
): Promise<Address> {
  const address = parseAddress(text, name)
  const patient = await ctx.chain.reader.participant(address)
  if (patient.role !== 'Patient' || patient.status !== 'Approved') {
    throw new BadRequestError('The account is not an approved patient', address, 'PATIENT_NOT_APPROVED')
  }
  return address
}
