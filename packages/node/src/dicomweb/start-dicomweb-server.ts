import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { cors } from 'hono/cors'
import { NotFoundError } from '../http/errors.js'
import { errorToResponse } from '../http/problem.js'
import type { Logger } from '../logger.js'
import { createDicomwebApp } from './dicomweb-app.js'
import type { StudySource } from './study-source.js'

export type StartDicomwebServerParameters = {
  source: StudySource
  /** 0 (default) picks a free port. */
  port?: number | undefined
  /** The secret first path segment; a random 256-bit one when absent. */
  token?: string | undefined
  /** Where refused and failed requests are reported (one line each; no PHI). */
  log?: ((line: string) => void) | undefined
  signal?: AbortSignal | undefined
}

export type StartDicomwebServerReturnType = {
  /** The DICOMweb root to give a viewer (QIDO-RS, WADO-RS): `http://127.0.0.1:PORT/TOKEN/dicomweb`. */
  url: string
  port: number
  stop(): Promise<void>
}

/**
 * A DICOMweb server on the loopback interface only. It answers without sign-in (a viewer on the same
 * machine cannot sign in), so the root carries a random secret: other local users and web pages that do
 * not know the URL get 404 for every path. CORS is open so a browser viewer served from elsewhere can
 * call it; the secret, not the origin, is the guard.
 */
export async function startDicomwebServer(
  params: StartDicomwebServerParameters,
): Promise<StartDicomwebServerReturnType> {
  const token = params.token ?? Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(token)) {
    throw new TypeError('The path token must be 16 to 128 characters of A-Z, a-z, 0-9, _ and -')
  }
  const basePath = `/${token}/dicomweb`
  const log = params.log ?? (() => undefined)
  const logger = {
    error: (o: { requestId?: string }) => log(`request failed (${o.requestId ?? '-'})`),
    info: (o: { code?: string; status?: number }) => log(`request refused: ${o.status} ${o.code}`),
  } as unknown as Logger
  const app = new Hono()
  app.use(
    '*',
    cors({
      origin: '*',
      allowMethods: ['GET', 'OPTIONS'],
      allowHeaders: ['accept', 'content-type', 'authorization'],
      exposeHeaders: ['content-type', 'content-length', 'content-location'],
      maxAge: 600,
    }),
  )
  app.route('/', createDicomwebApp({ source: params.source, basePath }))
  app.notFound(() => errorToResponse(new NotFoundError('No such route'), logger, crypto.randomUUID()))
  app.onError((error) => errorToResponse(error, logger, crypto.randomUUID()))
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: params.port ?? 0 }) as Server
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve())
    server.once('error', reject)
  })
  const port = (server.address() as AddressInfo).port
  const stop = async () => {
    if (!server.listening) return
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }
  params.signal?.addEventListener('abort', () => void stop(), { once: true })
  return { url: `http://127.0.0.1:${port}${basePath}`, port, stop }
}
