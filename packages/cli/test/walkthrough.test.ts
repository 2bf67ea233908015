import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCli, startTestNode, type TestNode } from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const FIXTURES = fileURLToPath(new URL('../../../fixtures/dicom/valid/', import.meta.url))

/** The README's walkthrough, command by command, through the real CLI in child processes. */
describe('pcmims CLI walkthrough', () => {
  let t: TestNode
  let work: string
  let keystore: (role: string) => string
  let pass: (role: string) => string

  const cli = (args: string[], passphrase?: string) =>
    runCli([...args, '--json', '--node', t.node.url], passphrase ? { PCMIMS_PASSPHRASE: passphrase } : {})

  const as = (role: string, args: string[]) => cli([...args, '--keystore', keystore(role)], pass(role))

  beforeAll(async () => {
    t = await startTestNode()
    work = await mkdtemp(join(tmpdir(), 'pcmims-cli-'))
    keystore = (role) => t.node.devAccounts.find((a) => a.role === role)!.keystore
    pass = (role) => t.node.devAccounts.find((a) => a.role === role)!.passphrase
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('a new patient registers, is approved, gets a study uploaded, retrieves it, grants, revokes, answers a request', async () => {
    // account new → register → the unit approves
    const newKeystore = join(work, 'alice.json')
    const created = await cli(['account', 'new', '--out', newKeystore], 'correct horse battery')
    expect(created.code, created.stderr).toBe(0)
    const alice = created.json.address as string
    expect(created.json.encryptionKey).toMatch(/^0x[0-9a-f]{64}$/)
    const unit = t.node.unit
    const registered = await cli(
      ['register', '--role', 'patient', '--unit', unit, '--keystore', newKeystore],
      'correct horse battery',
    )
    expect(registered.code, registered.stderr).toBe(0)
    // The new account needs gas for its own transactions on this dev chain.
    expect(registered.json.status).toBe('Pending')
    const pending = await as('unit', ['registrations', '--status', 'Pending'])
    expect(pending.json.participants.map((p: { address: string }) => p.address)).toContain(alice)
    expect((await as('unit', ['approve', alice])).json.status).toBe('Approved')

    // the radiologist uploads a folder (two DICOM files) for Alice
    const study = join(work, 'study')
    await mkdir(join(study, 'series1'), { recursive: true })
    await writeFile(join(study, 'series1', 'IM1'), await readFile(join(FIXTURES, 'CT_small.dcm')))
    await writeFile(join(study, 'series1', 'IM2.dcm'), await readFile(join(FIXTURES, 'MR_small.dcm')))
    const upload = await as('uploader', [
      'upload',
      '--patient',
      alice,
      '--kind',
      'CT',
      '--appointment',
      'APT-7',
      '--description',
      'Head CT',
      '--date',
      '2026-11-20',
      study,
    ])
    expect(upload.code, upload.stderr).toBe(0)
    expect(upload.json).toMatchObject({ status: 'confirmed' })
    expect(upload.json.recordId).toMatch(/^0x[0-9a-f]{64}$/)
    expect(upload.json.txHash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(Number(upload.json.gasUsed)).toBeGreaterThan(21000)
    expect(upload.json.files.map((f: { path: string }) => f.path)).toEqual(['series1/IM1', 'series1/IM2.dcm'])
    const id = upload.json.recordId as string

    // Alice lists (filters run on decrypted manifests) and retrieves
    const aliceRun = (args: string[]) => cli([...args, '--keystore', newKeystore], 'correct horse battery')
    const listed = await aliceRun(['records', '--appointment', 'APT-7'])
    expect(listed.json.records.map((r: { id: string }) => r.id)).toEqual([id])
    expect((await aliceRun(['records', '--appointment', 'APT-8'])).json.records).toEqual([])
    const out = join(work, 'out')
    const got = await aliceRun(['get', id, '--out', out])
    expect(got.code, got.stderr).toBe(0)
    expect(await readFile(join(out, 'series1', 'IM1'))).toEqual(
      await readFile(join(FIXTURES, 'CT_small.dcm')),
    )
    expect(await readFile(join(out, 'series1', 'IM2.dcm'))).toEqual(
      await readFile(join(FIXTURES, 'MR_small.dcm')),
    )

    // grant the medic view-only: listing works, download is refused; revoke: listing refused
    const medic = t.node.devAccounts.find((a) => a.role === 'medic')!.address
    const granted = await aliceRun(['grant', '--to', medic, '--kind', 'CT', '--expires', '1d', '--view-only'])
    expect(granted.code, granted.stderr).toBe(0)
    expect(granted.json.records).toEqual([id])
    expect(
      (await as('medic', ['records', '--patient', alice])).json.records.map((r: { id: string }) => r.id),
    ).toEqual([id])
    const viewOnly = await as('medic', ['get', id, '--out', join(work, 'medic')])
    expect(viewOnly.code).toBe(2)
    expect(viewOnly.json.error.message).toMatch(/view-only/)
    expect(await readdir(join(work, 'medic')).catch(() => [])).toEqual([])
    expect((await aliceRun(['revoke', '--to', medic])).code).toBe(0)
    const refused = await as('medic', ['records', '--patient', alice])
    expect(refused.code).toBe(1)
    expect(refused.json.error.code).toBe('ACCESS_DENIED')

    // a requestor asks; Alice sees it and approves; the requestor can list
    const asked = await as('requestor', ['request', '--patient', alice, '--purpose', 'research'])
    expect(asked.code, asked.stderr).toBe(0)
    const requestId = String(asked.json.requestId)
    const incoming = await aliceRun(['requests'])
    expect(incoming.json.requests.find((r: { id: string }) => r.id === requestId)).toMatchObject({
      status: 'Pending',
      purpose: 'Research',
    })
    expect(
      (await aliceRun(['respond', requestId, '--approve', '--expires', '7d', '--deidentified'])).code,
    ).toBe(0)
    expect(
      (await as('requestor', ['records', '--patient', alice])).json.records.map((r: { id: string }) => r.id),
    ).toEqual([id])
  })

  it('usage errors exit 2 with a JSON error; unknown commands too', async () => {
    const bad = await cli(['upload', '--kind', 'NOPE'])
    expect(bad.code).toBe(2)
    expect(bad.json.error.code).toBe('USAGE')
    const unknown = await cli(['frobnicate'])
    expect(unknown.code).toBe(2)
  })
})
