import { iterableToStream } from '@pcmims/core'
import type { Hono } from 'hono'
import type { CID } from 'multiformats/cid'
import type { Address } from 'viem'
import type { NodeContext } from '../../context.js'
import { audited, patientOfRecord } from '../audit.js'
import {
  authenticate,
  authenticateWithBody,
  requireParticipant,
  requireRecordAccess,
} from '../authenticate.js'
import { AccessDeniedError, BadRequestError, NotFoundError, PayloadTooLargeError } from '../errors.js'
import { parseCid, parseRecordIdParam } from '../params.js'

const MAX_BLOCK_BYTES = 4 * 1024 * 1024

/**
 * Ciphertext in and out. The node never sees plaintext here: uploads are client-encrypted streams,
 * content-addressed by the CID this node computes; downloads are allowed per record, checked on chain.
 */
export function blobRoutes(app: Hono, ctx: NodeContext): void {
  app.post('/api/v1/blobs', async (c) => {
    const caller = await authenticate(c, ctx)
    await requireStorer(ctx, caller)
    const limit = ctx.config.limits.maxBlobBytes
    const declared = c.req.header('content-length')
    if (declared !== undefined && Number(declared) > limit) throw new PayloadTooLargeError(limit)
    const body = c.req.raw.body
    if (!body) throw new BadRequestError('Empty body')
    if (declared === '0')
      throw new BadRequestError('Empty body', 'a blob has at least one byte', 'EMPTY_BODY')
    const { cid, size } = await ctx.store.add(body as unknown as AsyncIterable<Uint8Array>, {
      maxBytes: limit,
      signal: c.req.raw.signal,
    })
    if (size === 0) {
      // Streamed without a length and nothing came: keep nothing of it.
      if (!ctx.db.prepare('SELECT 1 FROM blobs WHERE cid = ?').get(cid.toString())) await ctx.store.unpin(cid)
      throw new BadRequestError('Empty body', 'a blob has at least one byte', 'EMPTY_BODY')
    }
    ctx.db
      .prepare(
        `INSERT INTO blobs (cid, uploader, size, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (cid) DO NOTHING`,
      )
      .run(cid.toString(), caller, size, Date.now())
    return c.json({ cid: cid.toString(), size }, 201)
  })

  // Small DAG-CBOR blocks whose CID the client computed (grant key bundles).
  app.put('/api/v1/blocks/:cid', async (c) => {
    const cid = parseCid(c.req.param('cid'))
    const { caller, body } = await authenticateWithBody(c, ctx, MAX_BLOCK_BYTES)
    await requireStorer(ctx, caller)
    await ctx.store.putBlockWithCid(cid, body)
    ctx.db
      .prepare(
        `INSERT INTO blobs (cid, uploader, size, created_at, kind) VALUES (?, ?, ?, ?, 'block')
         ON CONFLICT (cid) DO NOTHING`,
      )
      .run(cid.toString(), caller, body.length, Date.now())
    return c.json({ cid: cid.toString(), size: body.length }, 201)
  })

  app.get('/api/v1/records/:id/blobs/:cid', async (c) => {
    const caller = await authenticate(c, ctx)
    const id = parseRecordIdParam(c.req.param('id'))
    const cid = parseCid(c.req.param('cid'))
    const facts = {
      action: 'record.read',
      actor: caller,
      recordId: id,
      patient: patientOfRecord(ctx, id),
    } as const
    return audited(c, ctx, facts, async () => {
      const access = await requireRecordAccess(ctx, caller, id)
      const belongs = ctx.db
        .prepare('SELECT 1 FROM record_blobs WHERE record_id = ? AND cid = ?')
        .get(id, cid.toString())
      if (!belongs) throw new NotFoundError('No such blob in this record')
      ctx.logger.info({ recordId: id, caller, basis: access.basis }, 'ciphertext served')
      return streamContent(ctx, cid, c.req.raw.signal)
    })
  })
}

async function streamContent(ctx: NodeContext, cid: CID, signal: AbortSignal): Promise<Response> {
  const { size } = await ctx.store.stat(cid)
  const stream = iterableToStream(ctx.store.cat(cid, { signal }))
  return new Response(stream, {
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
  })
}

/**
 * Who may store ciphertext on this node: its own unit's uploaders and operator (records it will be
 * custodian of), and patients (rotated copies and grant key bundles of their own records).
 */
export async function requireStorer(ctx: NodeContext, caller: Address): Promise<void> {
  const participant = await requireParticipant(ctx, caller, ['Uploader', 'Patient', 'Unit'])
  if (participant.role !== 'Patient' && participant.unit !== ctx.unit.address) {
    throw new AccessDeniedError(
      'This node stores records of its own unit only',
      `this node is ${ctx.unit.address}`,
    )
  }
}
