import { iterableToStream } from '@pcmims/core'
import type { Hono } from 'hono'
import { bytesToHex } from 'viem'
import type { AccessView, NodeContext } from '../../context.js'
import { openCustodialRecord, readCustodialFile } from '../../custody/open-custodial-record.js'
import { type AuditFacts, audited, patientOfRecord } from '../audit.js'
import { authenticate } from '../authenticate.js'
import { AccessDeniedError, BadRequestError, HttpError, NotFoundError } from '../errors.js'
import { parseRecordIdParam } from '../params.js'

/**
 * Who may have a record decrypted by its custodian node: the patient, a medic in a declared emergency
 * (for its few hours), and a grantee allowed to download. View-only grantees read through their own keys
 * and clients. A de-identified-only grantee never gets an original (the chain refuses it); the copies made
 * for it follow its grant's download flag.
 */
export function decryptedAccessAllowed(access: AccessView): boolean {
  if (!access.allowed || access.deidentifiedOnly) return false
  return (
    access.basis === 'Patient' ||
    access.basis === 'Emergency' ||
    (access.basis === 'Grant' && access.download)
  )
}

async function requireDecryptedAccess(ctx: NodeContext, caller: `0x${string}`, id: `0x${string}`) {
  const access = await ctx.chain.reader.access(caller, id)
  // The chain refuses originals to a de-identified-only grantee and says why in the flag.
  if (access.deidentifiedOnly) {
    throw new HttpError(403, 'The patient allowed de-identified copies only', { code: 'DEIDENTIFIED_ONLY' })
  }
  if (!access.allowed) throw new AccessDeniedError('No access to this record')
  if (!decryptedAccessAllowed(access)) {
    throw new AccessDeniedError('This grant is view-only: no decrypted download', `basis: ${access.basis}`)
  }
  return access
}

export function custodyRoutes(app: Hono, ctx: NodeContext): void {
  // The decrypted manifest (PHI: names, dates, descriptions) of a record this node is custodian of.
  app.get('/api/v1/records/:id/decrypted', async (c) => {
    const caller = await authenticate(c, ctx)
    const id = parseRecordIdParam(c.req.param('id'))
    const facts: AuditFacts = {
      action: 'record.metadata',
      actor: caller,
      recordId: id,
      patient: patientOfRecord(ctx, id),
      detail: 'decrypted',
    }
    return audited(c, ctx, facts, async (f) => {
      const access = await requireDecryptedAccess(ctx, caller, id)
      if (access.basis === 'Emergency') f.action = 'emergency.read'
      const { manifest } = await openCustodialRecord(ctx, id, { signal: c.req.raw.signal })
      ctx.logger.info({ recordId: id, caller, basis: access.basis }, 'decrypted manifest served')
      return c.json({
        id,
        kind: manifest.kind,
        patient: manifest.patient,
        appointment: manifest.appointment ?? null,
        description: manifest.description ?? null,
        date: manifest.date,
        createdAt: manifest.createdAt,
        uploader: manifest.uploader,
        unit: manifest.unit,
        access: { basis: access.basis, until: access.until, download: access.download },
        files: manifest.files.map((file, index) => ({
          index,
          path: file.path,
          mediaType: file.mediaType,
          size: file.size,
          sha256: bytesToHex(file.sha256),
        })),
      })
    })
  })

  // One file, decrypted by the custodian and streamed; its digest is checked as it goes.
  app.get('/api/v1/records/:id/decrypted/files/:index', async (c) => {
    const caller = await authenticate(c, ctx)
    const id = parseRecordIdParam(c.req.param('id'))
    const indexText = c.req.param('index')
    if (!/^\d{1,6}$/.test(indexText)) throw new BadRequestError('File index must be a small integer')
    const facts: AuditFacts = {
      action: 'record.download-decrypted',
      actor: caller,
      recordId: id,
      patient: patientOfRecord(ctx, id),
      detail: `file:${indexText}`,
    }
    return audited(c, ctx, facts, async (f) => {
      const access = await requireDecryptedAccess(ctx, caller, id)
      if (access.basis === 'Emergency') f.action = 'emergency.read'
      const record = await openCustodialRecord(ctx, id, { signal: c.req.raw.signal })
      const file = record.manifest.files[Number(indexText)]
      if (!file) throw new NotFoundError('No such file in this record')
      ctx.logger.info({ recordId: id, caller, basis: access.basis }, 'decrypted file served')
      const name = file.path.split('/').pop() ?? 'file'
      return new Response(
        iterableToStream(readCustodialFile(ctx, record, file, { signal: c.req.raw.signal })),
        {
          headers: {
            'content-type': safeMediaType(file.mediaType),
            'content-length': String(file.size),
            'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
            'x-content-sha256': bytesToHex(file.sha256).slice(2),
          },
        },
      )
    })
  })
}

/** A manifest's media type is uploader input: only a plain type/subtype goes into a header. */
function safeMediaType(value: string): string {
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/i.test(value)
    ? value
    : 'application/octet-stream'
}
