import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { dcmdump } from '@pcmims/test-utils'
import { base64pad } from 'multiformats/bases/base64'
import { describe, expect, test } from 'vitest'
import { parseDicomFile } from '../parse/parse-dicom-file.js'
import { type BulkDataInfo, type DicomJsonElement, toDicomJson } from './to-dicom-json.js'

const FIXTURES = new URL('../../../../../fixtures/dicom/valid/', import.meta.url)
const names = (await readdir(FIXTURES)).filter((n) => n.endsWith('.dcm')).sort()

const STRING_VRS = new Set([
  'AE',
  'AS',
  'CS',
  'DA',
  'DT',
  'LO',
  'LT',
  'PN',
  'SH',
  'ST',
  'TM',
  'UC',
  'UR',
  'UT',
])
const NUMBER_VRS = new Set(['IS', 'DS', 'US', 'SS', 'UL', 'SL', 'FL', 'FD', 'SV', 'UV'])

function pnText(value: unknown) {
  if (value === null) return ''
  const pn = value as { Alphabetic?: string; Ideographic?: string; Phonetic?: string }
  return [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, '')
}

const clean = (text: string) => text.replace(/\0/g, ' ').trim()

describe('toDicomJson matches dcmdump, element by element', () => {
  test.each(names)('%s', async (name) => {
    const path = fileURLToPath(new URL(name, FIXTURES))
    const parsed = parseDicomFile(new Uint8Array(await readFile(path)), { fileName: name })
    const bulk: BulkDataInfo[] = []
    const json = toDicomJson(parsed, {
      bulkDataUri: (info) => {
        bulk.push(info)
        return `https://node.example/bulk/${info.path.join('/')}`
      },
    })
    // It is JSON: no ArrayBuffers, BigInts or undefined left in it.
    expect(JSON.parse(JSON.stringify(json))).toEqual(json)
    // (Key order is not asserted: JavaScript lists all-digit keys such as 52009229 first, whatever the
    // insertion order, so no object can keep tags sorted.)
    for (const key of Object.keys(json)) expect(key).toMatch(/^[0-9A-F]{8}$/)

    const dump = await dcmdump(path)
    expect(dump.exitCode).toBe(0)
    // dcmdump +U8 adds (0008,0005) ISO_IR 192 to files that had none.
    const top = dump.elements.filter(
      (e) =>
        e.depth === 0 &&
        !e.tag.startsWith('(0002,') &&
        !e.tag.startsWith('(fffe,') &&
        e.tag !== '(0008,0005)',
    )
    let checked = 0
    for (const element of top) {
      const key = element.tag.replace(/[(),]/g, '').toUpperCase()
      if (key.endsWith('0000')) {
        expect(json[key], 'group lengths are left out').toBeUndefined()
        continue
      }
      const attribute: DicomJsonElement | undefined = json[key]
      expect(attribute, `${element.tag} is present`).toBeDefined()
      const label = `${name} ${element.tag} ${element.vr}`
      const value = attribute!.Value
      if (element.vr === 'SQ') {
        const items = Number(
          /#=(\d+)/.exec(dump.stdout.split('\n').find((l) => l.startsWith(element.tag)) ?? '')?.[1],
        )
        expect(value?.length ?? 0, label).toBe(items)
      } else if (STRING_VRS.has(element.vr) || element.vr === 'UI') {
        const printed = element.value === undefined ? '' : element.value.split('\\').map(clean).join('\\')
        const ours = (value ?? [])
          .map((v) => (element.vr === 'PN' ? pnText(v) : clean(String(v ?? ''))))
          .join('\\')
        if (element.vr === 'UI') expect(ours.replace(/\s/g, ''), label).toBe(printed.replace(/\s/g, ''))
        else expect(ours.replace(/\\+$/, ''), label).toBe(printed.replace(/\\+$/, ''))
      } else if (NUMBER_VRS.has(element.vr)) {
        const printed = (element.value ?? '')
          .split('\\')
          .filter((v) => v.trim() !== '')
          .map(Number)
        const ours = (value ?? []).filter((v) => v !== null).map(Number)
        expect(ours.length, label).toBe(printed.length)
        ours.forEach((n, i) => {
          expect(Math.abs(n - printed[i]!), label).toBeLessThanOrEqual(Math.abs(printed[i]!) * 1e-6 + 1e-9)
        })
      } else if (element.vr === 'AT') {
        const printed = (element.value ?? '').split('\\').map((t) => t.replace(/[(),]/g, '').toUpperCase())
        expect(value, label).toEqual(printed)
      } else if (key === '7FE00010') {
        expect(attribute!.BulkDataURI, label).toBe('https://node.example/bulk/7FE00010')
      } else if (attribute!.BulkDataURI !== undefined) {
        const info = bulk.find((b) => b.tag === key)
        expect(info?.byteLength, label).toBeGreaterThan(1024)
        expect(info?.byteLength, label).toBe(
          (element.value ?? '').split('\\').length * (element.vr === 'OW' ? 2 : 1),
        )
      } else if (element.vr === 'OB' || element.vr === 'UN' || element.vr === 'OW') {
        const bytes = attribute!.InlineBinary
          ? base64pad.baseDecode(attribute!.InlineBinary)
          : new Uint8Array(0)
        const printed = element.value === undefined ? [] : element.value.split('\\')
        if (element.vr === 'OW') {
          const words = Array.from(
            { length: bytes.length / 2 },
            (_, i) => bytes[2 * i]! | (bytes[2 * i + 1]! << 8),
          )
          expect(
            words.map((w) => w.toString(16).padStart(4, '0')),
            label,
          ).toEqual(printed)
        } else {
          expect(
            Array.from(bytes, (b) => b.toString(16).padStart(2, '0')),
            label,
          ).toEqual(printed)
        }
      } else {
        continue
      }
      checked++
    }
    expect(checked).toBeGreaterThan(10)
    if (parsed.pixelData) {
      expect(bulk.find((b) => b.tag === '7FE00010')).toMatchObject({
        vr: expect.stringMatching(/^O[BW]$/),
        encapsulated: parsed.pixelData.encapsulated,
        byteLength: parsed.pixelData.byteLength,
      })
    }
  })
})

