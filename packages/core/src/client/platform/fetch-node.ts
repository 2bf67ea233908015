import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/**
 * Node's built-in fetch keeps a streamed request body in memory until the request ends (undici issue
 * #4058), so a 1 GiB upload would cost 1 GiB of RAM. Requests with a stream body go through node:http
 * instead, which writes with backpressure; everything else uses fetch.
 */
export const platformFetch: typeof fetch = async (input, init) => {
  if (!(init?.body instanceof ReadableStream)) return globalThis.fetch(input, init)
  const url = new URL(input instanceof Request ? input.url : String(input))
  const headers: Record<string, string> = {}
  new Headers(init.headers).forEach((value, key) => {
    headers[key] = value
  })
  const signal = init.signal ?? undefined
  signal?.throwIfAborted()
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise<Response>((resolve, reject) => {
    const req = send(url, { method: init.method ?? 'POST', headers, ...(signal ? { signal } : {}) })
    req.once('error', reject)
    req.once('response', (res: IncomingMessage) => {
      const responseHeaders = new Headers()
      for (const [key, value] of Object.entries(res.headers)) {
        if (typeof value === 'string') responseHeaders.set(key, value)
        else if (Array.isArray(value)) for (const v of value) responseHeaders.append(key, v)
      }
      const status = res.statusCode ?? 502
      const body =
        status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>)
      resolve(new Response(body, { status, statusText: res.statusMessage ?? '', headers: responseHeaders }))
    })
    // A server that answers early (an error before reading everything) ends the upload; the answer wins.
    pipeline(Readable.fromWeb(init.body as never), req).catch((error: unknown) => {
      if (!req.destroyed) req.destroy(error as Error)
      reject(error)
    })
  })
}
