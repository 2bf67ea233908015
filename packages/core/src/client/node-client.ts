import type { Address, Hex } from 'viem'
import { platformFetch } from '#platform/fetch'
import { createSignInMessage } from '../auth/sign-in-message.js'
import { BaseError } from '../errors/base-error.js'

/** An error answer from a PCMIMS node (its problem+json body), or no answer at all. */
export class NodeRequestError extends BaseError {
  override name = 'NodeRequestError'
  readonly status: number
  /** Seconds the node asked the client to wait (429, 503), when it said. */
  readonly retryAfterS: number | undefined
  constructor(
    status: number,
    title: string,
    code: string,
    detail?: string,
    cause?: unknown,
    retryAfterS?: number,
  ) {
    super(title, { code, details: detail, cause })
    this.status = status
    this.retryAfterS = retryAfterS
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(signal.reason)
      },
      { once: true },
    )
  })
}

/** Who signs in: a local key, or anything that signs EIP-191 messages for an address (a contract wallet's owner). */
export type NodeClientSigner = {
  address: Address
  signMessage(args: { message: string }): Promise<Hex>
}

export type NodeSession = { token: string; address: Address; expiresAt: string; idleExpiresAt: string }

export type NodeClient = {
  readonly url: string
  readonly account: NodeClientSigner | undefined
  /** JSON request; authenticated (signing in first if needed) when the client has an account. */
  json<T>(
    method: string,
    path: string,
    params?: { body?: unknown; query?: QueryParams | undefined; signal?: AbortSignal | undefined },
  ): Promise<T>
  /** Raw request with a streamed body or a streamed answer. */
  raw(
    method: string,
    path: string,
    params?: {
      body?: ReadableStream<Uint8Array> | Uint8Array | undefined
      contentType?: string | undefined
      headers?: Record<string, string> | undefined
      query?: QueryParams | undefined
      signal?: AbortSignal | undefined
    },
  ): Promise<Response>
  /** Opens a session with Sign-In with Ethereum (done on the first request anyway). */
  signIn(params?: { signal?: AbortSignal | undefined }): Promise<NodeSession>
  /** Ends the session on the node. */
  signOut(params?: { signal?: AbortSignal | undefined }): Promise<void>
  /** The current session, if signed in. */
  readonly session: NodeSession | undefined
}

export type QueryParams = Record<string, string | number | undefined>

export type CreateNodeClientParameters = {
  url: string
  account?: NodeClientSigner | undefined
  fetch?: typeof fetch
  /** Reuse a session opened earlier (its token). */
  session?: NodeSession | undefined
}

// A node refuses a session it no longer knows with one of these; the client signs in again once.
const SESSION_GONE = new Set(['UNAUTHENTICATED', 'SESSION_EXPIRED'])

