import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  createGrant,
  createNodeClient,
  type DicomJsonDataset,
  getChainTime,
  parseDicomFile,
  uploadDicomStudies,
} from '@pcmims/core'
import {
  parseMultipartRelated,
  startTestNode,
  synthesizeStudy,
  type TestIdentity,
  type TestNode,
} from '@pcmims/test-utils'
import { decode as decodePng } from 'fast-png'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FIXTURES, memoryFile } from './helpers.js'
import { enrol } from './participants.js'

const BASE = '/api/v1/dicomweb'

/** The checks of PS3.18 F.2 a DICOM JSON dataset must pass: 8-hex-digit sorted tags, a VR, one value form. */
function expectDicomJson(dataset: DicomJsonDataset): void {
  const tags = Object.keys(dataset)
  expect(tags.every((tag) => /^[0-9A-F]{8}$/.test(tag))).toBe(true)
  expect([...tags].sort()).toEqual(tags)
  for (const element of Object.values(dataset)) {
    expect(element.vr).toMatch(/^[A-Z]{2}$/)
    const forms = ['Value', 'InlineBinary', 'BulkDataURI'].filter((k) => k in element)
    expect(forms.length).toBeLessThanOrEqual(1)
    if (element.Value) expect(Array.isArray(element.Value)).toBe(true)
  }
}

const value = (dataset: DicomJsonDataset | undefined, tag: string) => dataset?.[tag]?.Value?.[0]

