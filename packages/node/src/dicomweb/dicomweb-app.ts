/*
 * DICOMweb (PS3.18) over the studies of a StudySource: QIDO-RS search and WADO-RS retrieve (studies,
 * series, instances, metadata, frames, rendered and thumbnail). The node serves it over the records it
 * is custodian of; `pcmims serve` serves it on a key holder's machine over the records their key opens.
 * Every request asks the source (and so the chain) who may read what; nothing about access is cached.
 *
 * Not served here: STOW-RS (the node's stow.ts), bulk data other than pixel data (inlined instead),
 * frame-level and study/series-level rendered.
 */
import {
  concatBytes,
  DicomDecodeError,
  type DicomJsonDataset,
  DicomTransferSyntax,
  decodedFrameBytes,
  decodeFrame,
  encodeJpeg,
  encodePng,
  extractFrames,
  type ImageInfo,
  isEncapsulatedTransferSyntax,
  parseDicomFile,
  renderDicom,
  type StudyManifestInstance,
  type StudyManifestSeries,
  thumbnail,
  toDicomJson,
} from '@pcmims/core'
import { type Context, Hono } from 'hono'
import type { Address } from 'viem'
import type { AuditFacts } from '../http/audit.js'
import { AccessDeniedError, BadRequestError, HttpError, NotFoundError } from '../http/errors.js'
import { instanceSyntaxChoices, notAcceptable, pickFrameAnswer, pickInstanceSyntax } from './accept.js'
import { multipartRelated, multipartRelatedStream, type StreamedPart } from './multipart.js'
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
} from './qido.js'
import type { ReadableStudy, StudySource } from './study-source.js'
import { canTranscode, toExplicitLittleEndian } from './transcode.js'

const DICOM_JSON = 'application/dicom+json'
const EXPLICIT_VR_LITTLE_ENDIAN = DicomTransferSyntax.ExplicitVRLittleEndian

export type CreateDicomwebAppParameters = {
  source: StudySource
  /** The path the service answers under, e.g. `/api/v1/dicomweb`. */
  basePath: string
}

