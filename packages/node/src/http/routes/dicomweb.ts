/*
 * DICOMweb (PS3.18) over the DICOM study records this node is custodian of: QIDO-RS search and WADO-RS
 * retrieve, for a signed-in caller the chain lets read them decrypted (the patient, a download grantee, a
 * medic in a declared emergency: the rule of custody.ts). Every answer that carries PHI is audited.
 *
 * Not served yet: STOW-RS (uploads go through the encrypted record flow), study- and series-level
 * instance retrieve, bulk data other than pixel data (inlined instead), frame-level rendered.
 */
import {
  DicomDecodeError,
  type DicomJsonDataset,
  decodedFrameBytes,
  decodeFrame,
  encodeJpeg,
  encodePng,
  extractFrames,
  type ManifestFile,
  parseDicomFile,
  renderDicom,
  type StudyManifestInstance,
  type StudyManifestSeries,
  thumbnail,
  toDicomJson,
} from '@pcmims/core'
import type { Context, Hono } from 'hono'
import type { Address } from 'viem'
import type { NodeContext } from '../../context.js'
import { openCustodialRecord, readCustodialFile } from '../../custody/open-custodial-record.js'
import { multipartRelated } from '../../dicomweb/multipart.js'
import {
  includedFields,
  instanceAttributes,
  matchesStudy,
  page,
  type StudyQuery,
  seriesAttributes,
  studyAttributes,
  uidListMatch,
  wildcardMatch,
} from '../../dicomweb/qido.js'
import { listCustodialStudies, type ReadableStudy, readableStudies } from '../../dicomweb/study-index.js'
import { type AuditFacts, audited } from '../audit.js'
import { authenticate } from '../authenticate.js'
import { AccessDeniedError, BadRequestError, HttpError, NotFoundError } from '../errors.js'

export const DICOMWEB_BASE = '/api/v1/dicomweb'
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1'
const DICOM_JSON = 'application/dicom+json'

const STUDY = `${DICOMWEB_BASE}/studies/:study`
const SERIES = `${STUDY}/series/:series`
const INSTANCE = `${SERIES}/instances/:instance`

