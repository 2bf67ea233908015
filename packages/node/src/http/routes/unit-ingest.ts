/*
 * The unit's side of node-side ingest: studies received over C-STORE or STOW-RS whose patient the node
 * could not name (an unknown Patient ID) are held here, encrypted, until the unit's staff names the patient
 * or discards them; and the unit's MRN map (Patient ID → patient account), kept on this node only, under
 * keyed hashes. For this unit's operator and its approved uploaders only; MRNs never travel in URLs.
 */
import type { Context, Hono } from 'hono'
import type { Address } from 'viem'
import { z } from 'zod'
import type { NodeContext } from '../../context.js'
import { IngestNotFoundError } from '../../ingest/create-ingest.js'
import { audited } from '../audit.js'
import { authenticate, authenticateWithBody, requireApprovedPatient } from '../authenticate.js'
import { parseJsonBody } from '../body.js'
import { AccessDeniedError, NotFoundError } from '../errors.js'

const addressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
const patientIdSchema = z
  .string()
  .min(1)
  .max(64)
  .refine((s) => s.trim() !== '', 'a Patient ID is not blank')
const resolveSchema = z.strictObject({ patient: addressSchema, remember: z.boolean().optional() })
const mapSchema = z.strictObject({ patientId: patientIdSchema, patient: addressSchema.nullable() })
const lookupSchema = z.strictObject({ patientId: patientIdSchema })
const MAX_BODY = 4096

export function unitIngestRoutes(app: Hono, ctx: NodeContext): void {
  app.get('/api/v1/unit/held-studies', async (c) => {
    const caller = await authenticate(c, ctx)
    return audited(c, ctx, { action: 'ingest.held-read', actor: caller }, async () => {
      await requireUnitStaff(ctx, caller)
      return c.json({ studies: await ctx.ingest.listHeld() })
    })
  })

  app.post('/api/v1/unit/held-studies/:id/resolve', async (c) => {
    const { caller, body } = await authenticateWithBody(c, ctx, MAX_BODY)
    const id = heldId(c)
    return audited(c, ctx, { action: 'ingest.resolve', actor: caller, detail: `held:${id}` }, async (f) => {
      await requireUnitStaff(ctx, caller)
      const input = parseJsonBody(resolveSchema, body, 'resolution')
      const patient = await requireApprovedPatient(ctx, input.patient)
      f.patient = patient
      await notFoundAsHttp(() =>
        ctx.ingest.resolveHeld(id, patient, { remember: input.remember ?? false, by: caller }),
      )
      return c.json(batchJson(ctx, id))
    })
  })

  app.delete('/api/v1/unit/held-studies/:id', async (c) => {
    const caller = await authenticate(c, ctx)
    const id = heldId(c)
    return audited(c, ctx, { action: 'ingest.discard', actor: caller, detail: `held:${id}` }, async () => {
      await requireUnitStaff(ctx, caller)
      await notFoundAsHttp(() => ctx.ingest.discardHeld(id))
      return c.json(batchJson(ctx, id))
    })
  })

  app.put('/api/v1/unit/patient-ids', async (c) => {
    const { caller, body } = await authenticateWithBody(c, ctx, MAX_BODY)
    const input = parseJsonBody(mapSchema, body, 'Patient ID mapping')
    const action = input.patient === null ? 'patient-map.remove' : 'patient-map.set'
    return audited(c, ctx, { action, actor: caller }, async (f) => {
      await requireUnitStaff(ctx, caller)
      if (input.patient === null) {
        return c.json({
          patientId: input.patientId,
          patient: null,
          released: 0,
          removed: ctx.ingest.unmapPatient(input.patientId),
        })
      }
      const patient = await requireApprovedPatient(ctx, input.patient)
      f.patient = patient
      const { released } = await ctx.ingest.mapPatient(input.patientId, patient, caller)
      return c.json({ patientId: input.patientId, patient, released, removed: false })
    })
  })

  app.post('/api/v1/unit/patient-ids/lookup', async (c) => {
    const { caller, body } = await authenticateWithBody(c, ctx, MAX_BODY)
    return audited(
      c,
      ctx,
      { action: 'ingest.held-read', actor: caller, detail: 'patient-id-lookup' },
      async () => {
        await requireUnitStaff(ctx, caller)
        const input = parseJsonBody(lookupSchema, body, 'lookup')
        return c.json({
          patientId: input.patientId,
          patient: ctx.ingest.lookupPatient(input.patientId) ?? null,
        })
      },
    )
  })
}

/** The unit's operator account, or one of its approved uploaders. */
async function requireUnitStaff(ctx: NodeContext, caller: Address): Promise<void> {
  if (caller === ctx.unit.address) return
  const participant = await ctx.chain.reader.participant(caller)
  if (
    participant.role !== 'Uploader' ||
    participant.status !== 'Approved' ||
    participant.unit !== ctx.unit.address
  ) {
    throw new AccessDeniedError(
      "Only this unit's operator and its approved uploaders handle received studies and Patient IDs",
      `caller: ${participant.role}, ${participant.status}`,
    )
  }
}

function heldId(c: Context): string {
  const id = c.req.param('id') ?? ''
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id))
    throw new NotFoundError('No such held study')
  return id
}

async function notFoundAsHttp(run: () => Promise<void>): Promise<void> {
  try {
    await run()
  } catch (error) {
    if (error instanceof IngestNotFoundError) throw new NotFoundError('No such held study')
    throw error
  }
}

function batchJson(ctx: NodeContext, id: string) {
  const batch = ctx.ingest.batch(id)
  return {
    id,
    state: batch?.state ?? 'discarded',
    recordId: batch?.recordId ?? null,
    reason: batch?.reason ?? null,
  }
}
