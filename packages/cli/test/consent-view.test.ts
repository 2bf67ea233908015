import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { declareEmergency } from '@pcmims/core'
import { runCli, startTestNode, type TestNode } from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const FIXTURE = fileURLToPath(new URL('../../../fixtures/dicom/valid/MR_small.dcm', import.meta.url))

/** What a patient and a view-only grantee see from the command line. */
describe('pcmims show and grants', () => {
  let t: TestNode
  const account = (role: string) => t.node.devAccounts.find((a) => a.role === role)!
  const as = (role: string, args: string[]) =>
    runCli([...args, '--json', '--node', t.node.url, '--keystore', account(role).keystore], {
      PCMIMS_PASSPHRASE: account(role).passphrase,
    })

  beforeAll(async () => {
    t = await startTestNode()
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('a view-only medic sees the details but cannot download; the patient sees grants and emergencies', async () => {
    const patient = account('patient').address
    const medic = account('medic').address
    const upload = await as('uploader', [
      'upload',
      '--patient',
      patient,
      '--kind',
      'MRI',
      '--appointment',
      'APT-SHOW',
      '--description',
      'Knee MRI',
      FIXTURE,
    ])
    expect(upload.code, upload.stderr).toBe(0)
    const id = upload.json.recordId as string
    expect(
      (await as('patient', ['grant', '--to', medic, '--kind', 'MRI', '--expires', '2d', '--view-only'])).code,
    ).toBe(0)

    const shown = await as('medic', ['show', id])
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.json).toMatchObject({ kind: 'MRI', appointment: 'APT-SHOW', description: 'Knee MRI' })
    expect(shown.json.files).toEqual([{ path: 'MR_small.dcm', mediaType: 'application/dicom', size: 9830 }])
    expect(shown.json.access).toMatchObject({ basis: 'Grant', download: false })
    const download = await as('medic', ['get', id, '--out', join(t.dataDir, 'medic-out')])
    expect(download.code).not.toBe(0)

    const medicClient = await t.clientFor(t.dev.medic!)
    await declareEmergency(medicClient.walletClient, {
      contract: medicClient.config.contract,
      patient,
      reasonCode: 2,
      durationSeconds: 3600,
    })
    const listing = await as('patient', ['grants'])
    expect(listing.code, listing.stderr).toBe(0)
    expect(listing.json.grants).toEqual([
      expect.objectContaining({ grantee: medic, scope: 'Kinds', download: false, deidentifiedOnly: false }),
    ])
    expect(listing.json.emergencies).toEqual([
      expect.objectContaining({ medic, reasonCode: 2, active: true }),
    ])
    const human = await runCli(['grants', '--node', t.node.url, '--keystore', account('patient').keystore], {
      PCMIMS_PASSPHRASE: account('patient').passphrase,
    })
    expect(human.stdout).toMatch(/EMERGENCY ACCESS/)
    expect(human.stdout).toMatch(/MRI .*view only/)

    // Without the grant, the emergency alone lets the medic in: no key of their own, so the custodian
    // node decrypts for them (it checks the chain first), and the files still verify against the manifest.
    expect((await as('patient', ['revoke', '--to', medic])).code).toBe(0)
    const out = join(t.dataDir, 'er-out')
    const emergencyGet = await as('medic', ['get', id, '--out', out])
    expect(emergencyGet.code, emergencyGet.stderr).toBe(0)
    expect(emergencyGet.json).toMatchObject({ decryptedBy: 'custodian', access: { basis: 'Emergency' } })
    const { readFile } = await import('node:fs/promises')
    expect(new Uint8Array(await readFile(join(out, 'MR_small.dcm')))).toEqual(
      new Uint8Array(await readFile(FIXTURE)),
    )
  })
})
