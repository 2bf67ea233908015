import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeManifest, encodeManifest, type RecordManifest } from '../records/manifest.js'
import { ReportError } from './errors.js'
import { readReport } from './read-report.js'
import { reportSummarySchema } from './report-summary.js'
import { summarizeFhir } from './summarize-fhir.js'

const FIXTURES = new URL('../../../../fixtures/dicom/valid/', import.meta.url)
export const MINIMAL_PDF =
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n'

const observation = (
  id: string,
  code: string,
  value: number,
  unit: string,
  low?: number,
  high?: number,
  flag?: string,
) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: id, display: code }] },
  effectiveDateTime: '2026-03-02T08:30:00Z',
  valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
  ...(low !== undefined || high !== undefined
    ? {
        referenceRange: [
          {
            ...(low !== undefined ? { low: { value: low, unit } } : {}),
            ...(high !== undefined ? { high: { value: high, unit } } : {}),
          },
        ],
      }
    : {}),
  ...(flag
    ? {
        interpretation: [
          {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: flag },
            ],
          },
        ],
      }
    : {}),
})

/** A lipid panel as labs send it: a DiagnosticReport and its Observations in a Bundle. */
export const LIPID_PANEL = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    {
      fullUrl: 'urn:uuid:0b0c3f7e-0000-4000-8000-000000000001',
      resource: {
        resourceType: 'DiagnosticReport',
        id: 'lipids',
        status: 'final',
        code: { text: 'Lipid panel', coding: [{ system: 'http://loinc.org', code: '57698-3' }] },
        effectiveDateTime: '2026-03-02',
        issued: '2026-03-02T12:00:00Z',
        performer: [{ reference: 'Organization/lab', display: 'Central Lab' }],
        result: [
          { reference: 'Observation/chol' },
          { reference: 'urn:uuid:0b0c3f7e-0000-4000-8000-000000000003' },
          { reference: 'Observation/ldl' },
          { reference: 'Observation/trig' },
          { reference: 'Observation/elsewhere', display: 'HbA1c' },
        ],
        conclusion: 'Raised LDL.',
      },
    },
    {
      fullUrl: 'urn:uuid:0b0c3f7e-0000-4000-8000-000000000002',
      resource: observation('chol', 'Cholesterol', 5.1, 'mmol/L', undefined, 5.2),
    },
    {
      fullUrl: 'urn:uuid:0b0c3f7e-0000-4000-8000-000000000003',
      resource: observation('hdl', 'HDL cholesterol', 0.9, 'mmol/L', 1.0),
    },
    { resource: observation('ldl', 'LDL cholesterol', 4.2, 'mmol/L', 0, 3.0, 'H') },
    { resource: observation('trig', 'Triglycerides', 1.2, 'mmol/L', 0.4, 1.7) },
  ],
}

