import { createConnection, createServer, type Server, type Socket } from 'node:net'

/** Which JSON-RPC request, seen on its way to the chain, cuts the link, and when. */
export type CutTrigger = {
  /** JSON-RPC method, e.g. `eth_sendRawTransaction`. */
  method: string
  /**
   * `after-request`: once the whole request has been handed to the chain, before any answer comes back.
   * `answer-lost`: once the chain answers it — the answer is dropped, so the caller never sees it.
   */
  when: 'after-request' | 'answer-lost'
}

export type TcpForwarder = {
  /** `http://127.0.0.1:<port>`: what the node is told the chain's RPC URL is. */
  readonly url: string
  readonly port: number
  readonly up: boolean
  /** Methods of the JSON-RPC requests that went through, in order (batches flattened). */
  readonly methods: readonly string[]
  /** Stops listening and destroys every open connection (both sides). */
  cut(): Promise<void>
  /** Listens again on the same port. */
  restore(): Promise<void>
  /** Cuts once a request matching `trigger` passes; resolves when it has. One trigger at a time. */
  armCut(trigger: CutTrigger): Promise<void>
  close(): Promise<void>
}

/**
 * A loopback TCP forwarder in front of a chain's JSON-RPC endpoint, so a test can take the chain away
 * from a node (connection refused, open connections reset) and bring it back on the same port without
 * touching the chain's state. It parses the HTTP/1.1 requests going through (Content-Length bodies, as
 * fetch sends them) only to know which JSON-RPC method each one is.
 */
export async function startTcpForwarder(params: { target: string; port?: number }): Promise<TcpForwarder> {
  const target = new URL(params.target)
  const targetPort = Number(target.port)
  const sockets = new Set<Socket>()
  const methods: string[] = []
  let server: Server | undefined
  let port = params.port ?? 0
  let armed: { trigger: CutTrigger; fired: () => void } | undefined

  const onConnection = (client: Socket) => {
    const upstream = createConnection({ host: target.hostname, port: targetPort })
    sockets.add(client)
    sockets.add(upstream)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    let pending: Buffer = Buffer.alloc(0)
    let dropAnswer = false
    const end = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', end)
    upstream.on('error', end)
    client.on('close', end)
    upstream.on('close', end)

    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      let cutAfterWrite = false
      for (;;) {
        const request = takeRequest(pending)
        if (!request) break
        pending = request.rest
        for (const method of request.methods) {
          methods.push(method)
          if (armed && armed.trigger.method === method) {
            if (armed.trigger.when === 'after-request') cutAfterWrite = true
            else dropAnswer = true
          }
        }
      }
      if (!upstream.write(chunk, () => cutAfterWrite && fire())) {
        client.pause()
        upstream.once('drain', () => client.resume())
      }
    })
    upstream.on('data', (chunk: Buffer) => {
      if (dropAnswer) {
        fire()
        return
      }
      if (!client.write(chunk)) {
        upstream.pause()
        client.once('drain', () => upstream.resume())
      }
    })
  }

  function fire(): void {
    const current = armed
    if (!current) return
    armed = undefined
    void cut().then(current.fired)
  }

  async function listen(): Promise<void> {
    const next = createServer(onConnection)
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject)
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject)
        resolve()
      })
    })
    port = (next.address() as { port: number }).port
    server = next
  }

  async function cut(): Promise<void> {
    const current = server
    server = undefined
    for (const socket of sockets) socket.destroy()
    sockets.clear()
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()))
  }

  await listen()
  return {
    get url() {
      return `http://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    get up() {
      return server !== undefined
    },
    methods,
    cut,
    async restore() {
      if (!server) await listen()
    },
    armCut(trigger) {
      if (armed) throw new Error('a cut is already armed')
      return new Promise<void>((resolve) => {
        armed = { trigger, fired: resolve }
      })
    },
    async close() {
      armed = undefined
      await cut()
    },
  }
}

/** One complete HTTP/1.1 request from the front of `buffer`, with the JSON-RPC methods in its body. */
function takeRequest(buffer: Buffer): { methods: string[]; rest: Buffer } | undefined {
  const headerEnd = buffer.indexOf('\r\n\r\n')
  if (headerEnd < 0) return undefined
  const head = buffer.subarray(0, headerEnd).toString('latin1')
  const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
  const bodyStart = headerEnd + 4
  if (buffer.length < bodyStart + length) return undefined
  const body = buffer.subarray(bodyStart, bodyStart + length).toString('utf8')
  let methods: string[] = []
  try {
    const parsed = JSON.parse(body) as { method?: unknown } | Array<{ method?: unknown }>
    methods = (Array.isArray(parsed) ? parsed : [parsed])
      .map((r) => r.method)
      .filter((m): m is string => typeof m === 'string')
  } catch {
    // not JSON-RPC: forwarded all the same
  }
  return { methods, rest: buffer.subarray(bodyStart + length) }
}
