import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
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
  type SynthesizedStudy,
  startTestNode,
  stowBody,
  synthesizeStudy,
  type TestIdentity,
  type TestNode,
} from '@pcmims/test-utils'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config.js'
import { dataSetDump, run } from './dicom-peers.js'
import { memoryFile } from './helpers.js'
import { enrol } from './participants.js'

/*
 * Issue 4's done-means, on the generated studies: a 300-slice CT, a 150-instance MR and a 3000×2500
 * radiograph go in by STOW-RS, by storescu (C-STORE) and by folder upload (the client encrypts); each time
 * they come back by WADO-RS (byte-identical for STOW-RS and folder upload; the same data set for C-STORE,
 * whose file meta is the receiver's own) and are found by QIDO-RS with patient, date, modality and accession
 * queries — only by callers the patient allowed.
 */

const BASE = '/api/v1/dicomweb'
const value = (dataset: DicomJsonDataset | undefined, tag: string) => dataset?.[tag]?.Value?.[0]
const pixels = (parsed: ReturnType<typeof parseDicomFile>) =>
  Buffer.concat(
    ((parsed.dataset['7FE00010']?.Value ?? []) as ArrayBuffer[]).map((b) => Buffer.from(new Uint8Array(b))),
  )

describe('the generated CT, MR and radiograph by STOW-RS, C-STORE and folder upload', () => {
  let t: TestNode
  let work: string
  let medic: TestIdentity
  let stranger: TestIdentity
  const tokens = new Map<string, string>()
  const studies: Array<{ study: SynthesizedStudy; date: string; modality: string; folder: string }> = []

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pcmims-paths-'))
    t = await startTestNode({
      config: {
        ingest: { quietPeriodMs: 500, maxInstanceBytes: 64 * 1024 ** 2, maxStowBytes: 1024 ** 3 },
        dimse: { ...defaultConfig().dimse, enabled: true, port: 0 },
      },
    })
    const patient = await t.clientFor(t.dev.patient!)
    medic = await t.newIdentity()
    stranger = await t.newIdentity()
    await enrol(t, medic, t.dev.unit!, 'Medic')
    await enrol(t, stranger, t.dev.unit!, 'Medic')
    const expiresAt = (await getChainTime(patient.publicClient)) + 86_400
    await createGrant(patient, { grantee: medic.account.address, expiresAt, download: true })
    for (const [name, who] of Object.entries({
      uploader: t.dev.uploader!,
      patient: t.dev.patient!,
      medic,
      stranger,
    })) {
      tokens.set(name, (await createNodeClient({ url: t.node.url, account: who.account }).signIn()).token)
    }
    const patientInfo = { name: 'Cervantes^Miguel^de', id: 'MRN-PATHS-1', birthDate: '19470929', sex: 'M' }
    const plan = [
      { kind: 'CT' as const, count: 300, date: '20250301', accession: 'ACC-PATHS-CT', modality: 'CT' },
      { kind: 'MR' as const, count: 150, date: '20250302', accession: 'ACC-PATHS-MR', modality: 'MR' },
      { kind: 'CR' as const, count: 1, date: '20250303', accession: 'ACC-PATHS-CR', modality: 'CR' },
    ]
    for (const p of plan) {
      const study = synthesizeStudy({
        kind: p.kind,
        count: p.count,
        seed: `paths-${p.kind}`,
        patient: patientInfo,
        study: {
          accessionNumber: p.accession,
          studyDate: p.date,
          description: `${p.kind} for the paths test`,
        },
      })
      const folder = join(work, p.kind)
      await mkdir(folder)
      for (const instance of study.instances) await writeFile(join(folder, instance.fileName), instance.bytes)
      studies.push({ study, date: p.date, modality: p.modality, folder })
    }
    // The radiograph is 3000 columns × 2500 rows.
    const cr = parseDicomFile(studies[2]!.study.instances[0]!.bytes).dataset
    expect([cr['00280010']?.Value?.[0], cr['00280011']?.Value?.[0]]).toEqual([2500, 3000])
  }, 600_000)
  afterAll(async () => {
    await t?.stop()
    if (work) await rm(work, { recursive: true, force: true })
  })

  const auth = (who: string) => ({ authorization: `Bearer ${tokens.get(who)}` })
  const settle = async () => {
    await t.node.context.ingest.idle()
    for (const { record_id } of t.node.context.db
      .prepare(`SELECT record_id FROM ingest_batches WHERE state = 'sealed'`)
      .all() as Array<{ record_id: Hex }>) {
      expect((await t.node.context.outbox.waitFor(record_id, 120_000)).state).toBe('confirmed')
    }
    await t.node.context.indexer.syncOnce()
  }
  const wado = async (study: SynthesizedStudy, index: number): Promise<Uint8Array> => {
    const instance = study.instances[index]!
    const response = await fetch(
      `${t.node.url}${BASE}/studies/${study.studyInstanceUid}/series/${study.seriesInstanceUid}/instances/${instance.sopInstanceUid}`,
      { headers: auth('patient') },
    )
    expect(response.status).toBe(200)
    const { parts } = parseMultipartRelated(
      response.headers.get('content-type') ?? '',
      new Uint8Array(await response.arrayBuffer()),
    )
    expect(parts).toHaveLength(1)
    return parts[0]!.body
  }
  const qidoFinds = async (who: string, query: string): Promise<string[]> => {
    const response = await fetch(`${t.node.url}${BASE}/studies?${query}`, { headers: auth(who) })
    expect(response.status).toBe(200)
    return ((await response.json()) as DicomJsonDataset[]).map((d) => String(value(d, '0020000D')))
  }
  const expectFound = async () => {
    for (const { study, date, modality } of studies) {
      const accession = study.accessionNumber
      for (const query of [
        'PatientName=miguel%20cerv&fuzzymatching=true',
        'PatientID=MRN-PATHS-1',
        `StudyDate=${date}`,
        `ModalitiesInStudy=${modality}`,
        `AccessionNumber=${accession}`,
      ]) {
        for (const who of ['patient', 'medic'])
          expect(await qidoFinds(who, query), `${who} ${query}`).toContain(study.studyInstanceUid)
        expect(await qidoFinds('stranger', query), `stranger ${query}`).toEqual([])
      }
    }
  }
  const records = () =>
    (t.node.context.db.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n

  it('by STOW-RS: one request per study, every instance back byte for byte', async () => {
    const before = records()
    for (const { study } of studies) {
      const { contentType, body } = stowBody(study.instances.map((i) => i.bytes))
      const response = await fetch(`${t.node.url}${BASE}/studies?patient=${t.dev.patient!.account.address}`, {
        method: 'POST',
        headers: { ...auth('uploader'), 'content-type': contentType },
        body,
      })
      expect(response.status).toBe(200)
    }
    await settle()
    expect(records() - before).toBe(3)
    for (const { study } of studies) {
      for (const [index, instance] of study.instances.entries()) {
        expect(Buffer.compare(Buffer.from(await wado(study, index)), Buffer.from(instance.bytes))).toBe(0)
      }
    }
    await expectFound()
  }, 600_000)

  it('by storescu: the MRN is mapped, each study becomes one record, the data sets come back as sent', async () => {
    const mapped = await fetch(`${t.node.url}/api/v1/unit/patient-ids`, {
      method: 'PUT',
      headers: { ...auth('uploader'), 'content-type': 'application/json' },
      body: JSON.stringify({ patientId: 'MRN-PATHS-1', patient: t.dev.patient!.account.address }),
    })
    expect(mapped.status).toBe(200)
    const before = records()
    for (const { folder } of studies) {
      const sent = await run('storescu', [
        '-aet',
        'MODALITY1',
        '-aec',
        'PCMIMS',
        '+sd',
        '127.0.0.1',
        String(t.node.dimse!.port),
        folder,
      ])
      expect(sent.code, sent.stderr).toBe(0)
    }
    await settle()
    expect(records() - before).toBe(3)
    for (const { study } of studies) {
      for (const [index, instance] of study.instances.entries()) {
        const back = parseDicomFile(await wado(study, index))
        const sent = parseDicomFile(instance.bytes)
        expect(back.dataset['00080018']?.Value?.[0]).toBe(instance.sopInstanceUid)
        expect(pixels(back).equals(pixels(sent))).toBe(true)
      }
      // And every attribute, as dcmtk reads both.
      const path = join(work, `back-${study.kind}.dcm`)
      await writeFile(path, await wado(study, 0))
      expect(await dataSetDump(path)).toEqual(
        await dataSetDump(join(studies.find((s) => s.study === study)!.folder, study.instances[0]!.fileName)),
      )
    }
    await expectFound()
  }, 600_000)

  it('by folder upload (the client encrypts): every instance back byte for byte', async () => {
    const uploader = await t.clientFor(t.dev.uploader!)
    const before = records()
    for (const { study } of studies) {
      await uploadDicomStudies(uploader, {
        patient: t.dev.patient!.account.address,
        files: study.instances.map((i) => memoryFile(i.fileName, i.bytes)),
      })
    }
    await t.node.context.indexer.syncOnce()
    expect(records() - before).toBe(3)
    for (const { study } of studies) {
      for (const [index, instance] of study.instances.entries()) {
        expect(Buffer.compare(Buffer.from(await wado(study, index)), Buffer.from(instance.bytes))).toBe(0)
      }
    }
    await expectFound()
  }, 600_000)
})