export function dicomwebRoutes(app: Hono, ctx: NodeContext): void {
  // QIDO-RS ---------------------------------------------------------------------------------------------
  app.get(`${DICOMWEB_BASE}/studies`, async (c) => {
    const caller = await authenticate(c, ctx)
    const query = c.req.query() as StudyQuery & Record<string, string | undefined>
    const facts: AuditFacts = { action: 'record.list', actor: caller, detail: 'dicomweb:qido-studies' }
    return audited(c, ctx, facts, async (f) => {
      const all = await listCustodialStudies(ctx, { signal: c.req.raw.signal })
      // Match first (on this node's memory), then ask the chain about the few that matched.
      const matching = all.filter((entry) => matchesStudy(entry, query))
      const readable = await readableStudies(ctx, caller, matching)
      const include = includedFields(query.includefield)
      const answer = page(readable, query.limit, query.offset).map((e) =>
        studyAttributes(e, base(c), include),
      )
      f.detail = `dicomweb:qido-studies:${answer.length}`
      return dicomJson(answer)
    })
  })

  app.get(`${STUDY}/series`, async (c) => {
    const caller = await authenticate(c, ctx)
    const facts: AuditFacts = { action: 'record.metadata', actor: caller, detail: 'dicomweb:qido-series' }
    return audited(c, ctx, facts, async (f) => {
      const entry = await readableStudy(ctx, caller, c.req.param('study'), f, c.req.raw.signal)
      const query = c.req.query()
      const answer = entry.study.series
        .filter(
          (s) =>
            uidListMatch(query.SeriesInstanceUID ?? '', s.seriesInstanceUid) &&
            wildcardMatch(query.Modality ?? '', s.modality) &&
            (query.SeriesNumber === undefined || String(s.seriesNumber) === query.SeriesNumber),
        )
        .map((s) => seriesAttributes(entry, s, base(c)))
      return dicomJson(page(answer, query.limit, query.offset))
    })
  })

  app.get(`${SERIES}/instances`, async (c) => {
    const caller = await authenticate(c, ctx)
    const facts: AuditFacts = { action: 'record.metadata', actor: caller, detail: 'dicomweb:qido-instances' }
    return audited(c, ctx, facts, async (f) => {
      const entry = await readableStudy(ctx, caller, c.req.param('study'), f, c.req.raw.signal)
      const series = findSeries(entry, c.req.param('series'))
      const query = c.req.query()
      const answer = series.instances
        .filter(
          (i) =>
            uidListMatch(query.SOPInstanceUID ?? '', i.sopInstanceUid) &&
            (query.InstanceNumber === undefined || String(i.instanceNumber) === query.InstanceNumber),
        )
        .map((i) => instanceAttributes(entry, series, i, base(c)))
      return dicomJson(page(answer, query.limit, query.offset))
    })
  })

  // WADO-RS metadata ----------------------------------------------------------------------------------
  const metadata = (level: 'study' | 'series' | 'instance') => async (c: Context) => {
    const caller = await authenticate(c, ctx)
    const facts: AuditFacts = {
      action: 'record.metadata',
      actor: caller,
      detail: `dicomweb:metadata-${level}`,
    }
    return audited(c, ctx, facts, async (f) => {
      const signal = c.req.raw.signal
      const entry = await readableStudy(ctx, caller, c.req.param('study') ?? '', f, signal)
      const wanted: Array<[StudyManifestSeries, StudyManifestInstance]> = []
      const seriesList =
        level === 'study' ? entry.study.series : [findSeries(entry, c.req.param('series') ?? '')]
      for (const series of seriesList) {
        for (const instance of series.instances) {
          if (level !== 'instance' || instance.sopInstanceUid === c.req.param('instance')) {
            wanted.push([series, instance])
          }
        }
      }
      if (wanted.length === 0) throw new NotFoundError('No such instance in this study')
      const record = await openCustodialRecord(ctx, entry.recordId, { signal })
      const answer: DicomJsonDataset[] = []
      for (const [series, instance] of wanted) {
        const bytes = await readInstance(ctx, record, instance, signal)
        const parsed = parseDicomFile(bytes)
        const url = instanceUrl(c, entry, series, instance)
        const frames = instance.numberOfFrames ?? parsed.pixelData?.frameCount ?? 1
        answer.push(
          toDicomJson(parsed, {
            bulkDataUri: (info) =>
              info.tag === '7FE00010' && info.path.length === 1
                ? `${url}/frames/${Array.from({ length: frames }, (_, i) => i + 1).join(',')}`
                : undefined,
          }),
        )
      }
      return dicomJson(answer)
    })
  }
  app.get(`${STUDY}/metadata`, metadata('study'))
  app.get(`${SERIES}/metadata`, metadata('series'))
  app.get(`${INSTANCE}/metadata`, metadata('instance'))

  // WADO-RS retrieve ----------------------------------------------------------------------------------
  app.get(INSTANCE, async (c) => {
    const caller = await authenticate(c, ctx)
    const facts: AuditFacts = {
      action: 'record.download-decrypted',
      actor: caller,
      detail: 'dicomweb:instance',
    }
    return audited(c, ctx, facts, async (f) => {
      const signal = c.req.raw.signal
      const { entry, series, instance } = await readableInstance(ctx, caller, c, f)
      const record = await openCustodialRecord(ctx, entry.recordId, { signal })
      const bytes = await readInstance(ctx, record, instance, signal)
      const syntax = instance.transferSyntaxUid ?? parseDicomFile(bytes).transferSyntaxUid
      const body = multipartRelated('application/dicom', [
        {
          contentType: `application/dicom; transfer-syntax=${syntax}`,
          location: instanceUrl(c, entry, series, instance),
          body: bytes,
        },
      ])
      return multipartResponse(body)
    })
  })

  // Frames are answered decoded, as Explicit VR Little Endian pixel bytes (colour by pixel; JPEG YBR
  // decodes to RGB), whatever the stored transfer syntax: the part's transfer-syntax parameter says so.
  app.get(`${INSTANCE}/frames/:frames`, async (c) => {
    const caller = await authenticate(c, ctx)
    const facts: AuditFacts = {
      action: 'record.download-decrypted',
      actor: caller,
      detail: 'dicomweb:frames',
    }
    return audited(c, ctx, facts, async (f) => {
      const signal = c.req.raw.signal
      const numbers = parseFrameList(c.req.param('frames') ?? '')
      const { entry, instance } = await readableInstance(ctx, caller, c, f)
      const record = await openCustodialRecord(ctx, entry.recordId, { signal })
      const bytes = await readInstance(ctx, record, instance, signal)
      const { imageInfo, frames } = pixels(() => extractFrames(bytes))
      const parts = []
      for (const n of numbers) {
        const frame = frames[n - 1]
        if (!frame) throw new NotFoundError('No such frame', `frame ${n} of ${frames.length}`)
        const decoded = await pixelsAsync(() => decodeFrame(frame, imageInfo, { signal }))
        parts.push({
          contentType: `application/octet-stream; transfer-syntax=${EXPLICIT_VR_LITTLE_ENDIAN}`,
          body: decodedFrameBytes(decoded, imageInfo.bitsAllocated),
        })
      }
      return multipartResponse(multipartRelated('application/octet-stream', parts))
    })
  })

  const rendered = (kind: 'rendered' | 'thumbnail') => async (c: Context) => {
    const caller = await authenticate(c, ctx)
    const facts: AuditFacts = {
      action: 'record.download-decrypted',
      actor: caller,
      detail: `dicomweb:${kind}`,
    }
    return audited(c, ctx, facts, async (f) => {
      const signal = c.req.raw.signal
      const type = renderedType(c.req.header('accept'))
      const window = parseWindow(c.req.query('window'))
      const viewport = parseViewport(c.req.query('viewport'))
      const { entry, instance } = await readableInstance(ctx, caller, c, f)
      const record = await openCustodialRecord(ctx, entry.recordId, { signal })
      const bytes = await readInstance(ctx, record, instance, signal)
      let image = await pixelsAsync(() =>
        renderDicom(bytes, {
          ...(window ?? {}),
          ...(viewport && kind === 'rendered' ? { size: viewport } : {}),
          signal,
        }),
      )
      if (kind === 'thumbnail') image = { ...image, ...thumbnail(image, viewport?.width ?? 128) }
      const body = type === 'image/jpeg' ? encodeJpeg(image) : encodePng(image)
      return new Response(body as Uint8Array<ArrayBuffer>, {
        headers: { 'content-type': type, 'content-length': String(body.length) },
      })
    })
  }
  app.get(`${INSTANCE}/rendered`, rendered('rendered'))
  app.get(`${INSTANCE}/thumbnail`, rendered('thumbnail'))
}

