import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { zeroPreamble } from '@pcmims/core'
import { FHIR_LIPID_PANEL, runCli, startTestNode, type TestNode } from '@pcmims/test-utils'
import { encode as encodePng } from 'fast-png'
import { zipSync } from 'fflate'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const FIXTURES = fileURLToPath(new URL('../../../fixtures/dicom/valid/', import.meta.url))

/** `pcmims upload` of ZIP archives, DICOMDIR media, FHIR reports and plain images, read back with `pcmims get`. */
describe('pcmims upload: archives, media, reports, images', () => {
  let t: TestNode
  let work: string
  const account = (role: string) => t.node.devAccounts.find((a) => a.role === role)!
  const as = (role: string, args: string[]) =>
    runCli([...args, '--json', '--node', t.node.url, '--keystore', account(role).keystore], {
      PCMIMS_PASSPHRASE: account(role).passphrase,
    })
  const upload = (args: string[]) =>
    as('uploader', ['upload', '--patient', account('patient').address, ...args])
  const recordCount = async () => {
    const listed = await as('patient', ['records'])
    expect(listed.code, listed.stderr).toBe(0)
    return (listed.json.records as unknown[]).length
  }
  /** `pcmims get` into a fresh folder; returns each file's bytes by record path. */
  const getRecord = async (recordId: string) => {
    const out = join(work, `get-${recordId.slice(2, 10)}`)
    const got = await as('patient', ['get', recordId, '--out', out])
    expect(got.code, got.stderr).toBe(0)
    const files = new Map<string, Buffer>()
    const walk = async (dir: string, prefix: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) await walk(join(dir, entry.name), `${prefix}${entry.name}/`)
        else files.set(`${prefix}${entry.name}`, await readFile(join(dir, entry.name)))
      }
    }
    await walk(out, '')
    return files
  }

  beforeAll(async () => {
    t = await startTestNode()
    work = await mkdtemp(join(tmpdir(), 'pcmims-media-'))
  })
  afterAll(async () => {
    await t?.stop()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('a ZIP of two studies becomes two records whose instances come back byte-identical', async () => {
    const ct = await readFile(join(FIXTURES, 'CT_small.dcm'))
    const mr = await readFile(join(FIXTURES, 'MR_small.dcm'))
    const zip = join(work, 'export.zip')
    await writeFile(
      zip,
      zipSync({
        'EXPORT/CT/IM1': [ct, { level: 6 }],
        'EXPORT/MR/IM1': [mr, { level: 0 }],
        '__MACOSX/EXPORT/._IM1': new Uint8Array([0, 5, 22, 7]),
      }),
    )
    const uploaded = await upload(['--dicom', zip])
    expect(uploaded.code, uploaded.stderr).toBe(0)
    const studies = uploaded.json.studies as Array<{ recordId: string; kind: string; instances: number }>
    expect(studies.map((s) => [s.kind, s.instances]).sort()).toEqual([
      ['CT', 1],
      ['MRI', 1],
    ])
    for (const study of studies) {
      const files = await getRecord(study.recordId)
      const original = study.kind === 'CT' ? ct : mr
      expect([...files.keys()]).toEqual(['series-001/00001.dcm'])
      expect(Buffer.compare(files.get('series-001/00001.dcm')!, Buffer.from(zeroPreamble(original)))).toBe(0)
    }
  })

  it('DICOMDIR media (written by dcmtk dcmmkdir): only the referenced files, one record per study', async () => {
    const medium = join(work, 'cd')
    await mkdir(join(medium, 'DICOM'), { recursive: true })
    await copyFile(join(FIXTURES, 'MR_small.dcm'), join(medium, 'DICOM', 'IM000001'))
    await copyFile(join(FIXTURES, 'CT_small.dcm'), join(medium, 'DICOM', 'IM000002'))
    await promisify(execFile)('dcmmkdir', ['--recurse', 'DICOM'], { cwd: medium })
    // What a CD also carries: not DICOM, not referenced, left out.
    await writeFile(join(medium, 'AUTORUN.INF'), '[autorun]\nopen=viewer.exe\n')
    const uploaded = await upload(['--dicom', medium])
    expect(uploaded.code, uploaded.stderr).toBe(0)
    const instances = (uploaded.json.studies as Array<{ instances: number }>).reduce(
      (n, s) => n + s.instances,
      0,
    )
    expect(instances).toBe(2)
    expect(uploaded.json.studies).toHaveLength(2)
    expect(uploaded.json.inputs).toEqual([
      `${join(medium, 'DICOMDIR')}: 2 referenced files; 1 other files on the medium left out`,
    ])

    // The same medium zipped: the DICOMDIR inside the archive picks the files.
    const zipped = join(work, 'cd.zip')
    const entries: Record<string, Uint8Array> = {}
    for (const name of ['DICOMDIR', 'DICOM/IM000001', 'DICOM/IM000002', 'AUTORUN.INF'])
      entries[`CD/${name}`] = await readFile(join(medium, name))
    await writeFile(zipped, zipSync(entries))
    const fromZip = await upload(['--dicom', zipped])
    expect(fromZip.code, fromZip.stderr).toBe(0)
    expect(fromZip.json.studies).toHaveLength(2)

    // A referenced file that is missing: named, and nothing stored.
    const before = await recordCount()
    await rm(join(medium, 'DICOM', 'IM000002'))
    const missing = await upload(['--dicom', join(medium, 'DICOMDIR')])
    expect(missing.code).toBe(1)
    expect(missing.json.error.code).toBe('DICOMDIR_MISSING_FILE')
    expect(missing.json.error.message).toContain(
      'DICOM/IM000002: referenced by the DICOMDIR, but not on the medium',
    )
    expect(await recordCount()).toBe(before)
  })

  it('hostile archives are refused naming the entry, and nothing is stored', async () => {
    const before = await recordCount()
    const ct = await readFile(join(FIXTURES, 'CT_small.dcm'))
    const traversal = join(work, 'traversal.zip')
    const zip = zipSync({ 'ok/IM1': ct, 'xx/IM2': ct })
    // Rename the second entry (same length) to climb out of the folder it would be written to.
    await writeFile(traversal, Buffer.from(zip).toString('latin1').replaceAll('xx/IM2', '../IM2'), 'latin1')
    const refused = await upload(['--dicom', traversal])
    expect(refused.code).toBe(1)
    expect(refused.json.error.code).toBe('ZIP_UNSAFE_PATH')
    expect(refused.json.error.message).toContain('traversal.zip')

    // A bomb whose directory lies about its size: found while inflating, before anything is stored.
    const bombPath = join(work, 'bomb.zip')
    const bomb = zipSync({ 'ok/IM1': ct, 'ok/IM2': [new Uint8Array(32 * 1024 * 1024), { level: 1 }] })
    const v = new DataView(bomb.buffer)
    for (let i = 0; i + 4 <= bomb.length; i++) {
      if (v.getUint32(i, true) === 0x02014b50 && v.getUint32(i + 24, true) === 32 * 1024 * 1024)
        v.setUint32(i + 24, 4096, true)
    }
    await writeFile(bombPath, bomb)
    const bombed = await upload(['--dicom', bombPath])
    expect(bombed.code).toBe(1)
    expect(bombed.json.error).toMatchObject({ code: 'ZIP_ENTRY_TOO_LARGE' })
    expect(bombed.json.error.message).toContain('bomb.zip!ok/IM2')

    // A non-DICOM entry among good ones: named, nothing stored.
    const mixed = join(work, 'mixed.zip')
    await writeFile(mixed, zipSync({ 'a/IM1': ct, 'a/notes.txt': new TextEncoder().encode('hello') }))
    const notDicom = await upload(['--dicom', mixed])
    expect(notDicom.code).toBe(1)
    expect(notDicom.json.error.message).toContain('mixed.zip!a/notes.txt')
    expect(await recordCount()).toBe(before)
  })

  it('a FHIR lab report becomes a REPORT record that comes back byte-identical', async () => {
    const path = join(work, 'Doe_Jane_lipids.json')
    const json = `${JSON.stringify(FHIR_LIPID_PANEL, null, 2)}\n`
    await writeFile(path, json)
    const uploaded = await upload(['--kind', 'REPORT', path])
    expect(uploaded.code, uploaded.stderr).toBe(0)
    const [report] = uploaded.json.reports as Array<{
      recordId: string
      format: string
      files: Array<{ path: string }>
      summary: { title: string; results: Array<{ name: string; flag: string }> }
    }>
    expect(report!.format).toBe('fhir')
    expect(report!.files.map((f) => f.path)).toEqual(['report.json'])
    expect(report!.summary.title).toBe('Lipid panel')
    expect(report!.summary.results.map((r) => [r.name, r.flag])).toEqual([
      ['LDL cholesterol', 'H'],
      ['HDL cholesterol', 'N'],
    ])
    const files = await getRecord(report!.recordId)
    expect(files.get('report.json')!.toString('utf8')).toBe(json)
    const listed = await as('patient', ['records'])
    const record = (listed.json.records as Array<{ id: string; kind: string }>).find(
      (r) => r.id === report!.recordId,
    )
    expect(record?.kind).toBe('REPORT')
    // The summary is sealed in the manifest: the patient's `show` reads it back with the results table.
    const shown = await as('patient', ['show', report!.recordId])
    expect(shown.code, shown.stderr).toBe(0)
    const sealed = shown.json.report as { title: string; results: Array<{ name: string; flag: string }> }
    expect(sealed.title).toBe('Lipid panel')
    expect(sealed.results.map((r) => [r.name, r.flag])).toEqual([
      ['LDL cholesterol', 'H'],
      ['HDL cholesterol', 'N'],
    ])

    // A DICOM SR and an encapsulated PDF (dcmtk pdf2dcm): one record each, the PDF also extracted.
    const pdf =
      '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
      '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n'
    await writeFile(join(work, 'lab.pdf'), pdf)
    await promisify(execFile)('pdf2dcm', [
      '--title',
      'Blood count',
      join(work, 'lab.pdf'),
      join(work, 'lab-pdf.dcm'),
    ])
    const dicomReports = await upload([
      '--kind',
      'REPORT',
      join(FIXTURES, 'test-SR.dcm'),
      join(work, 'lab-pdf.dcm'),
    ])
    expect(dicomReports.code, dicomReports.stderr).toBe(0)
    const [sr, encapsulated] = dicomReports.json.reports as Array<{
      recordId: string
      format: string
      summary: { title: string; results: unknown[] }
    }>
    expect([sr!.format, sr!.summary.title, encapsulated!.format, encapsulated!.summary.title]).toEqual([
      'dicom-sr',
      'Diagnosis',
      'dicom-pdf',
      'Blood count',
    ])
    expect(sr!.summary.results.length).toBeGreaterThan(3)
    const srFiles = await getRecord(sr!.recordId)
    expect(Buffer.compare(srFiles.get('report.dcm')!, await readFile(join(FIXTURES, 'test-SR.dcm')))).toBe(0)
    const pdfFiles = await getRecord(encapsulated!.recordId)
    expect(Buffer.compare(pdfFiles.get('report.dcm')!, await readFile(join(work, 'lab-pdf.dcm')))).toBe(0)
    expect(pdfFiles.get('document.pdf')!.toString('latin1')).toBe(pdf)

    // Not a report: refused naming the file, nothing stored.
    const before = await recordCount()
    const bad = join(work, 'bad.json')
    await writeFile(bad, JSON.stringify({ resourceType: 'Observation', code: { text: 'x' } }))
    const refused = await upload(['--kind', 'REPORT', path, bad])
    expect(refused.code).toBe(1)
    expect(refused.json.error).toMatchObject({ code: 'REPORT_BAD_FHIR' })
    expect(refused.json.error.message).toContain('bad.json')
    expect(await recordCount()).toBe(before)
  })

  it('a PNG goes in with the kind and description given; a file named .png that is not one is refused', async () => {
    const png = encodePng({ width: 64, height: 48, data: new Uint8Array(64 * 48), channels: 1, depth: 8 })
    const path = join(work, 'hand.png')
    await writeFile(path, png)
    const uploaded = await upload(['--kind', 'XRAY', '--description', 'Left hand', path])
    expect(uploaded.code, uploaded.stderr).toBe(0)
    const files = await getRecord(uploaded.json.recordId)
    expect(Buffer.compare(files.get('hand.png')!, Buffer.from(png))).toBe(0)

    const fake = join(work, 'fake.png')
    await writeFile(fake, 'not an image')
    const refused = await upload(['--kind', 'XRAY', fake])
    expect(refused.code).toBe(1)
    expect(refused.json.error).toMatchObject({
      code: 'IMAGE_INVALID',
      message: 'fake.png: not a PNG or JPEG image',
    })
  })
})
