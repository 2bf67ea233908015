import { createReadStream, type Stats } from 'node:fs'
import { stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import { Readable } from 'node:stream'
import type { Hono } from 'hono'
import type { NodeContext } from '../context.js'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
}

const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.wasm', '.svg', '.txt', '.map'])

/**
 * The portal's pages may talk only to this node, run only its own scripts (and WebAssembly codecs),
 * and show decrypted images only as blob: URLs they made themselves; nothing may frame them.
 */
export const PORTAL_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "frame-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/**
 * Serves the built portal at `/`: its files, and `index.html` for any other page path (the portal
 * routes in the browser). Hashed assets are cached for good; everything else is revalidated.
 */
export function portalRoutes(app: Hono, ctx: NodeContext): void {
  const dir = ctx.config.portal.dir
  app.on(['GET', 'HEAD'], '*', async (c, next) => {
    const path = c.req.path
    if (path.startsWith('/api/') || path.startsWith('/dicomweb/')) return next()
    if (!dir) {
      return c.text('This node serves no web portal: build it (npm run build) or set portal.dir.', 404)
    }
    let file = resolveInside(dir, path)
    let info = file ? await statFile(file) : undefined
    if (!info && !extname(path)) {
      file = join(dir, 'index.html')
      info = await statFile(file)
    }
    if (!file || !info) return next()
    const type = TYPES[extname(file)] ?? 'application/octet-stream'
    // The viewer's code is megabytes of JavaScript and WebAssembly: gzip it for slow links.
    const gzip = COMPRESSIBLE.has(extname(file)) && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '')
    const headers = new Headers({
      'content-type': type,
      ...(gzip
        ? { 'content-encoding': 'gzip', vary: 'accept-encoding' }
        : { 'content-length': String(info.size) }),
      'content-security-policy': PORTAL_CSP,
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
      'permissions-policy': 'camera=(), microphone=(), geolocation=(), interest-cohort=()',
      'cache-control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    })
    c.header('cache-control', headers.get('cache-control') ?? 'no-cache')
    if (c.req.method === 'HEAD') return new Response(null, { headers })
    const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>
    return new Response(
      gzip
        ? body.pipeThrough(
            new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>,
          )
        : body,
      { headers },
    )
  })
}

/** The file a URL path names inside `dir`, or undefined if the path would leave it. */
function resolveInside(dir: string, urlPath: string): string | undefined {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return undefined
  }
  if (decoded.includes('\0')) return undefined
  const relative = normalize(decoded).replace(/^([/\\])+/, '')
  if (relative === '' || relative === '.') return join(dir, 'index.html')
  const file = join(dir, relative)
  return file.startsWith(dir.endsWith(sep) ? dir : dir + sep) ? file : undefined
}

async function statFile(file: string): Promise<Stats | undefined> {
  const info = await stat(file).catch(() => undefined)
  return info?.isFile() ? info : undefined
}