// ------------------------------------------------------------------------------------------------------

/** The DICOMweb root as the caller reached it, for RetrieveURL and BulkDataURI. */
function base(c: Context): string {
  return `${new URL(c.req.url).origin}${DICOMWEB_BASE}`
}

function instanceUrl(
  c: Context,
  entry: ReadableStudy,
  series: StudyManifestSeries,
  instance: StudyManifestInstance,
): string {
  return `${base(c)}/studies/${entry.study.studyInstanceUid}/series/${series.seriesInstanceUid}/instances/${instance.sopInstanceUid}`
}

function dicomJson(value: unknown): Response {
  return new Response(JSON.stringify(value), { headers: { 'content-type': DICOM_JSON } })
}

function multipartResponse({ contentType, body }: { contentType: string; body: Uint8Array }): Response {
  return new Response(body as Uint8Array<ArrayBuffer>, {
    headers: { 'content-type': contentType, 'content-length': String(body.length) },
  })
}

/**
 * The record holding study `uid` that `caller` may read decrypted; the audit facts learn it. A study this
 * node holds only for others is 403; one it does not hold (or holds for another custodian) is 404.
 */
async function readableStudy(
  ctx: NodeContext,
  caller: Address,
  uid: string,
  facts: AuditFacts,
  signal: AbortSignal,
): Promise<ReadableStudy> {
  const held = (await listCustodialStudies(ctx, { signal })).filter((e) => e.study.studyInstanceUid === uid)
  if (held.length === 0) throw new NotFoundError('This node is not the custodian of such a study')
  facts.recordId = held.at(-1)?.recordId
  facts.patient = held.at(-1)?.patient
  const readable = await readableStudies(ctx, caller, held)
  // The latest upload of the study wins when it was uploaded more than once.
  const entry = readable.at(-1)
  if (!entry) throw new AccessDeniedError('No decrypted access to this study')
  facts.recordId = entry.recordId
  facts.patient = entry.patient
  if (entry.emergency) facts.action = 'emergency.read'
  return entry
}

