import { UNSIGNED_PAYLOAD, verifyRequest } from '@pcmims/core'
import type { Context } from 'hono'
import type { Address, Hex } from 'viem'
import type { AccessView, NodeContext, ParticipantView } from '../context.js'
import { readBodyLimited, sha256Hex } from './body.js'
import { AccessDeniedError, HttpError } from './errors.js'

/** The URL the client signed: this node's own origin, whatever Host header the request carries. */
function signedUrl(c: Context, ctx: NodeContext): string {
  const url = new URL(c.req.url)
  const origin = new URL(ctx.origin)
  url.protocol = origin.protocol
  url.host = origin.host
  return url.toString()
}

/** Authenticates a request without a body or with a streamed, content-addressed one. */
export async function authenticateStreaming(c: Context, ctx: NodeContext): Promise<Address> {
  return verifyRequest({
    authorization: c.req.header('authorization'),
    method: c.req.method,
    url: signedUrl(c, ctx),
    bodyDigest: (claimed) => (claimed === UNSIGNED_PAYLOAD || c.req.method === 'GET' ? claimed : ''),
  })
}

/** Reads a bounded body, then checks the signature over its SHA-256. */
export async function authenticateWithBody(
  c: Context,
  ctx: NodeContext,
  limit: number,
): Promise<{ caller: Address; body: Uint8Array }> {
  const body = await readBodyLimited(c.req.raw, limit)
  const digest = sha256Hex(body)
  const caller = await verifyRequest({
    authorization: c.req.header('authorization'),
    method: c.req.method,
    url: signedUrl(c, ctx),
    bodyDigest: () => digest,
  })
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
 * The chain's verdict on reading a record's original: allowed, and not limited to de-identified copies
 * (a de-identified-only grantee is served the copies made for it, never the original).
 */
export async function requireRecordAccess(
  ctx: NodeContext,
  caller: Address,
  recordId: Hex,
): Promise<AccessView> {
  const access = await ctx.chain.reader.access(caller, recordId)
  if (!access.allowed) throw new AccessDeniedError('No access to this record')
  if (access.deidentifiedOnly) {
    throw new HttpError(403, 'The patient allowed de-identified copies only', { code: 'DEIDENTIFIED_ONLY' })
  }
  return access
}