/** The DICOMweb routes over `source`, mounted under `basePath` (mount the app with `app.route('/', …)`). */
export function createDicomwebApp({ source, basePath }: CreateDicomwebAppParameters): Hono {
  const app = new Hono()
  const STUDY = `${basePath}/studies/:study`
  const SERIES = `${STUDY}/series/:series`
  const INSTANCE = `${SERIES}/instances/:instance`
  const base = (c: Context) => `${new URL(c.req.url).origin}${basePath}`
  const instanceUrl = (
    c: Context,
    entry: ReadableStudy,
    series: StudyManifestSeries,
    instance: StudyManifestInstance,
  ) =>
    `${base(c)}/studies/${entry.study.studyInstanceUid}/series/${series.seriesInstanceUid}/instances/${instance.sopInstanceUid}`

  /**
   * The study `uid` that `caller` may read; the audit facts learn its record. A study the source holds
   * only for others is 403; one it does not hold is 404. The latest upload of a study wins.
   */
  async function readableStudy(caller: Address, uid: string, facts: AuditFacts, signal: AbortSignal) {
    const held = (await source.listStudies({ signal })).filter((e) => e.study.studyInstanceUid === uid)
    if (held.length === 0) throw new NotFoundError('No such study here')
    facts.recordId = held.at(-1)?.recordId
    facts.patient = held.at(-1)?.patient
    const entry = (await source.readable(caller, held, { signal })).at(-1)
    if (!entry)
      throw new AccessDeniedError(
        'No decrypted access to this study',
        'the node decrypts for the patient, download grantees and medics in an emergency; a view-only grantee reads with its own key (pcmims serve)',
      )
    facts.recordId = entry.recordId
    facts.patient = entry.patient
    if (entry.emergency) facts.action = 'emergency.read'
    return entry
  }

  async function readableInstance(caller: Address, c: Context, facts: AuditFacts) {
    const entry = await readableStudy(caller, c.req.param('study') ?? '', facts, c.req.raw.signal)
    const series = findSeries(entry, c.req.param('series') ?? '')
    const instance = series.instances.find((i) => i.sopInstanceUid === c.req.param('instance'))
    if (!instance) throw new NotFoundError('No such instance in this series')
    return { entry, series, instance }
  }

  // QIDO-RS ---------------------------------------------------------------------------------------------
  const seriesMatch = (query: Record<string, string | undefined>) => (s: StudyManifestSeries) =>
    uidListMatch(query.SeriesInstanceUID ?? '', s.seriesInstanceUid) &&
    wildcardMatch(query.Modality ?? '', s.modality) &&
    (query.SeriesNumber === undefined || String(s.seriesNumber) === query.SeriesNumber)
  const instanceMatch = (query: Record<string, string | undefined>) => (i: StudyManifestInstance) =>
    uidListMatch(query.SOPInstanceUID ?? '', i.sopInstanceUid) &&
    (query.InstanceNumber === undefined || String(i.instanceNumber) === query.InstanceNumber)

  /** Readable studies matching the study-level keys of a query (all of them for a query without any). */
  const searchStudies = async (
    caller: Address,
    query: StudyQuery & Record<string, string | undefined>,
    signal: AbortSignal,
  ) => {
    const all = await source.listStudies({ signal })
    // Match first (in memory), then ask the chain about the few that matched.
    return source.readable(
      caller,
      all.filter((entry) => matchesStudy(entry, query)),
      { signal },
    )
  }

  app.get(`${basePath}/studies`, async (c) => {
    const caller = await source.caller(c)
    const query = c.req.query() as StudyQuery & Record<string, string | undefined>
    const facts: AuditFacts = { action: 'record.list', actor: caller, detail: 'dicomweb:qido-studies' }
    return source.audited(c, facts, async (f) => {
      const readable = await searchStudies(caller, query, c.req.raw.signal)
      const include = includedFields(query.includefield)
      const answer = page(readable, query.limit, query.offset).map((e) =>
        studyAttributes(e, base(c), include),
      )
      f.detail = `dicomweb:qido-studies:${answer.length}`
      return dicomJson(answer)
    })
  })

  app.get(`${STUDY}/series`, async (c) => {
    const caller = await source.caller(c)
    const facts: AuditFacts = { action: 'record.metadata', actor: caller, detail: 'dicomweb:qido-series' }
    return source.audited(c, facts, async (f) => {
      const entry = await readableStudy(caller, c.req.param('study') ?? '', f, c.req.raw.signal)
      const query = c.req.query()
      const answer = entry.study.series
        .filter(seriesMatch(query))
        .map((s) => seriesAttributes(entry, s, base(c)))
      return dicomJson(page(answer, query.limit, query.offset))
    })
  })

  app.get(`${SERIES}/instances`, async (c) => {
    const caller = await source.caller(c)
    const facts: AuditFacts = { action: 'record.metadata', actor: caller, detail: 'dicomweb:qido-instances' }
    return source.audited(c, facts, async (f) => {
      const entry = await readableStudy(caller, c.req.param('study') ?? '', f, c.req.raw.signal)
      const series = findSeries(entry, c.req.param('series') ?? '')
      const query = c.req.query()
      const answer = series.instances
        .filter(instanceMatch(query))
        .map((i) => instanceAttributes(entry, series, i, base(c)))
      return dicomJson(page(answer, query.limit, query.offset))
    })
  })

  app.get(`${STUDY}/instances`, async (c) => {
    const caller = await source.caller(c)
    const facts: AuditFacts = {
      action: 'record.metadata',
      actor: caller,
      detail: 'dicomweb:qido-study-instances',
    }
    return source.audited(c, facts, async (f) => {
      const entry = await readableStudy(caller, c.req.param('study') ?? '', f, c.req.raw.signal)
      const query = c.req.query()
      const answer = entry.study.series
        .filter(seriesMatch(query))
        .flatMap((s) =>
          s.instances.filter(instanceMatch(query)).map((i) => instanceAttributes(entry, s, i, base(c))),
        )
      return dicomJson(page(answer, query.limit, query.offset))
    })
  })

  // Across every study the caller may read: study-level keys narrow the studies, the others the series /
  // instances within them (PS3.18 10.6.1: /series and /instances at the root).
  app.get(`${basePath}/series`, async (c) => {
    const caller = await source.caller(c)
    const query = c.req.query() as StudyQuery & Record<string, string | undefined>
    const facts: AuditFacts = { action: 'record.list', actor: caller, detail: 'dicomweb:qido-all-series' }
    return source.audited(c, facts, async (f) => {
      const studies = await searchStudies(caller, query, c.req.raw.signal)
      const answer = studies.flatMap((entry) =>
        entry.study.series.filter(seriesMatch(query)).map((s) => seriesAttributes(entry, s, base(c))),
      )
      const paged = page(answer, query.limit, query.offset)
      f.detail = `dicomweb:qido-all-series:${paged.length}`
      return dicomJson(paged)
    })
  })

  app.get(`${basePath}/instances`, async (c) => {
    const caller = await source.caller(c)
    const query = c.req.query() as StudyQuery & Record<string, string | undefined>
    const facts: AuditFacts = { action: 'record.list', actor: caller, detail: 'dicomweb:qido-all-instances' }
    return source.audited(c, facts, async (f) => {
      const studies = await searchStudies(caller, query, c.req.raw.signal)
      const answer = studies.flatMap((entry) =>
        entry.study.series
          .filter(seriesMatch(query))
          .flatMap((s) =>
            s.instances.filter(instanceMatch(query)).map((i) => instanceAttributes(entry, s, i, base(c))),
          ),
      )
      const paged = page(answer, query.limit, query.offset)
      f.detail = `dicomweb:qido-all-instances:${paged.length}`
      return dicomJson(paged)
    })
  })

  // WADO-RS metadata ----------------------------------------------------------------------------------
  const metadata = (level: 'study' | 'series' | 'instance') => async (c: Context) => {
    const caller = await source.caller(c)
    const facts: AuditFacts = {
      action: 'record.metadata',
      actor: caller,
      detail: `dicomweb:metadata-${level}`,
    }
    return source.audited(c, facts, async (f) => {
      const signal = c.req.raw.signal
      const entry = await readableStudy(caller, c.req.param('study') ?? '', f, signal)
      const wanted = selectInstances(entry, level, c)
      const answer: DicomJsonDataset[] = []
      for (const [series, instance] of wanted) {
        const bytes = await source.readInstance(entry, instance, { signal })
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

  // WADO-RS retrieve: study, series, instance -------------------------------------------------------------
  // Negotiated per instance (PS3.18 8.7.3.5): as stored unless the caller names Explicit VR Little Endian,
  // which compressed instances are transcoded to; every instance's answer is settled before the first
  // byte, so a 406 is a 406 and not a truncated study. Parts stream one instance at a time.
  const retrieve = (level: 'study' | 'series' | 'instance') => async (c: Context) => {
    const caller = await source.caller(c)
    const facts: AuditFacts = {
      action: 'record.download-decrypted',
      actor: caller,
      detail: `dicomweb:${level}`,
    }
    return source.audited(c, facts, async (f) => {
      const signal = c.req.raw.signal
      const choices = instanceSyntaxChoices(c.req.header('accept'))
      const entry = await readableStudy(caller, c.req.param('study') ?? '', f, signal)
      if (entry.access !== 'download') {
        throw new HttpError(403, 'This grant is view-only: no download of the original instances', {
          code: 'VIEW_ONLY',
          details: 'frames, rendered images, thumbnails and metadata are served',
        })
      }
      const wanted = selectInstances(entry, level, c)
      const plan: Array<{
        series: StudyManifestSeries
        instance: StudyManifestInstance
        syntax: string
        stored: string | undefined
      }> = []
      for (const [series, instance] of wanted) {
        let stored = instance.transferSyntaxUid
        // Older manifests may lack the syntax: read the instance to learn it (one at a time).
        if (stored === undefined)
          stored = parseDicomFile(await source.readInstance(entry, instance, { signal })).transferSyntaxUid
        const syntax = pickInstanceSyntax(choices, stored, canTranscode(stored))
        if (!syntax) {
          throw notAcceptable(
            'An instance cannot be answered in an accepted transfer syntax',
            `stored as ${stored}; accepted: ${choices.join(', ')}`,
          )
        }
        plan.push({ series, instance, syntax, stored })
      }
      if (level === 'instance') {
        const [only] = plan
        if (!only) throw new NotFoundError('No such instance in this series')
        let bytes = await source.readInstance(entry, only.instance, { signal })
        if (only.syntax !== only.stored)
          bytes = await pixelsAsync(() => toExplicitLittleEndian(bytes, { signal }))
        const body = multipartRelated('application/dicom', [
          {
            contentType: `application/dicom; transfer-syntax=${only.syntax}`,
            location: instanceUrl(c, entry, only.series, only.instance),
            body: bytes,
          },
        ])
        return new Response(body.body as Uint8Array<ArrayBuffer>, {
          headers: { 'content-type': body.contentType, 'content-length': String(body.body.length) },
        })
      }
      const read = ({ instance, syntax, stored }: (typeof plan)[number]) =>
        syntax === stored
          ? concatChunks(source.streamInstance(entry, instance, { signal }))
          : pixelsAsync(async () =>
              toExplicitLittleEndian(await source.readInstance(entry, instance, { signal }), { signal }),
            )
      const parts = readAhead(plan, read, READ_AHEAD, (p) => ({
        contentType: `application/dicom; transfer-syntax=${p.syntax}`,
        location: instanceUrl(c, entry, p.series, p.instance),
      }))
      const body = multipartRelatedStream('application/dicom', parts, signal)
      return new Response(body.body, { headers: { 'content-type': body.contentType } })
    })
  }
  app.get(STUDY, retrieve('study'))
  app.get(SERIES, retrieve('series'))
  app.get(INSTANCE, retrieve('instance'))

  // Frames: uncompressed (native little endian frames as stored; others decoded, colour by pixel, JPEG YBR to RGB)
  // unless the caller asks for the stored bitstream by its type or syntax; the part's Content-Type says which.
  app.get(`${INSTANCE}/frames/:frames`, async (c) => {
    const caller = await source.caller(c)
    const facts: AuditFacts = {
      action: 'record.download-decrypted',
      actor: caller,
      detail: 'dicomweb:frames',
    }
    return source.audited(c, facts, async (f) => {
      const signal = c.req.raw.signal
      const numbers = parseFrameList(c.req.param('frames') ?? '')
      const { entry, instance } = await readableInstance(caller, c, f)
      const bytes = await source.readInstance(entry, instance, { signal })
      const { imageInfo, frames } = pixels(() => extractFrames(bytes))
      const stored = imageInfo.transferSyntaxUid
      const answer = pickFrameAnswer(c.req.header('accept'), stored, isEncapsulatedTransferSyntax(stored))
      const parts = []
      for (const n of numbers) {
        const frame = frames[n - 1]
        if (!frame) throw new NotFoundError('No such frame', `frame ${n} of ${frames.length}`)
        if (answer.kind === 'stored') {
          parts.push({ contentType: `${answer.mediaType}; transfer-syntax=${stored}`, body: frame })
          continue
        }
        if (nativeLittleEndianFrame(imageInfo)) {
          parts.push({
            contentType: `application/octet-stream; transfer-syntax=${EXPLICIT_VR_LITTLE_ENDIAN}`,
            body: frame,
          })
          continue
        }
        const decoded = await pixelsAsync(() => decodeFrame(frame, imageInfo, { signal }))
        parts.push({
          contentType: `application/octet-stream; transfer-syntax=${EXPLICIT_VR_LITTLE_ENDIAN}`,
          body: decodedFrameBytes(decoded, imageInfo.bitsAllocated),
        })
      }
      const type = answer.kind === 'stored' ? answer.mediaType : 'application/octet-stream'
      const body = multipartRelated(type, parts)
      return new Response(body.body as Uint8Array<ArrayBuffer>, {
        headers: { 'content-type': body.contentType, 'content-length': String(body.body.length) },
      })
    })
  })

  const rendered = (kind: 'rendered' | 'thumbnail') => async (c: Context) => {
    const caller = await source.caller(c)
    const facts: AuditFacts = {
      action: 'record.download-decrypted',
      actor: caller,
      detail: `dicomweb:${kind}`,
    }
    return source.audited(c, facts, async (f) => {
      const signal = c.req.raw.signal
      const type = renderedType(c.req.header('accept'))
      const window = parseWindow(c.req.query('window'))
      const viewport = parseViewport(c.req.query('viewport'))
      const { entry, instance } = await readableInstance(caller, c, f)
      const bytes = await source.readInstance(entry, instance, { signal })
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
  return app
}

// ------------------------------------------------------------------------------------------------------

/**
 * Instances read ahead of the one being sent in a study or series retrieve: decryption of the next
 * ones overlaps the network, and memory stays bounded by this many instances, never the study.
 */
const READ_AHEAD = 4

function readAhead<T>(
  items: T[],
  read: (item: T) => Promise<Uint8Array>,
  depth: number,
  headers: (item: T) => Omit<StreamedPart, 'body'>,
): Iterable<StreamedPart> {
  return {
    *[Symbol.iterator]() {
      const started: Array<Promise<Uint8Array>> = []
      for (let i = 0; i < items.length; i++) {
        while (started.length < depth && i + started.length < items.length) {
          const next = read(items[i + started.length] as T)
          // Awaited in turn below; a failure ahead of its turn must not be an unhandled rejection.
          next.catch(() => undefined)
          started.push(next)
        }
        const body = started.shift() as Promise<Uint8Array>
        yield { ...headers(items[i] as T), body: () => body }
      }
    },
  }
}

async function concatChunks(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const chunk of chunks) parts.push(chunk)
  return parts.length === 1 ? (parts[0] as Uint8Array) : concatBytes(...parts)
}

const LITTLE_ENDIAN_NATIVE = new Set<string>([
  DicomTransferSyntax.ImplicitVRLittleEndian,
  DicomTransferSyntax.ExplicitVRLittleEndian,
  DicomTransferSyntax.DeflatedExplicitVRLittleEndian,
])

/**
 * Whether a stored frame already is its uncompressed answer (little endian, whole bytes per sample,
 * colour by pixel): then it is sent as stored, without a decode and re-encode of every sample.
 */
function nativeLittleEndianFrame(info: ImageInfo): boolean {
  return (
    LITTLE_ENDIAN_NATIVE.has(info.transferSyntaxUid) &&
    [8, 16, 32].includes(info.bitsAllocated) &&
    info.photometricInterpretation !== 'YBR_FULL_422' &&
    (info.samplesPerPixel === 1 || info.planarConfiguration === 0)
  )
}

function dicomJson(value: unknown): Response {
  return new Response(JSON.stringify(value), { headers: { 'content-type': DICOM_JSON } })
}

function findSeries(entry: ReadableStudy, uid: string): StudyManifestSeries {
  const series = entry.study.series.find((s) => s.seriesInstanceUid === uid)
  if (!series) throw new NotFoundError('No such series in this study')
  return series
}

/** The instances a study-, series- or instance-level request names; 404 when there are none. */
function selectInstances(
  entry: ReadableStudy,
  level: 'study' | 'series' | 'instance',
  c: Context,
): Array<[StudyManifestSeries, StudyManifestInstance]> {
  const wanted: Array<[StudyManifestSeries, StudyManifestInstance]> = []
  const seriesList = level === 'study' ? entry.study.series : [findSeries(entry, c.req.param('series') ?? '')]
  for (const series of seriesList) {
    for (const instance of series.instances) {
      if (level !== 'instance' || instance.sopInstanceUid === c.req.param('instance'))
        wanted.push([series, instance])
    }
  }
  if (wanted.length === 0) {
    throw new NotFoundError(level === 'instance' ? 'No such instance in this series' : 'No instances here')
  }
  return wanted
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
  throw notAcceptable('Rendered images are image/png or image/jpeg')
}

/** Pixel errors as problems: no pixels or no such frame is 404, a syntax this node cannot decode 406. */
function pixelError(error: unknown): never {
  if (error instanceof DicomDecodeError) {
    const code = (error as { code?: string }).code
    if (code === 'DICOM_NO_PIXEL_DATA' || code === 'DICOM_FRAME_OUT_OF_RANGE')
      throw new NotFoundError(error.message)
    if (code === 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX') throw notAcceptable(error.message)
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
