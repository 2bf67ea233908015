import { bytesToHex, type LocalAccount } from 'viem'
import { platformFetch } from '#platform/fetch'
import { signRequest, UNSIGNED_PAYLOAD } from '../auth/request-signature.js'
import { BaseError } from '../errors/base-error.js'

/** An error answer from a PCMIMS node (its problem+json body), or no answer at all. */
export class NodeRequestError extends BaseError {
  override name = 'NodeRequestError'
  readonly status: number
  constructor(status: number, title: string, code: string, detail?: string, cause?: unknown) {
    super(title, { code, details: detail, cause })
    this.status = status
  }
}

export type NodeClient = {
  readonly url: string
  readonly account: LocalAccount | undefined
  /** JSON request; signed when the client has an account. */
  json<T>(
    method: string,
    path: string,
    params?: { body?: unknown; query?: QueryParams | undefined; signal?: AbortSignal | undefined },
  ): Promise<T>
  /** Raw request with a streamed body (unsigned payload) or a streamed answer. */
  raw(
    method: string,
    path: string,
    params?: {
      body?: ReadableStream<Uint8Array> | Uint8Array | undefined
      contentType?: string | undefined
      query?: QueryParams | undefined
      signal?: AbortSignal | undefined
      bodyDigest?: string | undefined
    },
  ): Promise<Response>
}

export type QueryParams = Record<string, string | number | undefined>

export type CreateNodeClientParameters = {
  url: string
  account?: LocalAccount | undefined
  fetch?: typeof fetch
}

export function createNodeClient({
  url,
  account,
  fetch: fetchImpl = platformFetch,
}: CreateNodeClientParameters): NodeClient {
  const base = url.replace(/\/+$/, '')

  function buildUrl(path: string, query?: QueryParams): string {
    const target = new URL(base + path)
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) target.searchParams.set(key, String(value))
    }
    return target.toString()
  }

  async function send(
    method: string,
    target: string,
    init: {
      body?: BodyInit | undefined
      headers: Record<string, string>
      bodyDigest: string
      signal?: AbortSignal | undefined
    },
  ): Promise<Response> {
    const headers = { ...init.headers }
    if (account) {
      headers.authorization = await signRequest({
        account,
        method,
        url: target,
        bodyDigest: init.bodyDigest,
        timestamp: Date.now(),
      })
    }
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

  return {
    url: base,
    account,
    async json(method, path, params = {}) {
      const target = buildUrl(path, params.query)
      const bytes =
        params.body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(params.body))
      const response = await send(method, target, {
        body: bytes,
        headers: bytes ? { 'content-type': 'application/json' } : {},
        bodyDigest: await sha256Hex(bytes ?? new Uint8Array()),
        signal: params.signal,
      })
      return (await response.json()) as never
    },
    async raw(method, path, params = {}) {
      const target = buildUrl(path, params.query)
      const body = params.body
      return send(method, target, {
        body: body as BodyInit | undefined,
        headers: params.contentType ? { 'content-type': params.contentType } : {},
        bodyDigest:
          params.bodyDigest ??
          (body instanceof Uint8Array
            ? await sha256Hex(body)
            : body
              ? UNSIGNED_PAYLOAD
              : await sha256Hex(new Uint8Array())),
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
  return new NodeRequestError(response.status, title, code, detail)
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as BufferSource))
  return bytesToHex(digest).slice(2)
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