describe('readReport', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pcmims-report-'))
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('summarizes a FHIR lab panel: reported flags kept, missing ones computed from the range', () => {
    const read = readReport(new TextEncoder().encode(JSON.stringify(LIPID_PANEL)), {
      fileName: 'lipids.json',
    })
    expect(read.format).toBe('fhir')
    expect(read.mediaType).toBe('application/fhir+json')
    expect(read.summary).toMatchObject({
      format: 'fhir',
      title: 'Lipid panel',
      date: '2026-03-02',
      status: 'final',
      performer: 'Central Lab',
      conclusion: 'Raised LDL.',
    })
    expect(read.summary.results.map((r) => [r.name, r.value, r.unit, r.range, r.flag, r.flagSource])).toEqual(
      [
        ['Cholesterol', '5.1', 'mmol/L', '≤ 5.2', 'N', 'computed'],
        ['HDL cholesterol', '0.9', 'mmol/L', '≥ 1', 'L', 'computed'],
        ['LDL cholesterol', '4.2', 'mmol/L', '0–3', 'H', 'reported'],
        ['Triglycerides', '1.2', 'mmol/L', '0.4–1.7', 'N', 'computed'],
        ['HbA1c', undefined, undefined, undefined, undefined, undefined],
      ],
    )
    expect(reportSummarySchema.parse(read.summary)).toEqual(read.summary)
  })

  it('reads a lone Observation, and computes no flag across units', () => {
    const obs = observation('glu', 'Glucose', 110, 'mg/dL', 70, 99)
    obs.referenceRange![0]!.high = { value: 5.5, unit: 'mmol/L' }
    const summary = summarizeFhir(obs)
    expect(summary.title).toBe('Glucose')
    expect(summary.results[0]).toMatchObject({
      value: '110',
      unit: 'mg/dL',
      low: 70,
    })
    expect(summary.results[0]!.high).toBeUndefined()
    expect(summary.results[0]!.flag).toBeUndefined()
    // Same units: computed.
    const same = summarizeFhir(observation('glu', 'Glucose', 110, 'mg/dL', 70, 99))
    expect(same.results[0]).toMatchObject({ flag: 'H', flagSource: 'computed', range: '70–99' })
  })

  it('refuses what is not a FHIR report, naming the file and the field', () => {
    const bad = (json: unknown) => {
      try {
        readReport(new TextEncoder().encode(JSON.stringify(json)), { fileName: 'r.json' })
      } catch (error) {
        expect(error).toBeInstanceOf(ReportError)
        return error as ReportError
      }
      throw new Error('accepted')
    }
    expect(bad({ resourceType: 'Patient' }).message).toBe(
      'r.json: not a FHIR DiagnosticReport, Observation or Bundle',
    )
    const noStatus = bad({ resourceType: 'Observation', code: { text: 'x' } })
    expect(noStatus.code).toBe('REPORT_BAD_FHIR')
    expect(noStatus.details).toMatch(/^status:/)
    expect(
      bad({ resourceType: 'Observation', status: 'final', code: {}, valueQuantity: { value: '5' } }).details,
    ).toMatch(/^valueQuantity\.value/)
    expect(bad({ resourceType: 'Bundle', entry: [] }).message).toContain('no DiagnosticReport or Observation')
    const two = { ...LIPID_PANEL, entry: [LIPID_PANEL.entry[0]!, LIPID_PANEL.entry[0]!] }
    expect(bad(two).message).toContain('more than one DiagnosticReport')
    expect(() =>
      readReport(new TextEncoder().encode('{"resourceType": '), { fileName: 'r.json' }),
    ).toThrowError('r.json: not valid UTF-8 JSON')
    expect(() => readReport(new TextEncoder().encode('hello'), { fileName: 'x.txt' })).toThrowError(
      /not a report PCMIMS reads/,
    )
  })

  it('accepts a PDF by its magic, never its name', () => {
    const read = readReport(new TextEncoder().encode(MINIMAL_PDF), { fileName: 'scan.bin' })
    expect(read).toMatchObject({
      format: 'pdf',
      mediaType: 'application/pdf',
      summary: { format: 'pdf', results: [] },
    })
  })

  it('summarizes the real DICOM SR fixture from its content tree', async () => {
    const bytes = new Uint8Array(await readFile(new URL('test-SR.dcm', FIXTURES)))
    const read = readReport(bytes, { fileName: 'test-SR.dcm' })
    expect(read.format).toBe('dicom-sr')
    expect(read.summary).toMatchObject({
      title: 'Diagnosis',
      date: '2001-02-13',
      status: 'COMPLETE VERIFIED',
    })
    const rows = read.summary.results
    expect(rows).toContainEqual(expect.objectContaining({ name: 'Text Code', value: 'A mass of' }))
    expect(rows).toContainEqual(
      expect.objectContaining({ name: 'Diameter', value: '3', numericValue: 3, unit: 'Length Unit' }),
    )
    expect(rows).toContainEqual(expect.objectContaining({ name: 'Code', value: 'Sample Code 1' }))
    expect(reportSummarySchema.parse(read.summary)).toEqual(read.summary)
  })

  it('extracts the PDF of an encapsulated PDF written by dcmtk pdf2dcm, byte-identical', async () => {
    await writeFile(join(dir, 'in.pdf'), MINIMAL_PDF)
    await promisify(execFile)('pdf2dcm', [
      '--title',
      'Lipid panel',
      join(dir, 'in.pdf'),
      join(dir, 'out.dcm'),
    ])
    const read = readReport(new Uint8Array(await readFile(join(dir, 'out.dcm'))), { fileName: 'out.dcm' })
    expect(read.format).toBe('dicom-pdf')
    expect(read.summary.title).toBe('Lipid panel')
    expect(Buffer.from(read.pdf!).toString('latin1')).toBe(MINIMAL_PDF)
  })

  it('refuses a DICOM image as a report', async () => {
    const bytes = new Uint8Array(await readFile(new URL('CT_small.dcm', FIXTURES)))
    expect(() => readReport(bytes, { fileName: 'CT_small.dcm' })).toThrowError(/neither a structured report/)
  })

  it('the summary is sealed in the manifest and read back (strict schema)', () => {
    const summary = readReport(new TextEncoder().encode(JSON.stringify(LIPID_PANEL))).summary
    const manifest = {
      v: 1,
      type: 'pcmims/record-manifest',
      nonce: new Uint8Array(16),
      kind: 'REPORT',
      patient: { address: '0x0000000000000000000000000000000000000001' },
      date: '2026-03-02',
      createdAt: '2026-03-02T12:00:00Z',
      uploader: '0x0000000000000000000000000000000000000002',
      unit: '0x0000000000000000000000000000000000000003',
      files: [],
      report: summary,
    } as unknown as RecordManifest
    // A manifest needs one file; the shape of it does not matter here.
    const withFile = decodeManifest(encodeManifest({ ...manifest, files: [fakeFile()] }))
    expect(withFile.report).toEqual(summary)
  })

  it('property: any JSON value gives a summary that fits the manifest schema, or a ReportError', () => {
    const quantityArb = fc.record(
      { value: fc.oneof(fc.double(), fc.integer(), fc.string()), unit: fc.string({ maxLength: 8 }) },
      { requiredKeys: [] },
    )
    const obsArb = fc.record(
      {
        resourceType: fc.constantFrom('Observation', 'DiagnosticReport', 'Bundle', 'Patient'),
        status: fc.oneof(fc.constantFrom('final', 'preliminary'), fc.integer()),
        code: fc.record({ text: fc.string({ maxLength: 20 }) }, { requiredKeys: [] }),
        valueQuantity: quantityArb,
        referenceRange: fc.array(fc.record({ low: quantityArb, high: quantityArb }, { requiredKeys: [] }), {
          maxLength: 2,
        }),
        interpretation: fc.array(fc.record({ text: fc.string({ maxLength: 4 }) }), { maxLength: 2 }),
        entry: fc.array(fc.record({ resource: fc.anything() }), { maxLength: 3 }),
        result: fc.array(fc.record({ reference: fc.string({ maxLength: 10 }) }), { maxLength: 3 }),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(fc.oneof(obsArb, fc.jsonValue()), (json) => {
        try {
          const summary = summarizeFhir(json, { fileName: 'x.json' })
          expect(reportSummarySchema.safeParse(summary).success).toBe(true)
        } catch (error) {
          expect(error).toBeInstanceOf(ReportError)
        }
      }),
      { numRuns: 1000 },
    )
  })
})

function fakeFile() {
  return {
    path: 'report-1.json',
    mediaType: 'application/fhir+json',
    size: 1,
    sha256: new Uint8Array(32),
    // A CIDv1 raw of the empty digest is fine for the schema.
    cid: CIDFor(),
    ciphertextSize: 1,
  }
}

import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create } from 'multiformats/hashes/digest'

function CIDFor() {
  return CID.createV1(raw.code, create(0x12, new Uint8Array(32)))
}
