/*
 * STOW-RS (PS3.18 10.5): a DICOMweb client (a PACS, a viewer, a script) that cannot encrypt stores Part 10
 * instances here; the node encrypts each one as it arrives (see ingest/create-ingest.ts) and seals the study
 * into a record once no instance came for the quiet period. Only this unit's approved uploaders may store:
 * the record names the caller as its uploader. The patient is the one given in `?patient=` or the one the
 * unit's MRN map names for the Patient ID; otherwise the study is held for the unit to resolve.
 */
import {
  getMultipartBoundary,
  MaxFileSizeExceededError,
  MaxHeaderSizeExceededError,
  MaxPartsExceededError,
  MaxTotalSizeExceededError,
  MultipartParseError,
  parseMultipartStream,
} from '@remix-run/multipart-parser'
import type { Context, Hono } from 'hono'
import type { NodeContext } from '../../context.js'
import { IngestError } from '../../ingest/errors.js'
import { audited } from '../audit.js'
import { authenticate, requireApprovedPatient, requireParticipant } from '../authenticate.js'
import { AccessDeniedError, BadRequestError, HttpError, PayloadTooLargeError } from '../errors.js'
import { DICOMWEB_BASE } from './dicomweb.js'

const DICOM_JSON = 'application/dicom+json'
/** PS3.18 Table 10.5.3-1 failure reasons we answer with. */
const FailureReason = {
  ProcessingFailure: 0x0110,
  NotMatchingStudy: 0xa900,
  CannotUnderstand: 0xc000,
} as const
const MAX_PARTS = 100_000
/** Parts ingested at once (memory: this many instances, each at most `ingest.maxInstanceBytes`). */
const PARALLEL_PARTS = 4

type Stored = { index: number; sopClassUid: string; sopInstanceUid: string; url: string }
type Failed = {
  index: number
  sopClassUid?: string | undefined
  sopInstanceUid?: string | undefined
  reason: number
}

export function stowRoutes(app: Hono, ctx: NodeContext): void {
  const stow = async (c: Context): Promise<Response> => {
    const caller = await authenticate(c, ctx)
    const study = c.req.param('study')
    return audited(c, ctx, { action: 'ingest.store', actor: caller, detail: 'dicomweb:stow' }, async (f) => {
      const uploader = await requireParticipant(ctx, caller, ['Uploader'])
      if (uploader.unit !== ctx.unit.address) {
        throw new AccessDeniedError('Only uploaders of this unit store studies here')
      }
      const patientParam = c.req.query('patient')
      const patient = patientParam === undefined ? undefined : await requireApprovedPatient(ctx, patientParam)
      if (patient) f.patient = patient
      const boundary = stowBoundary(c.req.header('content-type'))
      const limits = ctx.config.ingest
      const declared = c.req.header('content-length')
      if (declared !== undefined && Number(declared) > limits.maxStowBytes) {
        throw new PayloadTooLargeError(limits.maxStowBytes)
      }
      const body = c.req.raw.body
      if (!body) throw new BadRequestError('Empty body', 'a STOW-RS request carries at least one instance')

      const stored: Stored[] = []
      const failed: Failed[] = []
      let parts = 0
      // A request cut or refused half way keeps none of its instances: the answer is all there is.
      const session = ctx.ingest.openSession()
      const inflight: Promise<void>[] = []
      // Our own reader, so a refused body can be cancelled whatever the parser did with its stream.
      const reader = body.getReader()
      const source = new ReadableStream<Uint8Array>({
        pull: async (controller) => {
          const { done, value } = await reader.read()
          if (done) controller.close()
          else controller.enqueue(value)
        },
      })
      try {
        for await (const part of parseMultipartStream(source, {
          boundary,
          maxHeaderSize: 16 * 1024,
          maxFileSize: limits.maxInstanceBytes,
          maxParts: MAX_PARTS,
          maxTotalSize: limits.maxStowBytes,
        })) {
          parts++
          const type = (part.mediaType ?? 'application/dicom').toLowerCase()
          if (type !== 'application/dicom') {
            failed.push({ index: parts, reason: FailureReason.CannotUnderstand })
            continue
          }
          const index = parts
          // A few parts at once: one is encrypted while another waits for its disk writes.
          const task = ctx.ingest
            .addInstance({
              source: { kind: 'stow', uploader: caller, patient },
              bytes: part.bytes,
              label: `part ${index}`,
              signal: c.req.raw.signal,
              session,
              ...(study === undefined ? {} : { expectedStudyInstanceUid: study }),
            })
            .then(
              (result) => {
                stored.push({
                  index,
                  sopClassUid: result.sopClassUid,
                  sopInstanceUid: result.sopInstanceUid,
                  url: `${origin(c)}${DICOMWEB_BASE}/studies/${result.studyInstanceUid}/series/${result.seriesInstanceUid}/instances/${result.sopInstanceUid}`,
                })
              },
              (error: unknown) => {
                if (!(error instanceof IngestError)) throw error
                ctx.logger.info({ part: index, code: error.code }, 'STOW-RS instance refused')
                failed.push({
                  index,
                  sopClassUid: error.sopClassUid,
                  sopInstanceUid: error.sopInstanceUid,
                  reason:
                    error.code === 'INGEST_STUDY_MISMATCH'
                      ? FailureReason.NotMatchingStudy
                      : error.dimseStatus,
                })
              },
            )
          // Marked handled now: it is awaited in turn, or settled when the request fails.
          task.catch(() => {})
          inflight.push(task)
          // Settled in order; a failure other than a refused instance ends the request.
          if (inflight.length >= PARALLEL_PARTS) await inflight.shift()
        }
        await Promise.all(inflight.splice(0))
        if (parts === 0) {
          throw new BadRequestError('No instance in the request', 'the multipart body has no part')
        }
      } catch (error) {
        // Nothing may still be adding when the session gives back what it added.
        await Promise.allSettled(inflight)
        await session.abort()
        // What the client still sends is of no use: cancelled, as a blob upload over its limit is.
        await reader.cancel().catch(() => {})
        throw multipartError(error, limits)
      }
      session.commit()
      stored.sort((a, b) => a.index - b.index)
      failed.sort((a, b) => a.index - b.index)
      f.detail = `dicomweb:stow:${stored.length}:${failed.length}`
      // 200 all stored, 202 some failed, 409 none stored (PS3.18 10.5.3 status codes).
      const status = failed.length === 0 ? 200 : stored.length === 0 ? 409 : 202
      const answer: Record<string, unknown> = {
        '00081199': { vr: 'SQ', Value: stored.map(referenced) },
      }
      if (study !== undefined)
        answer['00081190'] = { vr: 'UR', Value: [`${origin(c)}${DICOMWEB_BASE}/studies/${study}`] }
      if (failed.length > 0) answer['00081198'] = { vr: 'SQ', Value: failed.map(failure) }
      return new Response(JSON.stringify(answer), { status, headers: { 'content-type': DICOM_JSON } })
    })
  }
  app.post(`${DICOMWEB_BASE}/studies`, stow)
  app.post(`${DICOMWEB_BASE}/studies/:study`, stow)
}