describe('DICOMweb (QIDO-RS, WADO-RS) over custodial study records', () => {
  let t: TestNode
  const tokens = new Map<string, string>()
  const ct = synthesizeStudy({
    kind: 'CT',
    count: 20,
    rows: 64,
    columns: 48,
    seed: 'dicomweb',
    patient: { name: 'Quixote^Alonso^Q', id: 'PID-DW-7' },
    study: { accessionNumber: 'ACC-DW-1', studyDate: '20240315', description: 'chest CT' },
  })
  let ctRecord: Hex
  const fixtureUids = new Map<string, string>()

  beforeAll(async () => {
    t = await startTestNode()
    const unit = t.dev.unit!
    const patient = await t.clientFor(t.dev.patient!)
    const uploader = await t.clientFor(t.dev.uploader!)
    const medicDownload = await t.newIdentity()
    const medicNoGrant = await t.newIdentity()
    const medicViewOnly = await t.newIdentity()
    for (const who of [medicDownload, medicNoGrant, medicViewOnly]) await enrol(t, who, unit, 'Medic')
    const expiresAt = (await getChainTime(patient.publicClient)) + 86_400
    await createGrant(patient, { grantee: medicDownload.account.address, expiresAt, download: true })
    await createGrant(patient, { grantee: medicViewOnly.account.address, expiresAt, download: false })

    const [uploaded] = await uploadDicomStudies(uploader, {
      patient: t.dev.patient!.account.address,
      files: ct.instances.map((i) => memoryFile(i.fileName, i.bytes)),
    })
    ctRecord = uploaded!.recordId
    for (const name of ['CT_small.dcm', 'MR_small.dcm', 'SC_rgb_jpeg_dcmtk.dcm']) {
      const bytes = new Uint8Array(await readFile(join(FIXTURES, 'valid', name)))
      fixtureUids.set(name, parseDicomFile(bytes).dataset['0020000D']?.Value?.[0] as string)
      await uploadDicomStudies(uploader, {
        patient: t.dev.patient!.account.address,
        files: [memoryFile(name, bytes)],
      })
    }
    await t.node.context.indexer.syncOnce()
    const identities: Record<string, TestIdentity> = {
      patient: t.dev.patient!,
      medicDownload,
      medicNoGrant,
      medicViewOnly,
      unit,
    }
    for (const [name, identity] of Object.entries(identities)) {
      tokens.set(
        name,
        (await createNodeClient({ url: t.node.url, account: identity.account }).signIn()).token,
      )
    }
  }, 240_000)
  afterAll(async () => {
    await t?.stop()
  })

  const get = (who: string | null, path: string, headers: Record<string, string> = {}) =>
    fetch(`${t.node.url}${BASE}${path}`, {
      headers: { ...headers, ...(who ? { authorization: `Bearer ${tokens.get(who)}` } : {}) },
    })
  const qido = async (who: string, query: string) => {
    const response = await get(who, `/studies${query}`)
    expect(response.status, query).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/dicom+json')
    return (await response.json()) as DicomJsonDataset[]
  }
  const studyUids = (answer: DicomJsonDataset[]) => answer.map((d) => value(d, '0020000D')).sort()
  const ctUid = () => ct.studyInstanceUid
  const ctSeries = () => ct.seriesInstanceUid
  const instancePath = (index: number) =>
    `/studies/${ctUid()}/series/${ctSeries()}/instances/${ct.instances[index]!.sopInstanceUid}`

  it('QIDO-RS finds studies by fuzzy name, date range, modality, accession, only for the patient and download grantees', async () => {
    for (const who of ['patient', 'medicDownload']) {
      expect(studyUids(await qido(who, ''))).toHaveLength(4)
      const [study, ...others] = await qido(who, '?PatientName=alonso%20quix&fuzzymatching=true')
      expect(others).toEqual([])
      expectDicomJson(study!)
      expect(value(study, '0020000D')).toBe(ctUid())
      expect(value(study, '00100010')).toEqual({ Alphabetic: 'Quixote^Alonso^Q' })
      expect(value(study, '00100020')).toBe('PID-DW-7')
      expect(value(study, '00080020')).toBe('20240315')
      expect(value(study, '00080050')).toBe('ACC-DW-1')
      expect(value(study, '00081030')).toBe('chest CT')
      expect(study!['00080061']?.Value).toEqual(['CT'])
      expect(value(study, '00201206')).toBe(1)
      expect(value(study, '00201208')).toBe(20)
      // Without fuzzy matching word order counts; wildcards are case-insensitive for names.
      expect(await qido(who, '?PatientName=alonso%20quix')).toEqual([])
      expect(studyUids(await qido(who, '?PatientName=quix*'))).toEqual([ctUid()])
      expect(studyUids(await qido(who, '?PatientName=compressedsamples%5EMR?'))).toEqual([
        fixtureUids.get('MR_small.dcm'),
      ])
      expect(studyUids(await qido(who, '?StudyDate=20040101-20041231'))).toEqual(
        [fixtureUids.get('CT_small.dcm'), fixtureUids.get('MR_small.dcm')].sort(),
      )
      expect(studyUids(await qido(who, '?StudyDate=20170101-'))).toEqual(
        [ctUid(), fixtureUids.get('SC_rgb_jpeg_dcmtk.dcm')].sort(),
      )
      expect(studyUids(await qido(who, '?StudyDate=-20040119'))).toEqual([fixtureUids.get('CT_small.dcm')])
      expect(studyUids(await qido(who, '?ModalitiesInStudy=CT'))).toEqual(
        [ctUid(), fixtureUids.get('CT_small.dcm')].sort(),
      )
      expect(studyUids(await qido(who, '?ModalitiesInStudy=MR,OT'))).toHaveLength(2)
      expect(studyUids(await qido(who, '?AccessionNumber=ACC-DW-?'))).toEqual([ctUid()])
      expect(studyUids(await qido(who, '?PatientID=1CT1'))).toEqual([fixtureUids.get('CT_small.dcm')])
      expect(studyUids(await qido(who, `?StudyInstanceUID=${ctUid()}`))).toEqual([ctUid()])
      expect(await qido(who, '?limit=2&offset=1')).toHaveLength(2)
      const [full] = await qido(who, '?PatientID=PID-DW-7&includefield=all')
      expect(full!['00100040']).toBeDefined()
    }
    // A medic without a grant, a view-only grantee and the unit itself see nothing.
    for (const who of ['medicNoGrant', 'medicViewOnly', 'unit']) expect(await qido(who, ''), who).toEqual([])
    expect((await get(null, '/studies')).status).toBe(401)
    expect((await get('patient', '/studies?StudyDate=2024')).status).toBe(400)
  })

  it('QIDO-RS lists the series and instances of a study', async () => {
    const series = (await (await get('patient', `/studies/${ctUid()}/series`)).json()) as DicomJsonDataset[]
    expect(series).toHaveLength(1)
    expectDicomJson(series[0]!)
    expect(value(series[0], '0020000E')).toBe(ctSeries())
    expect(value(series[0], '00080060')).toBe('CT')
    expect(value(series[0], '00201209')).toBe(20)
    const response = await get('medicDownload', `/studies/${ctUid()}/series/${ctSeries()}/instances?limit=5`)
    const instances = (await response.json()) as DicomJsonDataset[]
    expect(instances).toHaveLength(5)
    expect(instances.map((i) => value(i, '00080018'))).toEqual(
      ct.instances.slice(0, 5).map((i) => i.sopInstanceUid),
    )
    expect(value(instances[0], '00280010')).toBe(64)
    expect((await get('medicNoGrant', `/studies/${ctUid()}/series`)).status).toBe(403)
    expect((await get('patient', `/studies/1.2.3.4/series`)).status).toBe(404)
  })

  it('QIDO-RS at the root and study level: series and instances across what the caller may read', async () => {
    const json = async (who: string, path: string) => {
      const response = await get(who, path)
      expect(response.status, path).toBe(200)
      return (await response.json()) as DicomJsonDataset[]
    }
    const ctSeriesFound = await json('medicDownload', '/series?Modality=CT&PatientName=quix*')
    expect(ctSeriesFound.map((s) => [value(s, '0020000D'), value(s, '0020000E')])).toEqual([
      [ctUid(), ctSeries()],
    ])
    const allSeries = await json('patient', '/series')
    expect(allSeries.length).toBeGreaterThanOrEqual(4)
    expect(allSeries.every((s) => typeof value(s, '0020000D') === 'string')).toBe(true)
    const one = ct.instances[7]!.sopInstanceUid
    const byUid = await json('patient', `/instances?SOPInstanceUID=${one}`)
    expect(byUid.map((i) => [value(i, '0020000D'), value(i, '0020000E'), value(i, '00080018')])).toEqual([
      [ctUid(), ctSeries(), one],
    ])
    expect(await json('patient', '/instances?AccessionNumber=ACC-DW-1&limit=3&offset=2')).toHaveLength(3)
    const inStudy = await json(
      'medicDownload',
      `/studies/${ctUid()}/instances?InstanceNumber=${ct.instances[3]!.instanceNumber}`,
    )
    expect(inStudy.map((i) => value(i, '00080018'))).toEqual([ct.instances[3]!.sopInstanceUid])
    // Nothing for a caller the patient did not allow; a study it may not read is 403, not a list.
    expect(await json('medicNoGrant', '/series')).toEqual([])
    expect(await json('medicNoGrant', `/instances?SOPInstanceUID=${one}`)).toEqual([])
    expect((await get('medicNoGrant', `/studies/${ctUid()}/instances`)).status).toBe(403)
    expect((await get(null, '/series')).status).toBe(401)
  })

  it('WADO-RS serves an instance byte for byte, as multipart/related, and audits it', async () => {
    const audits = () =>
      t.node.context.db
        .prepare(
          "SELECT COUNT(*) AS n FROM audit_entries WHERE record_id = ? AND action = 'record.download-decrypted'",
        )
        .get(ctRecord.toLowerCase()) as { n: number }
    const before = audits().n
    const response = await get('patient', instancePath(7), {
      accept: 'multipart/related; type="application/dicom"',
    })
    expect(response.status).toBe(200)
    const { type, parts } = parseMultipartRelated(
      response.headers.get('content-type')!,
      new Uint8Array(await response.arrayBuffer()),
    )
    expect(type).toBe('application/dicom')
    expect(parts).toHaveLength(1)
    expect(parts[0]!.headers['content-type']).toBe('application/dicom; transfer-syntax=1.2.840.10008.1.2.1')
    expect(parts[0]!.body).toEqual(ct.instances[7]!.bytes)
    expect(audits().n).toBe(before + 1)

    const refused = await get('medicNoGrant', instancePath(7))
    expect(refused.status).toBe(403)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')
    expect((await get('medicViewOnly', instancePath(7))).status).toBe(403)
    expect((await get('patient', `/studies/${ctUid()}/series/${ctSeries()}/instances/1.2.3`)).status).toBe(
      404,
    )
  })

  it('WADO-RS metadata is DICOM JSON with the right UIDs and pixel data by BulkDataURI', async () => {
    const one = (await (
      await get('medicDownload', `${instancePath(3)}/metadata`)
    ).json()) as DicomJsonDataset[]
    expect(one).toHaveLength(1)
    expectDicomJson(one[0]!)
    expect(value(one[0], '0020000D')).toBe(ctUid())
    expect(value(one[0], '0020000E')).toBe(ctSeries())
    expect(value(one[0], '00080018')).toBe(ct.instances[3]!.sopInstanceUid)
    const uri = one[0]!['7FE00010']?.BulkDataURI
    expect(uri).toBe(`${t.node.url}${BASE}${instancePath(3)}/frames/1`)
    expect(one[0]!['7FE00010']?.Value).toBeUndefined()
    const series = (await (
      await get('patient', `/studies/${ctUid()}/series/${ctSeries()}/metadata`)
    ).json()) as DicomJsonDataset[]
    expect(series.map((d) => value(d, '00080018')).sort()).toEqual(
      ct.instances.map((i) => i.sopInstanceUid).sort(),
    )
    const mr = fixtureUids.get('MR_small.dcm')!
    const study = (await (await get('patient', `/studies/${mr}/metadata`)).json()) as DicomJsonDataset[]
    expect(study).toHaveLength(1)
    expect(value(study[0], '00100010')).toEqual({ Alphabetic: 'CompressedSamples^MR1' })
    expect((await get('medicNoGrant', `/studies/${mr}/metadata`)).status).toBe(403)
  })

  it('WADO-RS frames are decoded pixel bytes: rows x columns x bytes per sample', async () => {
    const response = await fetch(uriOf(`${instancePath(3)}/frames/1`), {
      headers: { authorization: `Bearer ${tokens.get('patient')}` },
    })
    expect(response.status).toBe(200)
    const { type, parts } = parseMultipartRelated(
      response.headers.get('content-type')!,
      new Uint8Array(await response.arrayBuffer()),
    )
    expect(type).toBe('application/octet-stream')
    expect(parts[0]!.headers['content-type']).toBe(
      'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1',
    )
    expect(parts[0]!.body.length).toBe(64 * 48 * 2)
    // The frame is the stored native pixel data.
    const stored = parseDicomFile(ct.instances[3]!.bytes).dataset['7FE00010']?.Value?.[0] as ArrayBuffer
    expect(parts[0]!.body).toEqual(new Uint8Array(stored))
    // A JPEG-compressed RGB fixture decodes to 100 x 100 x 3.
    const sc = fixtureUids.get('SC_rgb_jpeg_dcmtk.dcm')!
    const [series] = (await (await get('patient', `/studies/${sc}/series`)).json()) as DicomJsonDataset[]
    const [instance] = (await (
      await get('patient', `/studies/${sc}/series/${value(series, '0020000E')}/instances`)
    ).json()) as DicomJsonDataset[]
    const scFrames = await get(
      'patient',
      `/studies/${sc}/series/${value(series, '0020000E')}/instances/${value(instance, '00080018')}/frames/1`,
    )
    const sp = parseMultipartRelated(
      scFrames.headers.get('content-type')!,
      new Uint8Array(await scFrames.arrayBuffer()),
    )
    expect(sp.parts[0]!.body.length).toBe(100 * 100 * 3)
    expect((await get('patient', `${instancePath(3)}/frames/2`)).status).toBe(404)
    expect((await get('patient', `${instancePath(3)}/frames/0`)).status).toBe(400)
  })

  it('WADO-RS rendered and thumbnail images decode to the right size', async () => {
    const png = await get('patient', `${instancePath(5)}/rendered?window=40,400`, { accept: 'image/png' })
    expect(png.status).toBe(200)
    expect(png.headers.get('content-type')).toBe('image/png')
    const image = decodePng(new Uint8Array(await png.arrayBuffer()))
    expect([image.width, image.height]).toEqual([48, 64])
    const jpeg = await get('medicDownload', `${instancePath(5)}/rendered`, { accept: 'image/jpeg' })
    expect(jpeg.headers.get('content-type')).toBe('image/jpeg')
    const bytes = new Uint8Array(await jpeg.arrayBuffer())
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8])
    const thumb = await get('patient', `${instancePath(5)}/thumbnail?viewport=32`)
    const small = decodePng(new Uint8Array(await thumb.arrayBuffer()))
    expect(Math.max(small.width, small.height)).toBe(32)
    expect((await get('patient', `${instancePath(5)}/rendered`, { accept: 'text/html' })).status).toBe(406)
    expect((await get('medicNoGrant', `${instancePath(5)}/rendered`)).status).toBe(403)
  })

  const uriOf = (path: string) => `${t.node.url}${BASE}${path}`
})
