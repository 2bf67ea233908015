import { type Address, getAddress, type Hex, isHex } from 'viem'
import { parseSiweMessage } from 'viem/siwe'
import type { NodeContext } from '../context.js'
import { BadRequestError, UnauthenticatedError } from '../http/errors.js'
import type { SessionStore } from './sessions.js'

/** How far a message's issue time may be from this node's clock. */
export const MAX_ISSUED_AT_SKEW_MS = 5 * 60 * 1000

export type VerifySignInParameters = {
  message: string
  signature: Hex
  now?: number
}

export type VerifySignInReturnType = {
  address: Address
  /** The message's own expiration time, which caps the session (ms since epoch). */
  notAfter?: number | undefined
}

function rejected(detail: string): UnauthenticatedError {
  return new UnauthenticatedError('Sign-in refused', detail, 'SIGN_IN_REJECTED')
}

/**
 * Checks an EIP-4361 message for this node (domain, URI, chain id, version, times, a nonce this node
 * issued and nobody used) and its signature — an EOA's, or a contract wallet's through ERC-1271 —
 * then uses up the nonce. Every refusal says which check failed.
 */
export async function verifySignIn(
  ctx: Pick<NodeContext, 'origin' | 'chain'>,
  sessions: SessionStore,
  params: VerifySignInParameters,
): Promise<VerifySignInReturnType> {
  const now = params.now ?? Date.now()
  if (!isHex(params.signature) || params.signature.length < 4 || params.signature.length > 20_000) {
    throw new BadRequestError('signature is not hex', undefined, 'INVALID_SIGN_IN')
  }
  // The parser is regex-based: bound its input first.
  if (params.message.length > 4096)
    throw new BadRequestError('Sign-in message is too long', undefined, 'INVALID_SIGN_IN')
  const fields = parseSiweMessage(params.message)
  if (
    !fields.address ||
    !fields.domain ||
    !fields.uri ||
    !fields.nonce ||
    !fields.chainId ||
    !fields.version
  ) {
    throw new BadRequestError('Not an EIP-4361 sign-in message', undefined, 'INVALID_SIGN_IN')
  }
  const origin = new URL(ctx.origin)
  if (fields.domain !== origin.host) throw rejected(`domain must be ${origin.host}`)
  if (fields.scheme !== undefined && `${fields.scheme}:` !== origin.protocol) {
    throw rejected(`scheme must be ${origin.protocol.slice(0, -1)}`)
  }
  let uriOrigin: string
  try {
    uriOrigin = new URL(fields.uri).origin
  } catch {
    throw rejected('uri is not a URL')
  }
  if (uriOrigin !== origin.origin) throw rejected(`uri must be on ${origin.origin}`)
  if (fields.version !== '1') throw rejected('version must be 1')
  if (fields.chainId !== ctx.chain.chainId) throw rejected(`chain id must be ${ctx.chain.chainId}`)
  const issuedAt = fields.issuedAt?.getTime()
  if (issuedAt === undefined || Number.isNaN(issuedAt)) throw rejected('issued-at is required')
  if (Math.abs(issuedAt - now) > MAX_ISSUED_AT_SKEW_MS) throw rejected('issued-at is too far from now')
  const expiration = fields.expirationTime?.getTime()
  if (expiration !== undefined && (Number.isNaN(expiration) || expiration <= now)) {
    throw rejected('the message has expired')
  }
  const notBefore = fields.notBefore?.getTime()
  if (notBefore !== undefined && (Number.isNaN(notBefore) || notBefore > now)) {
    throw rejected('the message is not valid yet')
  }
  const address = getAddress(fields.address)
  // Fails closed: a chain that cannot be read (ERC-1271 needs it) is a 503, not a pass.
  const valid = await ctx.chain.reader.verifyMessage(address, params.message, params.signature)
  if (!valid) throw rejected('the signature does not match the address')
  if (!sessions.consumeNonce(fields.nonce)) throw rejected('the nonce is unknown, expired or already used')
  return { address, notAfter: expiration }
}
