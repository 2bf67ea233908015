import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MediaError } from './errors.js'
import { readDicomdir, resolveDicomdirReferences } from './read-dicomdir.js'

const FIXTURES = new URL('../../../../fixtures/dicom/valid/', import.meta.url)

/** A real DICOMDIR, written by dcmtk's dcmmkdir (Debian `dcmtk`) over two fixture files. */
describe('readDicomdir', () => {
  let dir: string
  let dicomdir: Uint8Array
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pcmims-dicomdir-'))
    await mkdir(join(dir, 'DICOM', 'ST1'), { recursive: true })
    await copyFile(new URL('CT_small.dcm', FIXTURES), join(dir, 'DICOM', 'ST1', 'IM000001'))
    await copyFile(new URL('MR_small.dcm', FIXTURES), join(dir, 'DICOM', 'IM000002'))
    await promisify(execFile)('dcmmkdir', ['--recurse', '--output-file', join(dir, 'DICOMDIR'), 'DICOM'], {
      cwd: dir,
    })
    dicomdir = new Uint8Array(await readFile(join(dir, 'DICOMDIR')))
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('lists the referenced files as relative paths', () => {
    const refs = readDicomdir(dicomdir, { fileName: 'DICOMDIR' })
    expect(refs.map((r) => r.path).sort()).toEqual(['DICOM/IM000002', 'DICOM/ST1/IM000001'])
    expect(refs.every((r) => r.recordType === 'IMAGE')).toBe(true)
  })

  it('refuses file IDs that could leave the medium or are not CD-style', () => {
    const patch = (from: string, to: string) => {
      const bytes = Buffer.from(dicomdir)
      const at = bytes.indexOf(`${from}\\IM000002`)
      expect(at).toBeGreaterThan(0)
      bytes.write(to, at, 'latin1')
      return new Uint8Array(bytes)
    }
    for (const to of ['..\\..', 'dicom']) {
      const error = (() => {
        try {
          return readDicomdir(patch('DICOM', to), { fileName: 'DICOMDIR' })
        } catch (e) {
          return e
        }
      })()
      expect(error, to).toBeInstanceOf(MediaError)
      expect((error as MediaError).code).toBe('DICOMDIR_BAD_FILE_ID')
      expect((error as MediaError).message).toMatch(/^DICOMDIR: directory record \d+ references a file ID/)
    }
  })

  it('refuses DICOM that is not a DICOMDIR, and bytes that are not DICOM', async () => {
    const ct = new Uint8Array(await readFile(new URL('CT_small.dcm', FIXTURES)))
    expect(() => readDicomdir(ct, { fileName: 'x' })).toThrowError(/not a DICOMDIR/)
    expect(() => readDicomdir(new Uint8Array(300), { fileName: 'x' })).toThrowError(MediaError)
  })

  it('resolves references exactly, else by case; a missing file is named', () => {
    const refs = readDicomdir(dicomdir)
    const files = new Map([
      ['DICOM/IM000002', 'a'],
      ['dicom/st1/im000001', 'b'],
      ['README.TXT', 'c'],
    ])
    expect(
      resolveDicomdirReferences({ references: refs, files })
        .map((r) => r.file)
        .sort(),
    ).toEqual(['a', 'b'])
    files.delete('dicom/st1/im000001')
    const error = (() => {
      try {
        return resolveDicomdirReferences({ references: refs, files, fileName: 'cd/DICOMDIR' })
      } catch (e) {
        return e as MediaError
      }
    })() as MediaError
    expect(error.code).toBe('DICOMDIR_MISSING_FILE')
    expect(error.message).toBe(
      'cd/DICOMDIR!DICOM/ST1/IM000001: referenced by the DICOMDIR, but not on the medium',
    )
  })
})
