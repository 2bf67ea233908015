import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  closeRecord,
  DicomParseError,
  openRecord,
  type PcmimsClient,
  readRecordFile,
  uploadDicomStudies,
} from '@pcmims/core'
import { startTestNode, synthesizeStudy, type TestNode } from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, FIXTURES, memoryFile } from './helpers.js'

/** DICOM files in, one record per study out: real fixtures and a generated 300-slice CT, through a real node. */
describe('DICOM studies as records', () => {
  let t: TestNode
  let uploader: PcmimsClient
  let patient: PcmimsClient

  beforeAll(async () => {
    t = await startTestNode()
    uploader = await t.clientFor(t.dev.uploader!)
    patient = await t.clientFor(t.dev.patient!)
  })
  afterAll(async () => {
    await t?.stop()
  })

  const stored = () => {
    const db = t.node.context.db
    return {
      blobs: (db.prepare('SELECT COUNT(*) AS n FROM blobs').get() as { n: number }).n,
      outbox: (db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n,
    }
  }

  it('a generated 300-slice CT becomes one record: one series, 300 instances, each its own file, byte for byte', async () => {
    const study = synthesizeStudy({ kind: 'CT', count: 300, seed: 'dicom-upload' })
    const [uploaded, ...more] = await uploadDicomStudies(uploader, {
      patient: t.dev.patient!.account.address,
      files: study.instances.map((i) => memoryFile(i.fileName, i.bytes)),
    })
    expect(more).toEqual([])
    expect(uploaded).toMatchObject({ kind: 'CT', series: 1, instances: 300, status: 'confirmed' })
    const record = await openRecord(patient, { recordId: uploaded!.recordId })
    try {
      const manifest = record.manifest
      expect(manifest.study?.numberOfInstances).toBe(300)
      expect(manifest.study?.modalities).toEqual(['CT'])
      expect(manifest.files).toHaveLength(300)
      const series = manifest.study!.series[0]!
      // Sorted by instance number, each naming its own file; check a few of them byte for byte.
      const bySop = new Map(study.instances.map((i) => [i.sopInstanceUid, i]))
      for (const index of [0, 1, 149, 299]) {
        const instance = series.instances[index]!
        expect(instance.instanceNumber).toBe(index + 1)
        const file = manifest.files.find((f) => f.path === instance.path)!
        const bytes = await collect(readRecordFile(patient, { record, file }))
        expect(bytes).toEqual(bySop.get(instance.sopInstanceUid)!.bytes)
      }
      // No file name carries the patient: paths name positions.
      expect(manifest.files.every((f) => /^series-\d{3}\/\d{5}\.dcm$/.test(f.path))).toBe(true)
    } finally {
      closeRecord(record)
    }
  }, 180_000)

  it('every valid fixture goes in as its study, with its kind, and reads back byte for byte', async () => {
    const dir = join(FIXTURES, 'valid')
    for (const name of await readdir(dir)) {
      const bytes = new Uint8Array(await readFile(join(dir, name)))
      const [uploaded] = await uploadDicomStudies(uploader, {
        patient: t.dev.patient!.account.address,
        files: [memoryFile(name, bytes)],
      })
      const record = await openRecord(patient, { recordId: uploaded!.recordId })
      try {
        expect(record.manifest.study?.numberOfInstances, name).toBe(1)
        const read = await collect(readRecordFile(patient, { record, file: record.manifest.files[0]! }))
        // Byte for byte, but for a non-zero preamble (zeroed: PS3.10 7.5, executable polyglots).
        const expected = bytes.slice()
        expected.fill(0, 0, 128)
        expect(read, name).toEqual(bytes.subarray(0, 128).every((b) => b === 0) ? bytes : expected)
      } finally {
        closeRecord(record)
      }
    }
  }, 180_000)

  it('a malformed file refuses the whole upload, naming the file, and stores nothing', async () => {
    const good = new Uint8Array(await readFile(join(FIXTURES, 'valid', 'CT_small.dcm')))
    for (const name of [
      'MR_truncated.dcm',
      'rtplan_truncated.dcm',
      'meta_missing_tsyntax.dcm',
      'no_meta.dcm',
    ]) {
      const before = stored()
      const bad = new Uint8Array(await readFile(join(FIXTURES, 'malformed', name)))
      const error = await uploadDicomStudies(uploader, {
        patient: t.dev.patient!.account.address,
        files: [memoryFile('good.dcm', good), memoryFile(name, bad)],
      }).catch((e: unknown) => e)
      expect(error, name).toBeInstanceOf(DicomParseError)
      expect((error as DicomParseError).message).toContain(name)
      expect(stored()).toEqual(before)
    }
    const before = stored()
    const tooBig = await uploadDicomStudies(uploader, {
      patient: t.dev.patient!.account.address,
      files: [memoryFile('big.dcm', good)],
      maxInstanceBytes: 1000,
    }).catch((e: unknown) => e)
    expect((tooBig as DicomParseError).code).toBe('DICOM_TOO_LARGE')
    expect(stored()).toEqual(before)
  })
})
