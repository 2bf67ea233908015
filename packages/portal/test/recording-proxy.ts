import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export type RecordedRequest = { method: string; path: string; body: Buffer }

export type RecordingProxy = {
  /** The proxy's URL: pages opened here reach the node only through it. */
  url: string
  /** Every request that went through, with its whole body. */
  requests: RecordedRequest[]
  close(): Promise<void>
}

/** A port free on 127.0.0.1 now, for a server that must know its URL before it starts. */
export async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/**
 * A reverse proxy on 127.0.0.1 that keeps every request body it forwards to the node: what the browser
 * really sent over the wire, whatever kind of body (Blob, stream, form) the page used — the browser's
 * own request events leave Blob bodies out. The node must name the proxy as its `publicUrl`: sign-in
 * messages are bound to the origin the browser sees, and the browser refuses to sign for another.
 */
export async function startRecordingProxy(target: string, port = 0): Promise<RecordingProxy> {
  const upstream = new URL(target)
  const requests: RecordedRequest[] = []
  const server: Server = createServer(async (incoming: IncomingMessage, outgoing) => {
    const chunks: Buffer[] = []
    for await (const chunk of incoming) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    requests.push({ method: incoming.method ?? 'GET', path: incoming.url ?? '/', body })
    const headers = { ...incoming.headers, host: upstream.host }
    // The node checks Origin on cookie-authenticated writes; the page's origin is the proxy's.
    if (headers.origin) headers.origin = upstream.origin
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(outgoing)
      },
    )
    forward.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502)
      outgoing.end()
    })
    forward.end(body)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const bound = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${bound}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
