import { type Address, getAddress, type Hex, type LocalAccount, recoverMessageAddress } from 'viem'
import { BaseError, type BaseErrorParameters } from '../errors/base-error.js'

/**
 * Every client request to a node is signed by the caller's account (EIP-191 personal message), so the
 * node attributes each request to one address and checks it against the chain. The signed text binds
 * the node's origin, method, path and query, a timestamp and the body's SHA-256 (or
 * `UNSIGNED-PAYLOAD` for streamed, content-addressed uploads, whose integrity is the CID).
 */
export const AUTH_SCHEME = 'PCMIMS-Signature'
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'
/** How far a request's timestamp may be from the node's clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000

export class AuthenticationError extends BaseError {
  override name = 'AuthenticationError'
  constructor(message: string, params: BaseErrorParameters = {}) {
    super(message, { code: 'UNAUTHENTICATED', ...params })
  }
}

export type RequestToSign = {
  method: string
  /** Absolute URL of the request. */
  url: string
  /** Hex SHA-256 of the body, or UNSIGNED_PAYLOAD. */
  bodyDigest: string
  timestamp: number
}

export function requestSigningText(request: RequestToSign): string {
  const url = new URL(request.url)
  return [
    'PCMIMS request v1',
    `${request.method.toUpperCase()} ${url.origin}${url.pathname}${url.search}`,
    `time ${request.timestamp}`,
    `body ${request.bodyDigest}`,
  ].join('\n')
}

export type SignRequestParameters = RequestToSign & { account: LocalAccount }

/** Returns the value of the `Authorization` header for a request. */
export async function signRequest({ account, ...request }: SignRequestParameters): Promise<string> {
  const signature = await account.signMessage({ message: requestSigningText(request) })
  return `${AUTH_SCHEME} address=${account.address},time=${request.timestamp},body=${request.bodyDigest},signature=${signature}`
}

export type VerifyRequestParameters = {
  authorization: string | undefined | null
  method: string
  url: string
  /** The digest the node computed itself, or UNSIGNED_PAYLOAD where the route streams its body. */
  bodyDigest: (claimed: string) => string
  now?: number
}

/** Checks an `Authorization` header and returns the address that signed the request. */
export async function verifyRequest(params: VerifyRequestParameters): Promise<Address> {
  const header = params.authorization
  if (!header) throw new AuthenticationError('This request must be signed', { details: `use ${AUTH_SCHEME}` })
  if (header.length > 1024 || !header.startsWith(`${AUTH_SCHEME} `)) {
    throw new AuthenticationError('Unsupported authorization scheme')
  }
  const fields = new Map<string, string>()
  for (const part of header.slice(AUTH_SCHEME.length + 1).split(',')) {
    const eq = part.indexOf('=')
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  const address = fields.get('address')
  const time = Number(fields.get('time'))
  const body = fields.get('body')
  const signature = fields.get('signature')
  if (
    !address ||
    !/^0x[0-9a-fA-F]{40}$/.test(address) ||
    !body ||
    !signature ||
    !/^0x[0-9a-fA-F]{130}$/.test(signature)
  ) {
    throw new AuthenticationError('Malformed authorization header')
  }
  if (!Number.isSafeInteger(time)) throw new AuthenticationError('Malformed authorization header')
  const now = params.now ?? Date.now()
  if (Math.abs(now - time) > MAX_CLOCK_SKEW_MS) {
    throw new AuthenticationError('Request signature expired', { details: 'check the clock of this machine' })
  }
  const expectedBody = params.bodyDigest(body)
  if (expectedBody !== body) throw new AuthenticationError('Request body does not match its signature')
  const text = requestSigningText({
    method: params.method,
    url: params.url,
    bodyDigest: body,
    timestamp: time,
  })
  let signer: Address
  try {
    signer = await recoverMessageAddress({ message: text, signature: signature as Hex })
  } catch (cause) {
    throw new AuthenticationError('Invalid request signature', { cause })
  }
  if (signer !== getAddress(address)) throw new AuthenticationError('Invalid request signature')
  return signer
}