function findSeries(entry: ReadableStudy, uid: string): StudyManifestSeries {
  const series = entry.study.series.find((s) => s.seriesInstanceUid === uid)
  if (!series) throw new NotFoundError('No such series in this study')
  return series
}

async function readableInstance(ctx: NodeContext, caller: Address, c: Context, facts: AuditFacts) {
  const entry = await readableStudy(ctx, caller, c.req.param('study') ?? '', facts, c.req.raw.signal)
  const series = findSeries(entry, c.req.param('series') ?? '')
  const instance = series.instances.find((i) => i.sopInstanceUid === c.req.param('instance'))
  if (!instance) throw new NotFoundError('No such instance in this series')
  return { entry, series, instance }
}

async function readInstance(
  ctx: NodeContext,
  record: Awaited<ReturnType<typeof openCustodialRecord>>,
  instance: StudyManifestInstance,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const file: ManifestFile | undefined = record.manifest.files.find((f) => f.path === instance.path)
  if (!file) throw new NotFoundError('The instance has no file in its record')
  const out = new Uint8Array(file.size)
  let at = 0
  for await (const chunk of readCustodialFile(ctx, record, file, { signal })) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}

function parseFrameList(text: string): number[] {
  if (!/^\d{1,6}(,\d{1,6}){0,255}$/.test(text)) throw new BadRequestError('Frames must be a list like 1,2,3')
  const numbers = text.split(',').map(Number)
  if (numbers.some((n) => n < 1)) throw new BadRequestError('Frame numbers start at 1')
  return numbers
}

function parseWindow(value: string | undefined): { windowCenter: number; windowWidth: number } | undefined {
  if (value === undefined) return undefined
  const [center, width] = value.split(',').map(Number)
  if (center === undefined || width === undefined || !Number.isFinite(center) || !(width >= 1)) {
    throw new BadRequestError('window must be center,width with a width of at least 1')
  }
  return { windowCenter: center, windowWidth: width }
}

function parseViewport(value: string | undefined): { width: number; height: number } | undefined {
  if (value === undefined) return undefined
  const [width, height = width] = value.split(',').map(Number)
  const ok = (n: number | undefined): n is number =>
    n !== undefined && Number.isInteger(n) && n >= 1 && n <= 4096
  if (!ok(width) || !ok(height)) throw new BadRequestError('viewport must be width,height (1 to 4096)')
  return { width, height }
}

/** PNG unless the caller prefers JPEG; 406 when it takes neither. */
function renderedType(accept: string | undefined): 'image/png' | 'image/jpeg' {
  if (!accept) return 'image/png'
  for (const range of accept.split(',')) {
    const type = range.split(';')[0]?.trim().toLowerCase()
    if (type === 'image/jpeg') return 'image/jpeg'
    if (type === 'image/png' || type === 'image/*' || type === '*/*') return 'image/png'
  }
  throw new HttpError(406, 'Rendered images are image/png or image/jpeg', { code: 'NOT_ACCEPTABLE' })
}

/** Pixel errors as problems: no pixels or no such frame is 404, a syntax this node cannot decode 406. */
function pixelError(error: unknown): never {
  if (error instanceof DicomDecodeError) {
    const code = (error as { code?: string }).code
    if (code === 'DICOM_NO_PIXEL_DATA' || code === 'DICOM_FRAME_OUT_OF_RANGE') {
      throw new NotFoundError(error.message)
    }
    if (code === 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX') {
      throw new HttpError(406, error.message, { code: 'NOT_ACCEPTABLE' })
    }
  }
  throw error
}

function pixels<T>(run: () => T): T {
  try {
    return run()
  } catch (error) {
    pixelError(error)
  }
}

async function pixelsAsync<T>(run: () => Promise<T>): Promise<T> {
  return run().catch(pixelError)
}
