import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  extractInstanceMetadata,
  groupIntoStudies,
  type InstanceMetadata,
  parseDicomFile,
} from '@pcmims/core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { dcmdump } from './dcmdump.js'
import { synthesizeInstances, synthesizeStudy, writeSynthesizedStudy } from './synthesize-study.js'

let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pcmims-synth-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

const patient = { name: 'Testperson^Ada', id: 'MRN-0042', birthDate: '19750203', sex: 'F' }

/** Reads every file back with PCMIMS's reader and groups them. */
async function readBack(files: string[]) {
  const metadata: InstanceMetadata[] = []
  const positions: number[] = []
  for (const file of files) {
    const parsed = parseDicomFile(new Uint8Array(await readFile(file)), { fileName: file })
    expect(parsed.warnings).toEqual([])
    metadata.push(extractInstanceMetadata(parsed))
    const position = parsed.dataset['00200032']?.Value
    if (position) positions.push(Number(position[2]))
  }
  return { metadata, positions, studies: groupIntoStudies(metadata) }
}

describe('synthesizeStudy', () => {
  test('a 300-slice 512x512 16-bit CT: dcmdump reads every file, one study, consistent UIDs and positions', async () => {
    const started = performance.now()
    const study = await writeSynthesizedStudy({
      kind: 'CT',
      seed: 'ct-300',
      patient,
      directory: join(work, 'ct'),
    })
    const elapsed = performance.now() - started
    expect(study.files).toHaveLength(300)
    expect((await stat(study.files[0]!)).size).toBeGreaterThan(512 * 512 * 2)
    console.info(`synthesized a 300-slice CT in ${Math.round(elapsed)} ms`)

    const dump = await dcmdump(study.files, { tags: ['0020,0013', '0028,0010', '0028,0011', '0028,0100'] })
    expect(dump.exitCode).toBe(0)
    expect(dump.stderr).not.toMatch(/^E:/m)
    expect(dump.elements.filter((e) => e.tag === '(0020,0013)')).toHaveLength(300)
    expect(new Set(dump.elements.filter((e) => e.tag === '(0028,0010)').map((e) => e.value))).toEqual(
      new Set(['512']),
    )
    expect(new Set(dump.elements.filter((e) => e.tag === '(0028,0100)').map((e) => e.value))).toEqual(
      new Set(['16']),
    )

    const { studies, positions, metadata } = await readBack(study.files)
    expect(studies).toHaveLength(1)
    const [only] = studies
    expect(only!.studyInstanceUid).toBe(study.studyInstanceUid)
    expect(only!.patient).toEqual(patient)
    expect(only!.series).toHaveLength(1)
    expect(only!.series[0]!.modality).toBe('CT')
    expect(only!.series[0]!.instances.map((i) => i.instanceNumber)).toEqual(
      Array.from({ length: 300 }, (_, i) => i + 1),
    )
    expect(new Set(metadata.map((m) => m.sopInstanceUid)).size).toBe(300)
    expect(
      metadata.every(
        (m) => m.accessionNumber === study.accessionNumber && m.rows === 512 && m.columns === 512,
      ),
    ).toBe(true)
    expect(metadata[0]).toMatchObject({
      bitsAllocated: 16,
      bitsStored: 12,
      rescaleIntercept: -1024,
      windowCenter: [40],
      burnedInAnnotation: 'NO',
    })
    // Slices are evenly spaced along z, in instance order.
    const steps = new Set(positions.slice(1).map((z, i) => Math.round((z - positions[i]!) * 1000) / 1000))
    expect(steps).toEqual(new Set([1.25]))
  })

  test('a 150-instance MR from MR_small.dcm', () => {
    const study = synthesizeStudy({ kind: 'MR', seed: 7, patient })
    expect(study.instances).toHaveLength(150)
    const metadata = study.instances.map((i) =>
      extractInstanceMetadata(parseDicomFile(i.bytes, { fileName: i.fileName })),
    )
    const [only] = groupIntoStudies(metadata)
    expect(only!.series[0]!.instances).toHaveLength(150)
    expect(metadata[0]).toMatchObject({
      modality: 'MR',
      rows: 256,
      columns: 256,
      sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
    })
  })

  test('a 3000x2500 radiograph (CR), which dcmdump reads whole', async () => {
    const study = await writeSynthesizedStudy({ kind: 'CR', seed: 3, patient, directory: join(work, 'cr') })
    expect(study.files).toHaveLength(1)
    const size = (await stat(study.files[0]!)).size
    expect(size).toBeGreaterThan(3000 * 2500 * 2)
    const dump = await dcmdump(study.files[0]!, {
      tags: ['0028,0010', '0028,0011', '0008,0060', '0008,0016'],
    })
    expect(dump.exitCode).toBe(0)
    const value = (tag: string) => dump.elements.find((e) => e.tag === tag)?.value
    expect([value('(0028,0010)'), value('(0028,0011)'), value('(0008,0060)')]).toEqual(['2500', '3000', 'CR'])
    expect(value('(0008,0016)')).toBe('1.2.840.10008.5.1.4.1.1.1')
    // dcm2pnm decodes the pixel data, so the file is whole, not only its header.
    const pgm = join(work, 'cr.pgm')
    const { execFile } = await import('node:child_process')
    await new Promise<void>((resolve, reject) =>
      execFile('dcm2pnm', ['--write-raw-pnm', study.files[0]!, pgm], (error) =>
        error ? reject(error) : resolve(),
      ),
    )
    expect((await stat(pgm)).size).toBeGreaterThan(3000 * 2500)
  })

  test('deterministic from the seed; another seed gives other UIDs and pixels', () => {
    const first = [
      ...synthesizeInstances({ kind: 'MR', count: 3, rows: 32, columns: 32, seed: 'a', patient }),
    ]
    const again = [
      ...synthesizeInstances({ kind: 'MR', count: 3, rows: 32, columns: 32, seed: 'a', patient }),
    ]
    const other = [
      ...synthesizeInstances({ kind: 'MR', count: 3, rows: 32, columns: 32, seed: 'b', patient }),
    ]
    expect(again.map((i) => i.bytes)).toEqual(first.map((i) => i.bytes))
    expect(other[0]!.sopInstanceUid).not.toBe(first[0]!.sopInstanceUid)
    expect(other[0]!.bytes).not.toEqual(first[0]!.bytes)
  })

  test('two series of one patient, written with a shared study UID, group into one study', () => {
    const ct = synthesizeStudy({ kind: 'CT', count: 4, rows: 64, columns: 64, seed: 's', patient })
    const mr = synthesizeStudy({
      kind: 'MR',
      count: 3,
      rows: 64,
      columns: 64,
      seed: 's',
      patient,
      study: { studyInstanceUid: ct.studyInstanceUid, accessionNumber: ct.accessionNumber },
    })
    const metadata = [...ct.instances, ...mr.instances].map((i) =>
      extractInstanceMetadata(parseDicomFile(i.bytes)),
    )
    const studies = groupIntoStudies(metadata)
    expect(studies).toHaveLength(1)
    expect(studies[0]!.series.map((s) => [s.modality, s.instances.length])).toEqual([
      ['CT', 4],
      ['MR', 3],
    ])
  })
})
