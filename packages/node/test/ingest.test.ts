import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createGrant,
  createNodeClient,
  type DicomJsonDataset,
  getChainTime,
  parseDicomFile,
  uploadDicomStudies,
  zeroPreamble,
} from '@pcmims/core'
import {
  parseMultipartRelated,
  startTestNode,
  stowBody,
  synthesizeStudy,
  type TestIdentity,
  type TestNode,
  writeSynthesizedStudy,
} from '@pcmims/test-utils'
import fc from 'fast-check'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config.js'
import type { IngestError } from '../src/ingest/errors.js'
import { dataSetDump, type Orthanc, orthancStore, run, startOrthanc, storescuProfile } from './dicom-peers.js'
import { FIXTURES, memoryFile } from './helpers.js'
import { enrol } from './participants.js'

const BASE = '/api/v1/dicomweb'
const value = (dataset: DicomJsonDataset | undefined, tag: string) => dataset?.[tag]?.Value?.[0]

describe('node-side DICOM ingest: STOW-RS, C-STORE, held studies', () => {
  let t: TestNode
  let work: string
  let medicGranted: TestIdentity
  let medicNone: TestIdentity
  let patient2: TestIdentity
  const tokens = new Map<string, string>()

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pcmims-ingest-'))
    const base = defaultConfig()
    t = await startTestNode({
      config: {
        ingest: { quietPeriodMs: 300, maxInstanceBytes: 64 * 1024 ** 2, maxStowBytes: 256 * 1024 ** 2 },
        dimse: { ...base.dimse, enabled: true, port: 0 },
      },
    })
    const unit = t.dev.unit!
    const patient = await t.clientFor(t.dev.patient!)
    medicGranted = await t.newIdentity()
    medicNone = await t.newIdentity()
    patient2 = await t.newIdentity()
    await enrol(t, medicGranted, unit, 'Medic')
    await enrol(t, medicNone, unit, 'Medic')
    await enrol(t, patient2, unit, 'Patient')
    const expiresAt = (await getChainTime(patient.publicClient)) + 86_400
    await createGrant(patient, { grantee: medicGranted.account.address, expiresAt, download: true })
    for (const [name, who] of Object.entries({
      uploader: t.dev.uploader!,
      patient: t.dev.patient!,
      patient2,
      medicGranted,
      medicNone,
      unit,
    })) {
      tokens.set(name, (await createNodeClient({ url: t.node.url, account: who.account }).signIn()).token)
    }
  }, 240_000)
  afterAll(async () => {
    await t?.stop()
    if (work) await rm(work, { recursive: true, force: true })
  })

  const auth = (who: string) => ({ authorization: `Bearer ${tokens.get(who)}` })
  const stow = (who: string, files: Uint8Array[], query = '', path = '/studies') => {
    const { contentType, body } = stowBody(files)
    return fetch(`${t.node.url}${BASE}${path}${query}`, {
      method: 'POST',
      headers: { ...auth(who), 'content-type': contentType },
      body,
    })
  }
  const api = (who: string, method: string, path: string, body?: unknown) =>
    fetch(`${t.node.url}/api/v1${path}`, {
      method,
      headers: { ...auth(who), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  const count = (sql: string) => (t.node.context.db.prepare(sql).get() as { n: number }).n
  /** Waits until every received study is sealed (or held), anchored and indexed. */
  const settle = async () => {
    await t.node.context.ingest.idle()
    const sealed = t.node.context.db
      .prepare(`SELECT record_id FROM ingest_batches WHERE state = 'sealed'`)
      .all() as Array<{ record_id: Hex }>
    for (const { record_id } of sealed) {
      const entry = await t.node.context.outbox.waitFor(record_id, 60_000)
      expect(entry.state, entry.lastError ?? '').toBe('confirmed')
    }
    await t.node.context.indexer.syncOnce()
  }
  const qido = async (who: string, query: string) => {
    const response = await fetch(`${t.node.url}${BASE}/studies${query}`, { headers: auth(who) })
    expect(response.status, query).toBe(200)
    return (await response.json()) as DicomJsonDataset[]
  }
  const wadoInstance = async (who: string, study: string, series: string, sop: string) => {
    const response = await fetch(`${t.node.url}${BASE}/studies/${study}/series/${series}/instances/${sop}`, {
      headers: { ...auth(who), accept: 'multipart/related; type="application/dicom"' },
    })
    expect(response.status).toBe(200)
    const { parts } = parseMultipartRelated(
      response.headers.get('content-type') ?? '',
      new Uint8Array(await response.arrayBuffer()),
    )
    expect(parts).toHaveLength(1)
    return parts[0]!.body
  }
  const uids = (bytes: Uint8Array) => {
    const d = parseDicomFile(bytes).dataset
    const get = (tag: string) => d[tag]?.Value?.[0] as string
    return { study: get('0020000D'), series: get('0020000E'), sop: get('00080018') }
  }

  it('STOW-RS stores every valid fixture; each comes back byte-identical by WADO-RS, found by QIDO only by allowed callers', async () => {
    const dir = join(FIXTURES, 'valid')
    const names = (await readdir(dir)).filter((n) => n.endsWith('.dcm')).sort()
    expect(names.length).toBeGreaterThanOrEqual(10)
    const before = count('SELECT count(*) AS n FROM records')
    for (const name of names) {
      const bytes = new Uint8Array(await readFile(join(dir, name)))
      const response = await stow('uploader', [bytes], `?patient=${t.dev.patient!.account.address}`)
      const answer = (await response.json()) as DicomJsonDataset
      expect(response.status, `${name}: ${JSON.stringify(answer)}`).toBe(200)
      expect(response.headers.get('content-type')).toBe('application/dicom+json')
      const referenced = answer['00081199']?.Value as DicomJsonDataset[]
      const id = uids(bytes)
      expect(value(referenced[0], '00081155')).toBe(id.sop)
      expect(String(value(referenced[0], '00081190'))).toContain(
        `/studies/${id.study}/series/${id.series}/instances/${id.sop}`,
      )
      await settle()
      // The latest record of a study answers for it: each fixture is read back right after it was stored.
      const back = await wadoInstance('patient', id.study, id.series, id.sop)
      expect(Buffer.compare(Buffer.from(back), Buffer.from(zeroPreamble(bytes))), name).toBe(0)
    }
    expect(count('SELECT count(*) AS n FROM records') - before).toBe(names.length)
    const ct = uids(new Uint8Array(await readFile(join(dir, 'CT_small.dcm'))))
    const ctDataset = parseDicomFile(new Uint8Array(await readFile(join(dir, 'CT_small.dcm')))).dataset
    const patientId = ctDataset['00100020']?.Value?.[0] as string
    const studyDate = ctDataset['00080020']?.Value?.[0] as string
    for (const who of ['patient', 'medicGranted']) {
      const byId = await qido(who, `?PatientID=${encodeURIComponent(patientId)}`)
      expect(byId.map((d) => value(d, '0020000D'))).toContain(ct.study)
      expect(
        (await qido(who, `?StudyDate=${studyDate}&ModalitiesInStudy=CT`)).map((d) => value(d, '0020000D')),
      ).toContain(ct.study)
    }
    expect(await qido('medicNone', '')).toEqual([])
    expect(await qido('patient2', `?PatientID=${encodeURIComponent(patientId)}`)).toEqual([])
  }, 300_000)

  it('folder upload (the client encrypts) of every valid fixture: each comes back byte-identical by WADO-RS', async () => {
    const uploader = await t.clientFor(t.dev.uploader!)
    const dir = join(FIXTURES, 'valid')
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.dcm')).sort()) {
      const bytes = new Uint8Array(await readFile(join(dir, name)))
      const [uploaded] = await uploadDicomStudies(uploader, {
        patient: t.dev.patient!.account.address,
        files: [memoryFile(name, bytes)],
      })
      expect(uploaded?.status, name).toBe('confirmed')
      await t.node.context.indexer.syncOnce()
      const id = uids(bytes)
      const back = await wadoInstance('medicGranted', id.study, id.series, id.sop)
      expect(Buffer.compare(Buffer.from(back), Buffer.from(zeroPreamble(bytes))), name).toBe(0)
    }
  }, 300_000)

  it('STOW-RS: a 40-slice CT in one request becomes one record, found by accession and modality', async () => {
    const ct = synthesizeStudy({
      kind: 'CT',
      count: 40,
      rows: 128,
      columns: 128,
      seed: 'ingest-stow',
      patient: { name: 'Rocinante^Dulcinea', id: 'MRN-STOW-40' },
      study: { accessionNumber: 'ACC-STOW-40', studyDate: '20250102', description: 'abdomen CT' },
    })
    const records = count('SELECT count(*) AS n FROM records')
    const response = await stow(
      'uploader',
      ct.instances.map((i) => i.bytes),
      `?patient=${t.dev.patient!.account.address}`,
    )
    expect(response.status).toBe(200)
    await settle()
    expect(count('SELECT count(*) AS n FROM records')).toBe(records + 1)
    const [study, ...rest] = await qido('patient', '?AccessionNumber=ACC-STOW-40')
    expect(rest).toEqual([])
    expect(value(study, '00201208')).toBe(40)
    expect(study?.['00080061']?.Value).toEqual(['CT'])
    for (const index of [0, 17, 39]) {
      const instance = ct.instances[index]!
      const back = await wadoInstance(
        'medicGranted',
        ct.studyInstanceUid,
        ct.seriesInstanceUid,
        instance.sopInstanceUid,
      )
      expect(Buffer.compare(Buffer.from(back), Buffer.from(instance.bytes))).toBe(0)
    }
  }, 120_000)

  it('holds a study of an unknown Patient ID for the unit, and seals it once the MRN is mapped', async () => {
    const mr = synthesizeStudy({
      kind: 'MR',
      count: 6,
      rows: 64,
      columns: 64,
      seed: 'ingest-held',
      patient: { name: 'Panza^Sancho', id: 'MRN-UNKNOWN-1' },
      study: { accessionNumber: 'ACC-HELD-1', studyDate: '20250203' },
    })
    const records = count('SELECT count(*) AS n FROM records')
    expect(
      (
        await stow(
          'uploader',
          mr.instances.map((i) => i.bytes),
        )
      ).status,
    ).toBe(200)
    await settle()
    expect(count('SELECT count(*) AS n FROM records')).toBe(records)
    const listed = await api('uploader', 'GET', '/unit/held-studies')
    expect(listed.status).toBe(200)
    const { studies } = (await listed.json()) as { studies: Array<Record<string, unknown>> }
    const held = studies.find((s) => s.patientId === 'MRN-UNKNOWN-1')
    expect(held).toMatchObject({ instances: 6, accessionNumber: 'ACC-HELD-1', modalities: ['MR'] })
    expect(String(held?.reason)).toMatch(/unknown patient/)
    // Nothing identifying at rest: the MRN and the study UID are not in the database file in clear.
    const database = await readFile(join(t.dataDir, 'node.sqlite'))
    expect(database.includes(Buffer.from('MRN-UNKNOWN-1'))).toBe(false)
    expect(database.includes(Buffer.from(mr.studyInstanceUid))).toBe(false)
    // Not for other callers.
    expect((await api('medicGranted', 'GET', '/unit/held-studies')).status).toBe(403)
    expect((await api('patient', 'GET', '/unit/held-studies')).status).toBe(403)
    // Mapping the MRN to an account that is not a patient is refused.
    expect(
      (
        await api('uploader', 'PUT', '/unit/patient-ids', {
          patientId: 'MRN-UNKNOWN-1',
          patient: medicNone.account.address,
        })
      ).status,
    ).toBe(400)
    const mapped = await api('uploader', 'PUT', '/unit/patient-ids', {
      patientId: 'MRN-UNKNOWN-1',
      patient: patient2.account.address,
    })
    expect(mapped.status).toBe(200)
    expect(await mapped.json()).toMatchObject({ released: 1, patient: patient2.account.address })
    await settle()
    expect(count('SELECT count(*) AS n FROM records')).toBe(records + 1)
    const found = await qido('patient2', '?AccessionNumber=ACC-HELD-1')
    expect(found.map((d) => value(d, '0020000D'))).toEqual([mr.studyInstanceUid])
    expect(await qido('patient', '?AccessionNumber=ACC-HELD-1')).toEqual([])
    // The next study of that MRN goes straight to the patient.
    const next = synthesizeStudy({
      kind: 'CR',
      count: 1,
      rows: 64,
      columns: 64,
      seed: 'ingest-mapped',
      patient: { name: 'Panza^Sancho', id: 'MRN-UNKNOWN-1' },
      study: { accessionNumber: 'ACC-HELD-2' },
    })
    expect(
      (
        await stow(
          'uploader',
          next.instances.map((i) => i.bytes),
        )
      ).status,
    ).toBe(200)
    await settle()
    expect((await qido('patient2', '?AccessionNumber=ACC-HELD-2')).length).toBe(1)
    const lookup = await api('unit', 'POST', '/unit/patient-ids/lookup', { patientId: 'MRN-UNKNOWN-1' })
    expect(await lookup.json()).toEqual({ patientId: 'MRN-UNKNOWN-1', patient: patient2.account.address })
  }, 120_000)

  it('resolves or discards a held study by hand', async () => {
    const make = (seed: string, id: string) =>
      synthesizeStudy({
        kind: 'CR',
        count: 1,
        rows: 32,
        columns: 32,
        seed,
        patient: { name: 'Held^Hand', id },
      })
    const a = make('held-a', 'MRN-HAND-A')
    const b = make('held-b', 'MRN-HAND-B')
    for (const s of [a, b]) expect((await stow('uploader', [s.instances[0]!.bytes])).status).toBe(200)
    await settle()
    const { studies } = (await (await api('uploader', 'GET', '/unit/held-studies')).json()) as {
      studies: Array<{ id: string; patientId: string }>
    }
    const heldA = studies.find((s) => s.patientId === 'MRN-HAND-A')!
    const heldB = studies.find((s) => s.patientId === 'MRN-HAND-B')!
    const resolved = await api('uploader', 'POST', `/unit/held-studies/${heldA.id}/resolve`, {
      patient: t.dev.patient!.account.address,
    })
    expect(resolved.status).toBe(200)
    await settle()
    expect(t.node.context.ingest.batch(heldA.id)?.state).toBe('sealed')
    // Not remembered: the MRN is still unmapped.
    expect(t.node.context.ingest.lookupPatient('MRN-HAND-A')).toBeUndefined()
    const blobsBefore = count('SELECT count(*) AS n FROM blobs')
    const discarded = await api('uploader', 'DELETE', `/unit/held-studies/${heldB.id}`)
    expect(await discarded.json()).toMatchObject({ id: heldB.id, state: 'discarded' })
    expect(count('SELECT count(*) AS n FROM blobs')).toBe(blobsBefore - 1)
    expect((await api('uploader', 'DELETE', `/unit/held-studies/${heldB.id}`)).status).toBe(404)
    expect(
      (
        await api('uploader', 'POST', `/unit/held-studies/not-an-id/resolve`, {
          patient: t.dev.patient!.account.address,
        })
      ).status,
    ).toBe(404)
  }, 120_000)

  it('refuses bad STOW-RS input with clear answers and stores nothing', async () => {
    const stored = () => ({
      instances: count('SELECT count(*) AS n FROM ingest_instances'),
      blobs: count('SELECT count(*) AS n FROM blobs'),
      batches: count(`SELECT count(*) AS n FROM ingest_batches WHERE state IN ('open', 'held')`),
    })
    const before = stored()
    const malformed = join(FIXTURES, 'malformed')
    const files = (await readdir(malformed)).filter((n) => n.endsWith('.dcm'))
    const all = await Promise.all(files.map(async (n) => new Uint8Array(await readFile(join(malformed, n)))))
    // A file the hardened reader takes unambiguously may be stored; every other one is refused.
    const bad = all.filter((bytes) => {
      try {
        parseDicomFile(bytes)
        return false
      } catch {
        return true
      }
    })
    expect(bad.length).toBeGreaterThanOrEqual(3)
    const refused = await stow('uploader', bad, `?patient=${t.dev.patient!.account.address}`)
    expect(refused.status).toBe(409)
    const answer = (await refused.json()) as DicomJsonDataset
    const failures = answer['00081198']?.Value as DicomJsonDataset[]
    expect(failures).toHaveLength(bad.length)
    for (const f of failures) expect(value(f, '00081197')).toBe(0xc000)
    expect(stored()).toEqual(before)

    // Cut half way: the instances already taken from the request are given back.
    const good = synthesizeStudy({ kind: 'CR', count: 3, rows: 32, columns: 32, seed: 'cut' }).instances.map(
      (i) => i.bytes,
    )
    const { contentType, body } = stowBody(good)
    const truncated = body.slice(0, body.length - 200)
    const cut = await fetch(`${t.node.url}${BASE}/studies?patient=${t.dev.patient!.account.address}`, {
      method: 'POST',
      headers: { ...auth('uploader'), 'content-type': contentType },
      body: truncated,
    })
    expect(cut.status).toBe(400)
    await t.node.context.ingest.idle()
    expect(stored()).toEqual(before)

    const cases: Array<[string, Promise<Response>, number]> = [
      [
        'not multipart/related',
        fetch(`${t.node.url}${BASE}/studies`, {
          method: 'POST',
          headers: { ...auth('uploader'), 'content-type': 'application/dicom' },
          body: good[0] as Uint8Array<ArrayBuffer>,
        }),
        415,
      ],
      ['a medic', stow('medicGranted', good), 403],
      ['a patient', stow('patient', good), 403],
      ['patient param not a patient', stow('uploader', good, `?patient=${medicNone.account.address}`), 400],
      ['patient param not an address', stow('uploader', good, '?patient=nobody'), 400],
      [
        'declared too large',
        fetch(`${t.node.url}${BASE}/studies`, {
          method: 'POST',
          headers: {
            ...auth('uploader'),
            'content-type': contentType,
            'content-length': String(512 * 1024 ** 2),
          },
          body: body.slice(0, 10),
          duplex: 'half',
        } as RequestInit).catch(() => new Response(null, { status: 413 })),
        413,
      ],
      [
        'no parts',
        fetch(`${t.node.url}${BASE}/studies`, {
          method: 'POST',
          headers: {
            ...auth('uploader'),
            'content-type': 'multipart/related; type="application/dicom"; boundary=x',
          },
          body: '--x--\r\n',
        }),
        400,
      ],
    ]
    for (const [what, pending, status] of cases) expect((await pending).status, what).toBe(status)
    // Into a named study, an instance of another study fails with 0xA900.
    const other = synthesizeStudy({ kind: 'CR', count: 1, rows: 32, columns: 32, seed: 'other-study' })
    const mismatch = await stow(
      'uploader',
      [other.instances[0]!.bytes],
      `?patient=${t.dev.patient!.account.address}`,
      '/studies/1.2.3.4',
    )
    expect(mismatch.status).toBe(409)
    const mismatchFailures = ((await mismatch.json()) as DicomJsonDataset)['00081198']
      ?.Value as DicomJsonDataset[]
    expect(value(mismatchFailures[0], '00081197')).toBe(0xa900)
    await t.node.context.ingest.idle()
    expect(stored()).toEqual(before)
  }, 120_000)

  it('mutated real files through the ingest: stored or an IngestError naming the part, never anything else, nothing kept', async () => {
    const dir = join(FIXTURES, 'valid')
    const seeds = await Promise.all(
      (await readdir(dir))
        .filter((n) => n.endsWith('.dcm'))
        .map(async (n) => new Uint8Array(await readFile(join(dir, n)))),
    )
    const ingest = t.node.context.ingest
    const stored = () =>
      count('SELECT count(*) AS n FROM ingest_instances') + count('SELECT count(*) AS n FROM blobs')
    const before = stored()
    let accepted = 0
    let refused = 0
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        async (seed, flips, cut) => {
          const bytes = new Uint8Array(seeds[seed]!)
          for (const [at, value] of flips) bytes[at % bytes.length] = value
          const input = cut === undefined ? bytes : bytes.subarray(0, cut % bytes.length)
          // Each case in its own session, given back after: only the outcome is under test.
          const session = ingest.openSession()
          try {
            await ingest.addInstance({
              source: {
                kind: 'stow',
                uploader: t.dev.uploader!.account.address,
                patient: t.dev.patient!.account.address,
              },
              bytes: input,
              label: 'part 1',
              session,
            })
            accepted++
          } catch (error) {
            // The node runs from its build: the class is compared by name, its code by prefix.
            expect((error as IngestError).name).toBe('IngestError')
            expect((error as IngestError).code).toMatch(/^INGEST_/)
            expect((error as IngestError).shortMessage).toMatch(/^part 1/)
            refused++
          } finally {
            await session.abort()
          }
        },
      ),
      { numRuns: Number(process.env.DICOM_FUZZ_RUNS ?? 150) },
    )
    await ingest.idle()
    expect(stored()).toBe(before)
    expect(accepted + refused).toBeGreaterThan(0)
    expect(refused).toBeGreaterThan(0)
  }, 180_000)

  it('C-STORE: storescu sends every fixture in one association, echoscu is answered; each study becomes a record', async () => {
    const port = t.node.dimse!.port
    expect((await run('echoscu', ['-aec', 'PCMIMS', '127.0.0.1', String(port)])).code).toBe(0)
    const profile = join(work, 'storescu.cfg')
    await writeFile(profile, storescuProfile())
    const dir = join(FIXTURES, 'valid')
    const names = (await readdir(dir)).filter((n) => n.endsWith('.dcm')).sort()
    // Their Patient IDs are mapped to the patient; those without one are held and resolved by hand.
    const patientIds = new Set<string>()
    for (const n of names) {
      const id = parseDicomFile(new Uint8Array(await readFile(join(dir, n)))).dataset['00100020']?.Value?.[0]
      if (typeof id === 'string' && id.trim() !== '') patientIds.add(id)
    }
    for (const patientId of patientIds) {
      const mapped = await api('uploader', 'PUT', '/unit/patient-ids', {
        patientId,
        patient: t.dev.patient!.account.address,
      })
      expect(mapped.status).toBe(200)
    }
    const heldBefore = new Set(
      t.node.context.db
        .prepare(`SELECT id FROM ingest_batches WHERE state = 'held'`)
        .all()
        .map((r) => (r as { id: string }).id),
    )
    const records = count('SELECT count(*) AS n FROM records')
    const sent = await run('storescu', [
      '-aet',
      'MODALITY1',
      '-aec',
      'PCMIMS',
      '-xf',
      profile,
      'All',
      '127.0.0.1',
      String(port),
      ...names.map((n) => join(dir, n)),
    ])
    expect(sent.code, sent.stderr).toBe(0)
    await settle()
    const { studies: held } = (await (await api('unit', 'GET', '/unit/held-studies')).json()) as {
      studies: Array<{ id: string; source: string; patientId?: string }>
    }
    const fresh = held.filter((h) => !heldBefore.has(h.id))
    expect(fresh.length).toBeGreaterThan(0)
    for (const h of fresh) {
      expect(h.source).toBe('dimse:MODALITY1')
      expect(h.patientId ?? '').toBe('')
      const resolved = await api('unit', 'POST', `/unit/held-studies/${h.id}/resolve`, {
        patient: t.dev.patient!.account.address,
      })
      expect(resolved.status).toBe(200)
    }
    await settle()
    const studies = new Set<string>()
    for (const n of names) studies.add(uids(new Uint8Array(await readFile(join(dir, n)))).study)
    expect(count('SELECT count(*) AS n FROM records')).toBe(records + studies.size)
    // The data set comes back as sent (the file meta is the receiver's own).
    const ct = new Uint8Array(await readFile(join(dir, 'CT_small.dcm')))
    const id = uids(ct)
    const back = await wadoInstance('patient', id.study, id.series, id.sop)
    expect(parseDicomFile(back).dataset['00080018']?.Value?.[0]).toBe(id.sop)
    const backPath = join(work, 'back-CT_small.dcm')
    await writeFile(backPath, back)
    expect(await dataSetDump(backPath)).toEqual(await dataSetDump(join(dir, 'CT_small.dcm')))
  }, 180_000)

  it('Orthanc forwards a 20-instance study over C-STORE and it becomes one record', async () => {
    const study = await writeSynthesizedStudy({
      kind: 'CT',
      count: 20,
      rows: 96,
      columns: 96,
      seed: 'orthanc-forward',
      patient: { name: 'Orthanc^Forward', id: 'MRN-ORTHANC-1' },
      study: { accessionNumber: 'ACC-ORTHANC-1' },
      directory: join(work, 'orthanc-study'),
    })
    expect(
      (
        await api('uploader', 'PUT', '/unit/patient-ids', {
          patientId: 'MRN-ORTHANC-1',
          patient: t.dev.patient!.account.address,
        })
      ).status,
    ).toBe(200)
    let orthanc: Orthanc | undefined
    try {
      orthanc = await startOrthanc(work, t.node.dimse!.port, 'PCMIMS')
      let parent = ''
      for (const file of study.files) {
        const response = await fetch(`${orthanc.url}/instances`, {
          method: 'POST',
          body: await readFile(file),
        })
        expect(response.ok).toBe(true)
        parent = ((await response.json()) as { ParentStudy: string }).ParentStudy
      }
      const records = count('SELECT count(*) AS n FROM records')
      await orthancStore(orthanc.url, [parent], 20)
      await settle()
      expect(count('SELECT count(*) AS n FROM records')).toBe(records + 1)
      const [found, ...others] = await qido('patient', '?AccessionNumber=ACC-ORTHANC-1')
      expect(others).toEqual([])
      expect(value(found, '00201208')).toBe(20)
    } finally {
      await orthanc?.stop()
    }
  }, 180_000)
})