describe('toDicomJson shapes', () => {
  test('PN, IS/DS, AT, empty values, nested sequences', () => {
    const json = toDicomJson({
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane', Ideographic: '' }] },
      '00100020': { vr: 'LO', Value: [''] },
      '00080008': { vr: 'CS', Value: ['ORIGINAL', '', 'AXIAL'] },
      '00200013': { vr: 'IS', Value: [1], _rawValue: ['1A'] },
      '00280030': { vr: 'DS', Value: [0.5, 0.5], _rawValue: ['0.5', '5e-1'] },
      '00280009': { vr: 'AT', Value: [0x00181063] },
      '00280000': { vr: 'UL', Value: [12] },
      '00081115': {
        vr: 'SQ',
        Value: [{ '0020000E': { vr: 'UI', Value: ['1.2.3'] } }],
      },
      '00081140': { vr: 'SQ', Value: [] },
      '00091010': { vr: 'UN', Value: [new Uint8Array([1, 2, 3]).buffer] },
    })
    expect(json).toEqual({
      '00080008': { vr: 'CS', Value: ['ORIGINAL', null, 'AXIAL'] },
      '00081115': { vr: 'SQ', Value: [{ '0020000E': { vr: 'UI', Value: ['1.2.3'] } }] },
      '00081140': { vr: 'SQ' },
      '00091010': { vr: 'UN', InlineBinary: 'AQID' },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
      '00100020': { vr: 'LO' },
      '00200013': { vr: 'IS' },
      '00280009': { vr: 'AT', Value: ['00181063'] },
      '00280030': { vr: 'DS', Value: [0.5, 0.5] },
    })
  })

  test('binary values: inline up to the threshold, bulk data beyond it; encapsulated pixel data never inline', async () => {
    const parsed = parseDicomFile(new Uint8Array(await readFile(new URL('JPEG2000.dcm', FIXTURES))))
    expect(toDicomJson(parsed)['7FE00010']).toEqual({ vr: 'OB' })
    const native = parseDicomFile(new Uint8Array(await readFile(new URL('MR_small.dcm', FIXTURES))))
    const inline = toDicomJson(native)['7FE00010']!
    expect(base64pad.baseDecode(inline.InlineBinary!)).toEqual(
      new Uint8Array(native.dataset['7FE00010']!.Value![0] as ArrayBuffer),
    )
    const blob = new Uint8Array(2000).fill(7).buffer
    const dataset = {
      '00420011': { vr: 'OB', Value: [blob] },
      '00091001': { vr: 'OB', Value: [new Uint8Array(8).buffer] },
    }
    const seen: string[] = []
    const json = toDicomJson(dataset, {
      bulkDataUri: (info) => {
        seen.push(info.tag)
        return `bulk/${info.tag}`
      },
    })
    expect(json['00420011']).toEqual({ vr: 'OB', BulkDataURI: 'bulk/00420011' })
    expect(json['00091001']).toEqual({ vr: 'OB', InlineBinary: 'AAAAAAAAAAA=' })
    expect(seen).toEqual(['00420011'])
    expect(toDicomJson(dataset, { inlineBinaryMaxBytes: 4096 })['00420011']?.InlineBinary).toBeDefined()
  })
})
