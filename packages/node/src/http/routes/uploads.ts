import type { Context, Hono } from 'hono'
import type { NodeContext } from '../../context.js'
import {
  TusVersionError,
  UnsupportedMediaTypeError,
  type UploadInfo,
  uploadsOf,
} from '../../uploads/index.js'
import { authenticate } from '../authenticate.js'
import { BadRequestError, PayloadTooLargeError } from '../errors.js'
import { errorToResponse } from '../problem.js'
import { requireStorer } from './blobs.js'

const BASE = '/api/v1/uploads'
const TUS_VERSION = '1.0.0'
const TUS_EXTENSIONS = 'creation,termination,expiration'
const OFFSET_CONTENT_TYPE = 'application/offset+octet-stream'

/** Response header naming the blob a finished upload became (like `cid` from `POST /api/v1/blobs`). */
export const BLOB_CID_HEADER = 'PCMIMS-Blob-CID'
/** Response header with the size of that blob. */
export const BLOB_SIZE_HEADER = 'PCMIMS-Blob-Size'

/**
 * Resumable ciphertext uploads: the tus 1.0 protocol (core, creation, termination, expiration) written
 * for this node rather than taken from `@tus/server`. Its `FileStore` neither fsyncs nor keeps an
 * acknowledged offset apart from the file size, it calls the finish hook after releasing the upload's
 * lock, expires uploads by creation time, and answers in text/plain; what was left to reuse was header
 * parsing. Here a chunk counts only once it is whole and fsynced, the import into the blob store runs
 * while the upload is held, and errors are the node's problem+json.
 *
 * POST creates (Upload-Length, at most `limits.maxBlobBytes`), PATCH appends at Upload-Offset, HEAD
 * reports the offset, DELETE terminates. The PATCH that completes an upload imports it into the blob
 * store and answers with `PCMIMS-Blob-CID` and `PCMIMS-Blob-Size`, as do later HEADs. Uploads belong to
 * the address that created them: to anyone else they do not exist (404). Upload-Metadata is ignored:
 * the node keeps nothing a client could put PHI in.
 */
export function uploadRoutes(app: Hono, ctx: NodeContext): void {
  const uploads = uploadsOf(ctx)
  let lastSweep = Date.now()

  const tus = async (c: Context, next: () => Promise<void>) => {
    if (c.req.method !== 'OPTIONS' && c.req.header('tus-resumable') !== TUS_VERSION) {
      const refused = errorToResponse(new TusVersionError(), ctx.logger, crypto.randomUUID())
      refused.headers.set('tus-version', TUS_VERSION)
      return refused
    }
    await next()
    c.res.headers.set('tus-resumable', TUS_VERSION)
  }
  app.use(BASE, tus)
  app.use(`${BASE}/*`, tus)

  const discovery = (c: Context) =>
    c.body(null, 204, {
      'tus-version': TUS_VERSION,
      'tus-extension': TUS_EXTENSIONS,
      'tus-max-size': String(ctx.config.limits.maxBlobBytes),
    })
  app.options(BASE, discovery)
  app.options(`${BASE}/:id`, discovery)

  const caller = async (c: Context) => {
    const address = await authenticate(c, ctx)
    // Uploaders store records; patients store rotated copies of their own (as POST /api/v1/blobs).
    await requireStorer(ctx, address)
    return address
  }

  app.post(BASE, async (c) => {
    const owner = await caller(c)
    if (c.req.header('upload-defer-length') !== undefined) {
      throw new BadRequestError('Upload-Defer-Length is not supported', 'send Upload-Length')
    }
    const length = parseCount(c.req.header('upload-length'), 'Upload-Length')
    const limit = ctx.config.limits.maxBlobBytes
    if (length > limit) throw new PayloadTooLargeError(limit)
    if (length === 0)
      throw new BadRequestError('Upload-Length must be at least 1', 'a blob has at least one byte')
    const upload = await uploads.create({ owner, length })
    ctx.logger.info({ upload: upload.id, caller: owner, length }, 'upload created')
    if (Date.now() - lastSweep >= ctx.config.orphans.sweepMs) {
      lastSweep = Date.now()
      void uploads
        .sweep()
        .catch((error: Error) => ctx.logger.warn({ error: error.message }, 'upload sweep failed'))
    }
    return c.body(null, 201, { location: `${BASE}/${upload.id}`, ...uploadHeaders(upload) })
  })

  app.patch(`${BASE}/:id`, async (c) => {
    const owner = await caller(c)
    const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase()
    if (type !== OFFSET_CONTENT_TYPE) throw new UnsupportedMediaTypeError(OFFSET_CONTENT_TYPE)
    const offset = parseCount(c.req.header('upload-offset'), 'Upload-Offset')
    const declared = c.req.header('content-length')
    const upload = await uploads.append(c.req.param('id'), owner, {
      offset,
      body: c.req.raw.body,
      contentLength: declared === undefined ? undefined : parseCount(declared, 'Content-Length'),
    })
    if (upload.blob) ctx.logger.info({ upload: upload.id, cid: upload.blob.cid }, 'upload complete')
    return c.body(null, 204, uploadHeaders(upload))
  })

  // Hono answers HEAD with the GET route, without the body.
  app.get(`${BASE}/:id`, async (c) => {
    const owner = await caller(c)
    const upload = await uploads.status(c.req.param('id'), owner)
    return c.body(null, 200, {
      'upload-length': String(upload.length),
      'cache-control': 'no-store',
      ...uploadHeaders(upload),
    })
  })

  app.delete(`${BASE}/:id`, async (c) => {
    const owner = await caller(c)
    await uploads.remove(c.req.param('id'), owner)
    return c.body(null, 204)
  })

  function uploadHeaders(upload: UploadInfo): Record<string, string> {
    const headers: Record<string, string> = { 'upload-offset': String(upload.offset) }
    if (upload.blob) {
      headers[BLOB_CID_HEADER] = upload.blob.cid
      headers[BLOB_SIZE_HEADER] = String(upload.blob.size)
    } else {
      headers['upload-expires'] = new Date(uploads.expiresAt(upload)).toUTCString()
    }
    return headers
  }
}

function parseCount(value: string | undefined, name: string): number {
  if (value === undefined) throw new BadRequestError(`${name} is required`)
  const count = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(count))
    throw new BadRequestError(`Invalid ${name}`, 'expected a non-negative integer')
  return count
}