function origin(c: Context): string {
  return new URL(c.req.url).origin
}

/** `multipart/related; type="application/dicom"; boundary=…`; anything else is 415. */
function stowBoundary(contentType: string | undefined): string {
  const unsupported = (details: string) =>
    new HttpError(415, 'STOW-RS takes multipart/related; type="application/dicom"', {
      code: 'UNSUPPORTED_MEDIA_TYPE',
      details,
    })
  if (!contentType) throw unsupported('no content-type')
  const [mediaType, ...params] = contentType.split(';').map((p) => p.trim())
  if (mediaType?.toLowerCase() !== 'multipart/related') throw unsupported(`got ${mediaType?.slice(0, 64)}`)
  const type = params.map((p) => /^type\s*=\s*"?([^";]*)"?$/i.exec(p)?.[1]).find((v) => v !== undefined)
  if (type !== undefined && type.toLowerCase() !== 'application/dicom') {
    throw unsupported('only application/dicom parts (the JSON + bulk data form is not taken)')
  }
  const boundary = getMultipartBoundary(contentType)
  if (!boundary || boundary.length > 70)
    throw new BadRequestError('The multipart boundary is missing or too long')
  return boundary
}

function multipartError(error: unknown, limits: NodeContext['config']['ingest']): unknown {
  if (error instanceof MaxTotalSizeExceededError) return new PayloadTooLargeError(limits.maxStowBytes)
  if (error instanceof MaxFileSizeExceededError) return new PayloadTooLargeError(limits.maxInstanceBytes)
  if (error instanceof MaxPartsExceededError)
    return new BadRequestError('Too many parts', `at most ${MAX_PARTS}`)
  if (error instanceof MaxHeaderSizeExceededError) return new BadRequestError('A part header is too large')
  if (error instanceof MultipartParseError)
    return new BadRequestError('Malformed multipart body', error.message)
  return error
}

function referenced(s: Stored) {
  return {
    '00081150': { vr: 'UI', Value: [s.sopClassUid] },
    '00081155': { vr: 'UI', Value: [s.sopInstanceUid] },
    '00081190': { vr: 'UR', Value: [s.url] },
  }
}

function failure(f: Failed) {
  return {
    ...(f.sopClassUid ? { '00081150': { vr: 'UI', Value: [f.sopClassUid] } } : {}),
    ...(f.sopInstanceUid ? { '00081155': { vr: 'UI', Value: [f.sopInstanceUid] } } : {}),
    '00081197': { vr: 'US', Value: [f.reason] },
  }
}
