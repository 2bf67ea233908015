import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  createGrant,
  createNodeClient,
  type DicomJsonDataset,
  decodedFrameBytes,
  decodeFrame,
  extractFrames,
  getChainTime,
  parseDicomFile,
  revokeAccess,
  uploadDicomStudies,
  writeDicomFile,
} from '@pcmims/core'
import {
  type MultipartPart,
  parseMultipartRelated,
  startTestNode,
  synthesizeStudy,
  type TestNode,
} from '@pcmims/test-utils'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DicomwebCacheOptions } from '../src/dicomweb/caches.js'
import { custodialStudySource } from '../src/dicomweb/custodial-source.js'
import { createDicomwebApp } from '../src/dicomweb/dicomweb-app.js'
import { errorToResponse } from '../src/http/problem.js'
import { createLogger } from '../src/logger.js'
import { FIXTURES, memoryFile } from './helpers.js'
import { enrol } from './participants.js'

const BASE = '/api/v1/dicomweb'
const EXPLICIT_LE = '1.2.840.10008.1.2.1'
const DICOM_EXPLICIT_LE = `multipart/related; type="application/dicom"; transfer-syntax=${EXPLICIT_LE}`

async function multipartOf(response: Response) {
  expect(response.status).toBe(200)
  return parseMultipartRelated(
    response.headers.get('content-type')!,
    new Uint8Array(await response.arrayBuffer()),
  )
}

const sopOf = (part: MultipartPart) => part.headers['content-location']?.split('/instances/')[1]
const value = (dataset: DicomJsonDataset | undefined, tag: string) => dataset?.[tag]?.Value?.[0]

/** The same file under new study, series and instance UIDs, still in its own transfer syntax. */
function withNewUids(bytes: Uint8Array, salt: number): Uint8Array {
  const parsed = parseDicomFile(bytes)
  const uid = (n: number) => `2.25.${BigInt(salt) * 1_000_000n + BigInt(n)}${Date.now()}`
  parsed.dataset['0020000D'] = { vr: 'UI', Value: [uid(1)] }
  parsed.dataset['0020000E'] = { vr: 'UI', Value: [uid(2)] }
  parsed.dataset['00080018'] = { vr: 'UI', Value: [uid(3)] }
  return writeDicomFile({ dataset: parsed.dataset, transferSyntaxUid: parsed.transferSyntaxUid })
}

/** Decoded frames of a Part 10 file as Explicit VR Little Endian pixel bytes, with core's decoders. */
async function decodedFrames(bytes: Uint8Array): Promise<Uint8Array[]> {
  const { imageInfo, frames } = extractFrames(bytes)
  const out: Uint8Array[] = []
  for (const frame of frames)
    out.push(decodedFrameBytes(await decodeFrame(frame, imageInfo), imageInfo.bitsAllocated))
  return out
}

