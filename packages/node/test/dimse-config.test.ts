import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig, loadConfig } from '../src/config.js'

let dataDir: string
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pcmims-dimse-config-'))
})
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true })
})

describe('dimse config', () => {
  it('is off by default, on loopback, AE PCMIMS, any calling AE', () => {
    expect(defaultConfig().dimse).toEqual({
      enabled: false,
      host: '127.0.0.1',
      port: 11112,
      aeTitle: 'PCMIMS',
      allowedCallingAeTitles: [],
      maxInstanceBytes: 2 * 1024 ** 3,
      maxAssociations: 8,
      uploaders: {},
    })
    expect(loadConfig({ env: { PCMIMS_DATA_DIR: dataDir } }).dimse.enabled).toBe(false)
  })

  it('reads the uploader the records of DICOM peers name, and the ingest quiet period', () => {
    const uploader = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
    const config = loadConfig({
      env: {
        PCMIMS_DATA_DIR: dataDir,
        PCMIMS_DIMSE_UPLOADER: uploader,
        PCMIMS_INGEST_QUIET_PERIOD_MS: '2500',
      },
    })
    expect(config.dimse.uploader).toBe(uploader)
    expect(config.ingest.quietPeriodMs).toBe(2500)
    expect(() => loadConfig({ env: { PCMIMS_DATA_DIR: dataDir, PCMIMS_DIMSE_UPLOADER: 'nobody' } })).toThrow(
      /dimse.uploader/,
    )
  })

  it('reads PCMIMS_DIMSE_* and PCMIMS_AE_TITLE', () => {
    const config = loadConfig({
      env: {
        PCMIMS_DATA_DIR: dataDir,
        PCMIMS_DIMSE_ENABLED: 'true',
        PCMIMS_DIMSE_HOST: '0.0.0.0',
        PCMIMS_DIMSE_PORT: '104',
        PCMIMS_AE_TITLE: 'HOSPITAL_PCMIMS',
        PCMIMS_DIMSE_ALLOWED_AES: ' CT1, MR_2 ,,ORTHANC',
      },
    })
    expect(config.dimse).toMatchObject({
      enabled: true,
      host: '0.0.0.0',
      port: 104,
      aeTitle: 'HOSPITAL_PCMIMS',
      allowedCallingAeTitles: ['CT1', 'MR_2', 'ORTHANC'],
    })
    const overridden = loadConfig({
      env: { PCMIMS_DATA_DIR: dataDir, PCMIMS_DIMSE_ALLOWED_AES: 'A' },
      overrides: { dimse: { allowedCallingAeTitles: ['B', 'C'] } },
    })
    expect(overridden.dimse.allowedCallingAeTitles).toEqual(['B', 'C'])
  })

  it('refuses AE titles that are too long, blank or contain a backslash', () => {
    for (const title of ['SEVENTEEN_CHARS_X', '   ', 'A\\B', '']) {
      expect(() =>
        loadConfig({ env: { PCMIMS_DATA_DIR: dataDir }, overrides: { dimse: { aeTitle: title } } }),
      ).toThrow(/dimse.aeTitle/)
    }
    expect(() =>
      loadConfig({ env: { PCMIMS_DATA_DIR: dataDir, PCMIMS_DIMSE_ALLOWED_AES: 'OK,THIS_ONE_IS_TOO_LONG' } }),
    ).toThrow(/dimse.allowedCallingAeTitles/)
  })
})
