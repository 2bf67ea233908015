import { describe, expect, it } from 'vitest'
import type { DcmjsDataset } from '../dcmjs.js'
import { assessHold } from './burned-in-annotation.js'
import { DEIDENTIFICATION_METHOD, deidentifyDataset } from './deidentify-dataset.js'
import { DUMMY_VALUES } from './dummy-values.js'

const secret = new Uint8Array(16).fill(9)
const code = (value: string, scheme: string, meaning: string): DcmjsDataset => ({
  '00080100': { vr: 'SH', Value: [value] },
  '00080102': { vr: 'SH', Value: [scheme] },
  '00080104': { vr: 'LO', Value: [meaning] },
})
const first = (dataset: DcmjsDataset | undefined, tag: string) => dataset?.[tag]?.Value?.[0]

describe('deidentifyDataset', () => {
  it('returns a new dataset and leaves the input untouched', () => {
    const input: DcmjsDataset = { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] } }
    const snapshot = structuredClone(input)
    const output = deidentifyDataset(input, { secret })
    expect(input).toEqual(snapshot)
    expect(output['00100010']?.Value).toEqual([])
  })

  it('drops group lengths, command elements and the Encrypted Attributes Sequence', () => {
    const output = deidentifyDataset(
      {
        '00080000': { vr: 'UL', Value: [120] },
        '00001000': { vr: 'UI', Value: ['1.2.3'] },
        '04000500': { vr: 'SQ', Value: [{ '04000510': { vr: 'UI', Value: ['1.2.840.10008.1.2.1'] } }] },
        '00080060': { vr: 'CS', Value: ['CT'] },
      },
      { secret },
    )
    expect(Object.keys(output).sort()).toEqual(['00080060', '00120062', '00120063', '00120064', '00280303'])
  })

  it('replaces dates and times the table does not list (PS3.15 E.1.1 Note 4), keeps other unlisted values', () => {
    const output = deidentifyDataset(
      {
        '00143076': { vr: 'DA', Value: ['20230101'] }, // Date of Gain Calibration: not in Table E.1-1
        '00180050': { vr: 'DS', Value: [1.25] }, // Slice Thickness
        '00080060': { vr: 'CS', Value: ['MR'] },
        '00080070': { vr: 'LO', Value: ['ACME'] }, // Manufacturer
      },
      { secret },
    )
    expect(first(output, '00143076')).toBe(DUMMY_VALUES.date)
    expect(first(output, '00180050')).toBe(1.25)
    expect(first(output, '00080060')).toBe('MR')
    expect(first(output, '00080070')).toBe('ACME')
  })

  it('replaces the content of a D sequence, keeping coded concepts except codes that identify people', () => {
    const output = deidentifyDataset(
      {
        '0040A730': {
          vr: 'SQ',
          Value: [
            {
              '0040A040': { vr: 'CS', Value: ['TEXT'] },
              '0040A043': { vr: 'SQ', Value: [code('121106', 'DCM', 'Comment')] },
              '0040A160': { vr: 'UT', Value: ['Seen by Dr Who on ward 7'] },
              '00081199': {
                vr: 'SQ',
                Value: [
                  {
                    '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
                    '00081155': { vr: 'UI', Value: ['1.2.3.4'] },
                  },
                ],
              },
            },
          ],
        },
        '00401101': { vr: 'SQ', Value: [code('E12345', 'HOSPITAL-STAFF', 'Dr Who')] },
      },
      { secret },
    )
    const item = first(output, '0040A730') as DcmjsDataset
    expect(first(item, '0040A040')).toBe('TEXT')
    expect(first(first(item, '0040A043') as DcmjsDataset, '00080104')).toBe('Comment')
    expect(first(item, '0040A160')).toBe(DUMMY_VALUES.text)
    const reference = first(item, '00081199') as DcmjsDataset
    expect(first(reference, '00081150')).toBe('1.2.840.10008.5.1.4.1.1.2')
    expect(first(reference, '00081155')).toMatch(/^2\.25\.\d+$/)
    const person = first(output, '00401101') as DcmjsDataset
    expect([first(person, '00080100'), first(person, '00080102'), first(person, '00080104')]).toEqual([
      DUMMY_VALUES.text,
      DUMMY_VALUES.text,
      DUMMY_VALUES.text,
    ])
  })

  it('keeps empty values empty under D, and drops content nested absurdly deep', () => {
    // Manufacturer is kept by the profile: only the depth limit can remove it.
    let deep: DcmjsDataset = { '00080070': { vr: 'LO', Value: ['DeepMaker'] } }
    for (let i = 0; i < 80; i++) deep = { '00082218': { vr: 'SQ', Value: [deep] } }
    const output = deidentifyDataset({ ...deep, '00080080': { vr: 'LO', Value: [] } }, { secret })
    expect(output['00080080']?.Value).toEqual([])
    expect(JSON.stringify(output)).not.toContain('DeepMaker')
    expect(
      JSON.stringify(
        deidentifyDataset(
          { '00082218': { vr: 'SQ', Value: [{ '00080070': { vr: 'LO', Value: ['Shallow'] } }] } },
          { secret },
        ),
      ),
    ).toContain('Shallow')
  })

  it('adds the method once, beside what an earlier de-identification recorded', () => {
    const earlier: DcmjsDataset = {
      '00120062': { vr: 'CS', Value: ['YES'] },
      '00120063': { vr: 'LO', Value: ['Site pseudonymisation'] },
      '00120064': { vr: 'SQ', Value: [code('113101', 'DCM', 'Clean Pixel Data Option')] },
    }
    const once = deidentifyDataset(earlier, { secret })
    const twice = deidentifyDataset(once, { secret })
    expect(twice['00120063']?.Value).toEqual(['Site pseudonymisation', DEIDENTIFICATION_METHOD])
    expect(
      ((twice['00120064']?.Value ?? []) as DcmjsDataset[]).map((item) => first(item, '00080100')),
    ).toEqual(['113101', '113100'])
    expect(first(twice, '00280303')).toBe('REMOVED')
  })
})

describe('assessHold', () => {
  const pixels = { '7FE00010': { vr: 'OW', Value: [new ArrayBuffer(8)] } }
  const sc = { '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.7'] } }
  const ct = { '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] } }
  const burned = (value: string) => ({ '00280301': { vr: 'CS', Value: [value] } })

  it('holds burned-in and likely burned-in images unless the patient includes them', () => {
    expect(assessHold({ ...ct, ...pixels, ...burned('YES') })).toBe('burned-in-annotation')
    expect(assessHold({ ...ct, ...pixels, ...burned('YES') }, { includeBurnedIn: true })).toBeUndefined()
    expect(assessHold({ ...sc, ...pixels })).toBe('burned-in-annotation-unknown')
    expect(assessHold({ ...sc, ...pixels }, { includeBurnedIn: true })).toBeUndefined()
    expect(assessHold({ ...sc, ...pixels, ...burned('NO') })).toBeUndefined()
    expect(assessHold({ ...ct, ...pixels })).toBeUndefined()
    expect(assessHold({ ...sc, ...burned('YES') })).toBeUndefined() // no pixels, nothing to see
  })

  it('holds images with recognizable visual features unless included', () => {
    const face = { ...ct, ...pixels, ...burned('NO'), '00280302': { vr: 'CS', Value: ['YES'] } }
    expect(assessHold(face)).toBe('recognizable-visual-features')
    expect(assessHold(face, { includeBurnedIn: true })).toBe('recognizable-visual-features')
    expect(assessHold(face, { includeRecognizableVisualFeatures: true })).toBeUndefined()
  })
})