describe('DICOMweb retrieve: study and series, transcoding, Accept, cache and revocation', () => {
  let t: TestNode
  const tokens = new Map<string, string>()
  // A 300-slice CT (small slices keep the upload quick; the per-request costs are what is measured).
  const ct = synthesizeStudy({
    kind: 'CT',
    count: 300,
    rows: 128,
    columns: 128,
    seed: 'dicomweb-retrieve',
    patient: { name: 'Retrieve^Test', id: 'PID-RT-1' },
  })
  const fixtures = new Map<string, { bytes: Uint8Array; study: string; series: string; sop: string }>()
  // MR_small's RLE and JPEG 2000 encodings share its UIDs: they go in as studies of their own.
  const FIXTURE_NAMES = [
    'MR_small_RLE.dcm',
    'MR_small_jp2klossless.dcm',
    'JPEG-lossy.dcm',
    'SC_rgb_jpeg_dcmtk.dcm',
    'XA_angio_jpegll.dcm',
  ]
  let medicRevoked: Awaited<ReturnType<TestNode['newIdentity']>>

  beforeAll(async () => {
    // Scrolling 300 frames as fast as a warm cache answers is well past the per-caller rate limit
    // (200 burst, 50/s), which would answer 429s: this file tests retrieval, rate-limits.test.ts the limits.
    t = await startTestNode({
      config: { rateLimit: { burst: 100_000, perSecond: 100_000, signInPerMinute: 600 } },
    })
    const unit = t.dev.unit!
    const patient = await t.clientFor(t.dev.patient!)
    const uploader = await t.clientFor(t.dev.uploader!)
    medicRevoked = await t.newIdentity()
    await enrol(t, medicRevoked, unit, 'Medic')
    const expiresAt = (await getChainTime(patient.publicClient)) + 86_400
    await createGrant(patient, { grantee: medicRevoked.account.address, expiresAt, download: true })
    await uploadDicomStudies(uploader, {
      patient: t.dev.patient!.account.address,
      files: ct.instances.map((i) => memoryFile(i.fileName, i.bytes)),
    })
    for (const name of FIXTURE_NAMES) {
      let bytes: Uint8Array = new Uint8Array(await readFile(join(FIXTURES, 'valid', name)))
      if (name.startsWith('MR_small_')) bytes = withNewUids(bytes, name.length)
      const ds = parseDicomFile(bytes).dataset
      fixtures.set(name, {
        bytes,
        study: ds['0020000D']?.Value?.[0] as string,
        series: ds['0020000E']?.Value?.[0] as string,
        sop: ds['00080018']?.Value?.[0] as string,
      })
      await uploadDicomStudies(uploader, {
        patient: t.dev.patient!.account.address,
        files: [memoryFile(name, bytes)],
      })
    }
    await t.node.context.indexer.syncOnce()
    for (const [name, identity] of Object.entries({ patient: t.dev.patient!, medicRevoked })) {
      tokens.set(
        name,
        (await createNodeClient({ url: t.node.url, account: identity.account }).signIn()).token,
      )
    }
  }, 600_000)
  afterAll(async () => {
    await t?.stop()
  })

  const get = (who: string, path: string, accept?: string) =>
    fetch(`${t.node.url}${BASE}${path}`, {
      headers: { authorization: `Bearer ${tokens.get(who)}`, ...(accept ? { accept } : {}) },
    })
  const ctStudy = () => `/studies/${ct.studyInstanceUid}`
  const ctSeries = () => `${ctStudy()}/series/${ct.seriesInstanceUid}`
  const fixturePath = (name: string) => {
    const f = fixtures.get(name)!
    return `/studies/${f.study}/series/${f.series}/instances/${f.sop}`
  }

  it('retrieves a whole study and a series, streamed, every instance byte for byte', async () => {
    // Without an Accept header a study comes back as stored (here RLE).
    const rle = fixtures.get('MR_small_RLE.dcm')!
    const rleStudy = await multipartOf(await get('patient', `/studies/${rle.study}`))
    expect(rleStudy.parts).toHaveLength(1)
    expect(rleStudy.parts[0]!.headers['content-type']).toBe(
      'application/dicom; transfer-syntax=1.2.840.10008.1.2.5',
    )
    expect(rleStudy.parts[0]!.body).toEqual(rle.bytes)
    const original = new Map(ct.instances.map((i) => [i.sopInstanceUid, i.bytes]))
    for (const path of [ctStudy(), ctSeries()]) {
      const response = await get(
        'patient',
        path,
        'multipart/related; type="application/dicom"; transfer-syntax=*',
      )
      // Streamed: no length up front.
      expect(response.headers.get('content-length')).toBeNull()
      const { type, parts } = await multipartOf(response)
      expect(type).toBe('application/dicom')
      expect(parts).toHaveLength(300)
      for (const part of parts) {
        expect(part.headers['content-type']).toBe(`application/dicom; transfer-syntax=${EXPLICIT_LE}`)
        expect(part.body).toEqual(original.get(sopOf(part)!))
      }
      expect(new Set(parts.map(sopOf)).size).toBe(300)
    }
  }, 120_000)

  it('transcodes compressed instances to Explicit VR Little Endian on request: same pixels once decoded', async () => {
    const mrSmall = new Uint8Array(await readFile(join(FIXTURES, 'valid', 'MR_small.dcm')))
    const native = parseDicomFile(mrSmall).dataset['7FE00010']?.Value?.[0] as ArrayBuffer
    for (const name of FIXTURE_NAMES) {
      const { bytes } = fixtures.get(name)!
      const { parts } = await multipartOf(await get('patient', fixturePath(name), DICOM_EXPLICIT_LE))
      expect(parts, name).toHaveLength(1)
      expect(parts[0]!.headers['content-type']).toBe(`application/dicom; transfer-syntax=${EXPLICIT_LE}`)
      const transcoded = parseDicomFile(parts[0]!.body)
      expect(transcoded.transferSyntaxUid, name).toBe(EXPLICIT_LE)
      expect(transcoded.pixelData?.encapsulated).toBe(false)
      expect(transcoded.sopInstanceUid).toBe(fixtures.get(name)!.sop)
      // Pixels: the transcoded native frames equal the stored frames decoded.
      const [want, got] = [await decodedFrames(bytes), await decodedFrames(parts[0]!.body)]
      expect(got.length, name).toBe(want.length)
      for (const [i, frame] of got.entries()) expect(frame, `${name} frame ${i + 1}`).toEqual(want[i])
      const lossless = !['JPEG-lossy.dcm', 'SC_rgb_jpeg_dcmtk.dcm'].includes(name)
      if (!lossless) expect(transcoded.dataset['00282110']?.Value?.[0]).toBe('01')
      // The lossless encodings of MR_small give back exactly the native original's pixels.
      if (name.startsWith('MR_small_')) expect(got[0]).toEqual(new Uint8Array(native))
    }
    // Asked for what it is stored in, an instance is not touched.
    const { parts } = await multipartOf(
      await get(
        'patient',
        fixturePath('MR_small_RLE.dcm'),
        'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.5',
      ),
    )
    expect(parts[0]!.body).toEqual(fixtures.get('MR_small_RLE.dcm')!.bytes)
    // Study level: every instance of the study transcoded.
    const jpeg = fixtures.get('SC_rgb_jpeg_dcmtk.dcm')!
    const study = await multipartOf(await get('patient', `/studies/${jpeg.study}`, DICOM_EXPLICIT_LE))
    expect(parseDicomFile(study.parts[0]!.body).transferSyntaxUid).toBe(EXPLICIT_LE)
  }, 120_000)

  it('answers 406 for a transfer syntax or type it cannot give, before sending anything', async () => {
    const jpeg2000 = 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.90'
    for (const [path, accept] of [
      [ctSeries(), jpeg2000],
      [fixturePath('MR_small_RLE.dcm'), jpeg2000],
      [ctStudy(), 'application/pdf'],
      [`${ctSeries()}/instances/${ct.instances[0]!.sopInstanceUid}`, 'multipart/related; type="image/jpeg"'],
    ] as const) {
      const response = await get('patient', path, accept)
      expect(response.status, `${path} ${accept}`).toBe(406)
      expect(response.headers.get('content-type')).toBe('application/problem+json')
      expect(((await response.json()) as { code: string }).code).toBe('NOT_ACCEPTABLE')
    }
    // The first acceptable range wins: q-values order them.
    const either = `${jpeg2000}; q=0.9, multipart/related; type="application/dicom"; transfer-syntax=*`
    expect((await get('patient', fixturePath('MR_small_RLE.dcm'), either)).status).toBe(200)
  })

  it('frames: decoded by default, the stored bitstream for transfer-syntax=* or when its type is asked for', async () => {
    const path = `${fixturePath('MR_small_jp2klossless.dcm')}/frames/1`
    for (const accept of [
      undefined,
      `multipart/related; type="application/octet-stream"; transfer-syntax=${EXPLICIT_LE}`,
    ]) {
      const { type, parts } = await multipartOf(await get('patient', path, accept))
      expect(type).toBe('application/octet-stream')
      expect(parts[0]!.headers['content-type']).toBe(
        `application/octet-stream; transfer-syntax=${EXPLICIT_LE}`,
      )
      expect(parts[0]!.body.length).toBe(64 * 64 * 2)
    }
    const stored = extractFrames(fixtures.get('MR_small_jp2klossless.dcm')!.bytes).frames[0]!
    for (const accept of [
      'multipart/related; type="image/jp2"',
      'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.4.90',
      // What Cornerstone's WADO-RS loader sends by default: the stored bitstream, labelled.
      'multipart/related; type=application/octet-stream; transfer-syntax=*',
    ]) {
      const { parts } = await multipartOf(await get('patient', path, accept))
      expect(parts[0]!.headers['content-type']).toMatch(/transfer-syntax=1\.2\.840\.10008\.1\.2\.4\.90$/)
      expect(parts[0]!.body).toEqual(stored)
    }
    expect((await get('patient', path, 'multipart/related; type="image/jls"')).status).toBe(406)
    // A native instance has no bitstream to give; transfer-syntax=* gets its pixels as they are.
    const ctFrame = `${ctSeries()}/instances/${ct.instances[0]!.sopInstanceUid}/frames/1`
    const native = await multipartOf(
      await get('patient', ctFrame, 'multipart/related; type=application/octet-stream; transfer-syntax=*'),
    )
    expect(native.parts[0]!.headers['content-type']).toBe(
      `application/octet-stream; transfer-syntax=${EXPLICIT_LE}`,
    )
    expect((await get('patient', ctFrame, 'multipart/related; type="image/jp2"')).status).toBe(406)
  })

  it('the cache never outlives a grant: revoke, and the next request is refused', async () => {
    const frame = (n: number) => `${ctSeries()}/instances/${ct.instances[n]!.sopInstanceUid}/frames/1`
    for (let i = 0; i < 3; i++) expect((await get('medicRevoked', frame(i))).status).toBe(200)
    expect((await get('medicRevoked', ctSeries())).status).toBe(200)
    const patient = await t.clientFor(t.dev.patient!)
    await revokeAccess(patient.walletClient, {
      contract: patient.config.contract,
      grantee: medicRevoked.account.address,
    })
    for (const path of [frame(0), frame(1), ctSeries(), `${ctSeries()}/metadata`, '/studies']) {
      const response = await get('medicRevoked', path)
      if (path === '/studies') expect(await response.json()).toEqual([])
      else expect(response.status, path).toBe(403)
    }
    expect((await get('patient', frame(0))).status).toBe(200)
  })

  it('scrolling 300 frames: the caches spare 299 manifest openings and instance decryptions', async () => {
    const logger = createLogger({ level: 'silent' })
    const appWith = (cache: DicomwebCacheOptions) => {
      const app = new Hono()
      app.route(
        '/',
        createDicomwebApp({ source: custodialStudySource(t.node.context, cache), basePath: BASE }),
      )
      app.onError((error) => errorToResponse(error, logger, 'test'))
      return app
    }
    const scroll = async (app: Hono) => {
      const started = performance.now()
      for (const instance of ct.instances) {
        const response = await app.request(
          `${t.node.url}${BASE}${ctSeries()}/instances/${instance.sopInstanceUid}/frames/1`,
          { headers: { authorization: `Bearer ${tokens.get('patient')}` } },
        )
        expect(response.status).toBe(200)
        await response.arrayBuffer()
      }
      return performance.now() - started
    }
    const uncached = appWith({ records: 0, instanceBytes: 0 })
    const cached = appWith({})
    await scroll(cached) // warm: first pass opens the record once and fills the instance cache
    const timings = { uncached: await scroll(uncached), cachedWarm: await scroll(cached) }
    const coldCached = appWith({})
    const cold = await scroll(coldCached)
    console.log(
      `300 frames (128x128 CT) sequentially, in process: no cache ${timings.uncached.toFixed(0)} ms, ` +
        `cache cold ${cold.toFixed(0)} ms, cache warm ${timings.cachedWarm.toFixed(0)} ms`,
    )
    // The same over HTTP on the node (its own cache, warmed by the tests above).
    const started = performance.now()
    for (const instance of ct.instances) {
      const frame = await get('patient', `${ctSeries()}/instances/${instance.sopInstanceUid}/frames/1`)
      expect(frame.status).toBe(200)
      await frame.arrayBuffer()
    }
    console.log(`300 frames over HTTP from the node: ${(performance.now() - started).toFixed(0)} ms`)
    const series = performance.now()
    await (await get('patient', ctSeries())).arrayBuffer()
    console.log(
      `series retrieve (300 instances, ${(ct.instances.reduce((n, i) => n + i.bytes.length, 0) / 1048576).toFixed(1)} MiB) over HTTP: ${(performance.now() - series).toFixed(0)} ms`,
    )
    expect(timings.cachedWarm).toBeLessThan(timings.uncached)
  }, 300_000)

  it('metadata at study level still lists every instance (through the cache)', async () => {
    const response = await get('patient', `${ctStudy()}/metadata`)
    const datasets = (await response.json()) as DicomJsonDataset[]
    expect(datasets).toHaveLength(300)
    expect(new Set(datasets.map((d) => value(d, '00080018'))).size).toBe(300)
  })
})