export function createNodeClient({
  url,
  account,
  fetch: fetchImpl = platformFetch,
  session: initialSession,
}: CreateNodeClientParameters): NodeClient {
  const base = url.replace(/\/+$/, '')
  let session: NodeSession | undefined = initialSession
  let signingIn: Promise<NodeSession> | undefined

  function buildUrl(path: string, query?: QueryParams): string {
    const target = new URL(base + path)
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) target.searchParams.set(key, String(value))
    }
    return target.toString()
  }

  /** Sends once more after a 429 for a replayable body, waiting as long as the node asks (≤ 5 s). */
  async function send(
    method: string,
    target: string,
    init: { body?: BodyInit | undefined; headers: Record<string, string>; signal?: AbortSignal | undefined },
    auth: boolean,
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await sendOnce(method, target, init, auth)
      } catch (error) {
        const retry =
          error instanceof NodeRequestError &&
          error.code === 'RATE_LIMITED' &&
          error.retryAfterS !== undefined &&
          attempt < 3 &&
          !(init.body instanceof ReadableStream)
        if (!retry) throw error
        await sleep(Math.min(error.retryAfterS ?? 1, 5) * 1000, init.signal)
      }
    }
  }

  async function sendOnce(
    method: string,
    target: string,
    init: { body?: BodyInit | undefined; headers: Record<string, string>; signal?: AbortSignal | undefined },
    auth: boolean,
  ): Promise<Response> {
    const headers = { ...init.headers }
    if (auth && account) headers.authorization = `Bearer ${(await currentSession(init.signal)).token}`
    let response: Response
    try {
      response = await fetchImpl(target, {
        method,
        headers,
        body: init.body ?? null,
        signal: init.signal ?? null,
        ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit)
    } catch (cause) {
      if ((cause as Error)?.name === 'AbortError') throw cause
      throw new NodeRequestError(0, `Cannot reach the node at ${base}`, 'NODE_UNREACHABLE', undefined, cause)
    }
    if (!response.ok) throw await toError(response)
    return response
  }

  /** Sends; when the node has forgotten the session, signs in again and resends a replayable body. */
  async function sendWithSession(
    method: string,
    target: string,
    init: { body?: BodyInit | undefined; headers: Record<string, string>; signal?: AbortSignal | undefined },
  ): Promise<Response> {
    try {
      return await send(method, target, init, true)
    } catch (error) {
      const replayable = !(init.body instanceof ReadableStream)
      if (!account || !replayable || !(error instanceof NodeRequestError) || !SESSION_GONE.has(error.code)) {
        throw error
      }
      session = undefined
      return send(method, target, init, true)
    }
  }

  async function currentSession(signal?: AbortSignal): Promise<NodeSession> {
    if (session) return session
    signingIn ??= signIn(signal).finally(() => {
      signingIn = undefined
    })
    return signingIn
  }

  async function signIn(signal?: AbortSignal): Promise<NodeSession> {
    if (!account) throw new NodeRequestError(0, 'No account to sign in with', 'NO_ACCOUNT')
    const challenge = (await (
      await send('POST', buildUrl('/api/v1/auth/nonce'), { headers: {}, signal }, false)
    ).json()) as { nonce: string; chainId: number; statement?: string }
    const message = createSignInMessage({
      address: account.address,
      nodeUrl: base,
      chainId: challenge.chainId,
      nonce: challenge.nonce,
      statement: challenge.statement,
    })
    const signature = await account.signMessage({ message })
    const opened = (await (
      await send(
        'POST',
        buildUrl('/api/v1/auth/sign-in'),
        {
          body: JSON.stringify({ message, signature }),
          headers: { 'content-type': 'application/json' },
          signal,
        },
        false,
      )
    ).json()) as NodeSession
    session = opened
    return opened
  }

  return {
    url: base,
    account,
    get session() {
      return session
    },
    async signIn(params = {}) {
      session = undefined
      return currentSession(params.signal)
    },
    async signOut(params = {}) {
      if (!session) return
      try {
        await send('POST', buildUrl('/api/v1/auth/sign-out'), { headers: {}, signal: params.signal }, true)
      } finally {
        session = undefined
      }
    },
    async json(method, path, params = {}) {
      const target = buildUrl(path, params.query)
      const body = params.body === undefined ? undefined : JSON.stringify(params.body)
      const response = await sendWithSession(method, target, {
        body,
        headers: body !== undefined ? { 'content-type': 'application/json' } : {},
        signal: params.signal,
      })
      if (response.status === 204) return undefined as never
      return (await response.json()) as never
    },
    async raw(method, path, params = {}) {
      const target = buildUrl(path, params.query)
      return sendWithSession(method, target, {
        body: params.body as BodyInit | undefined,
        headers: {
          ...(params.contentType ? { 'content-type': params.contentType } : {}),
          ...(params.headers ?? {}),
        },
        signal: params.signal,
      })
    },
  }
}

async function toError(response: Response): Promise<NodeRequestError> {
  let problem: { title?: unknown; code?: unknown; detail?: unknown } = {}
  try {
    problem = (await response.json()) as typeof problem
  } catch {
    // Not a problem+json body (a proxy, say): the status alone must do.
  }
  const title = typeof problem.title === 'string' ? problem.title : `The node answered ${response.status}`
  const code = typeof problem.code === 'string' ? problem.code : `HTTP_${response.status}`
  const detail = typeof problem.detail === 'string' ? problem.detail : undefined
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN)
  return new NodeRequestError(
    response.status,
    title,
    code,
    detail,
    undefined,
    Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined,
  )
}

/** An async iterable as a web ReadableStream (a streamed fetch body), pulling one chunk at a time. */
export function iterableToStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await iterator.next()
        if (done) controller.close()
        else controller.enqueue(value)
      } catch (error) {
        controller.error(error)
      }
    },
    async cancel(reason) {
      await iterator.return?.(reason)
    },
  })
}
