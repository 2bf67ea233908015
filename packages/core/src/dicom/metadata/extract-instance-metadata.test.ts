import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { dcmdump } from '@pcmims/test-utils'
import { describe, expect, test } from 'vitest'
import { parseDicomFile } from '../parse/parse-dicom-file.js'
import { extractInstanceMetadata, type InstanceMetadata } from './extract-instance-metadata.js'

const FIXTURES = new URL('../../../../../fixtures/dicom/valid/', import.meta.url)
const names = (await readdir(FIXTURES)).filter((n) => n.endsWith('.dcm')).sort()

/** Each metadata field, the tag dcmdump is asked for, and how its printed value is read. */
const FIELDS: [keyof InstanceMetadata, string, 'text' | 'uid' | 'number' | 'numbers'][] = [
  ['patientName', '0010,0010', 'text'],
  ['patientId', '0010,0020', 'text'],
  ['patientBirthDate', '0010,0030', 'text'],
  ['patientSex', '0010,0040', 'text'],
  ['studyInstanceUid', '0020,000d', 'uid'],
  ['studyDate', '0008,0020', 'text'],
  ['studyTime', '0008,0030', 'text'],
  ['accessionNumber', '0008,0050', 'text'],
  ['studyDescription', '0008,1030', 'text'],
  ['referringPhysicianName', '0008,0090', 'text'],
  ['modality', '0008,0060', 'text'],
  ['seriesInstanceUid', '0020,000e', 'uid'],
  ['seriesNumber', '0020,0011', 'number'],
  ['seriesDescription', '0008,103e', 'text'],
  ['sopClassUid', '0008,0016', 'uid'],
  ['sopInstanceUid', '0008,0018', 'uid'],
  ['instanceNumber', '0020,0013', 'number'],
  ['rows', '0028,0010', 'number'],
  ['columns', '0028,0011', 'number'],
  ['numberOfFrames', '0028,0008', 'number'],
  ['bitsAllocated', '0028,0100', 'number'],
  ['bitsStored', '0028,0101', 'number'],
  ['photometricInterpretation', '0028,0004', 'text'],
  ['windowCenter', '0028,1050', 'numbers'],
  ['windowWidth', '0028,1051', 'numbers'],
  ['rescaleSlope', '0028,1053', 'number'],
  ['rescaleIntercept', '0028,1052', 'number'],
  ['burnedInAnnotation', '0028,0301', 'text'],
  ['transferSyntaxUid', '0002,0010', 'uid'],
]

function expectedFrom(printed: string | undefined, kind: 'text' | 'uid' | 'number' | 'numbers') {
  if (printed === undefined) return undefined
  if (kind === 'uid') return printed.replace(/\s+/g, '') || undefined
  if (kind === 'text') {
    const text = printed
      .split('\\')
      // dcmdump prints NUL padding as it is; DICOM treats it like space padding.
      .map((v) => v.replace(/\0/g, ' ').trim())
      .join('\\')
    return text.replace(/\\+$/, '') === '' ? undefined : text
  }
  const numbers = printed
    .split('\\')
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map(Number)
  if (numbers.length === 0) return undefined
  return kind === 'number' ? numbers[0] : numbers
}

describe('extractInstanceMetadata agrees with dcmtk', () => {
  test.each(names)('%s', async (name) => {
    const path = fileURLToPath(new URL(name, FIXTURES))
    const parsed = parseDicomFile(new Uint8Array(await readFile(path)), { fileName: name })
    const metadata = extractInstanceMetadata(parsed)
    const dump = await dcmdump(path, { tags: FIELDS.map(([, tag]) => tag) })
    expect(dump.exitCode).toBe(0)
    let compared = 0
    for (const [field, tag, kind] of FIELDS) {
      const printed = dump.elements.find((e) => e.tag === `(${tag})` && e.path.length === 0)
      const expected = expectedFrom(printed?.value, kind)
      expect({ field, value: metadata[field] }).toEqual({ field, value: expected })
      if (expected !== undefined) compared++
    }
    // Every fixture has at least the identifying UIDs, modality and patient name.
    expect(compared).toBeGreaterThanOrEqual(8)
  })

  test('the fixtures cover what the comparison is for', async () => {
    const all = await Promise.all(
      names.map(async (name) =>
        extractInstanceMetadata(parseDicomFile(new Uint8Array(await readFile(new URL(name, FIXTURES))))),
      ),
    )
    // Window, rescale, frames and empty values are each exercised by at least one file.
    expect(all.some((m) => m.windowCenter !== undefined)).toBe(true)
    expect(all.some((m) => m.rescaleSlope !== undefined)).toBe(true)
    expect(all.some((m) => (m.numberOfFrames ?? 0) > 1)).toBe(true)
    expect(all.some((m) => m.accessionNumber === undefined)).toBe(true)
    expect(all.filter((m) => m.patientName).length).toBe(names.length)
  })
})

describe('extractInstanceMetadata on hand-made datasets', () => {
  test('absent, empty and invalid values are left out; valid ones typed', () => {
    const metadata = extractInstanceMetadata({
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane', Ideographic: '山田^花子' }] },
      '00100020': { vr: 'LO', Value: [''] },
      '00200013': { vr: 'IS', Value: [12], _rawValue: ['12 '] },
      '00200011': { vr: 'IS', Value: [1], _rawValue: ['1A'] },
      '00281050': { vr: 'DS', Value: [40, 400], _rawValue: ['40', '400.0'] },
      '00281053': { vr: 'DS', Value: [1] },
      '00280301': { vr: 'CS', Value: ['yes'] },
      '0020000D': { vr: 'UI', Value: ['1.2.3 \0'] },
    })
    expect(metadata).toEqual({
      patientName: 'Doe^Jane=山田^花子',
      instanceNumber: 12,
      windowCenter: [40, 400],
      rescaleSlope: 1,
      burnedInAnnotation: 'YES',
      studyInstanceUid: '1.2.3',
    })
  })
})
