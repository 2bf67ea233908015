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
    const approved = await as('unit', ['approve', alice])
    expect(approved.json).toMatchObject({ status: 'Approved', txHash: expect.stringMatching(/^0x/) })
    expect(typeof approved.json.gasUsed).toBe('string')
    // approving twice sends nothing and says so; status filters take any case
    const again = await as('unit', ['approve', alice])
    expect(again.code).toBe(1)
    expect(again.json.error).toMatchObject({ code: 'ALREADY_DONE', message: `${alice} is already Approved` })
    const rejectApproved = await as('unit', ['reject', alice])
    expect(rejectApproved.code).toBe(1)
    expect(rejectApproved.json.error.code).toBe('PRECONDITION_FAILED')
    const approvedList = await as('unit', ['registrations', '--status', 'approved'])
    expect(approvedList.json.participants.map((p: { address: string }) => p.address)).toContain(alice)

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
    const human = await runCli(['records', '--details', '--node', t.node.url, '--keystore', newKeystore], {
      PCMIMS_PASSPHRASE: 'correct horse battery',
    })
    expect(human.code, human.stderr).toBe(0)
    const [header, row, ...more] = human.stdout.trimEnd().split('\n')
    expect(header).toMatch(/^RECORD +KIND +ANCHORED \(UTC\) +DATE +APPOINTMENT +FILES +SIZE +DESCRIPTION$/)
    expect(row).toMatch(new RegExp(`^${id} +CT .* 2026-11-20 +APT-7 +2 +\\d+\\.\\d KB +Head CT$`))
    expect(more).toEqual([])
    expect((await aliceRun(['records', '--appointment', 'APT-8'])).json.records).toEqual([])
    const notAFolder = await aliceRun(['get', id, '--out', join(work, 'alice.json')])
    expect(notAFolder.code).toBe(2)
    expect(notAFolder.json.error.message).toMatch(/is not a folder/)
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
    expect(granted.json.txHash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(granted.json.gasUsed).toMatch(/^\d+$/)
    expect(granted.json).not.toHaveProperty('hash')
    expect(
      (await as('medic', ['records', '--patient', alice])).json.records.map((r: { id: string }) => r.id),
    ).toEqual([id])
    const viewOnly = await as('medic', ['get', id, '--out', join(work, 'medic')])
    expect(viewOnly.code).toBe(1)
    expect(viewOnly.json.error.code).toBe('VIEW_ONLY')
    expect(viewOnly.json.error.message).toMatch(/view-only/)
    expect(await readdir(join(work, 'medic')).catch(() => [])).toEqual([])
    expect((await aliceRun(['revoke', '--to', medic])).code).toBe(0)
    const refused = await as('medic', ['records', '--patient', alice])
    expect(refused.code).toBe(1)
    expect(refused.json.error.code).toBe('ACCESS_DENIED')

    // a DICOM study for Alice too: the one kind of record a de-identified copy can be made of
    const dicomUpload = await as('uploader', [
      'upload',
      '--patient',
      alice,
      '--dicom',
      join(study, 'series1', 'IM1'),
    ])
    expect(dicomUpload.code, dicomUpload.stderr).toBe(0)
    const studyId = dicomUpload.json.studies[0].recordId as string
    expect(studyId).toMatch(/^0x[0-9a-f]{64}$/)

    // a requestor asks; Alice sees it and approves de-identified copies only: one copy of the study is made for
    // the requestor, the folder upload (not DICOM-structured) is skipped; the requestor lists and gets its copy
    const asked = await as('requestor', ['request', '--patient', alice, '--purpose', 'research'])
    expect(asked.code, asked.stderr).toBe(0)
    const requestId = String(asked.json.requestId)
    const incoming = await aliceRun(['requests'])
    expect(incoming.json.requests.find((r: { id: string }) => r.id === requestId)).toMatchObject({
      status: 'Pending',
      purpose: 'Research',
    })
    const responded = await aliceRun(['respond', requestId, '--approve', '--expires', '7d', '--deidentified'])
    expect(responded.code, responded.stderr).toBe(0)
    expect(responded.json).toMatchObject({ requestId, approved: true, txHash: expect.stringMatching(/^0x/) })
    expect(responded.json.gasUsed).toMatch(/^\d+$/)
    expect(responded.json).not.toHaveProperty('hash')
    expect(responded.json.copies).toHaveLength(1)
    expect(responded.json.copies[0]).toMatchObject({ sourceId: studyId, status: 'confirmed', instances: 1 })
    expect(responded.json.skipped).toEqual([
      expect.objectContaining({ recordId: id, code: 'NOT_DEIDENTIFIABLE' }),
    ])
    const copyId = responded.json.copies[0].recordId as string
    const requestorRecords = (await as('requestor', ['records', '--patient', alice])).json.records
    expect(
      requestorRecords.map((r: { id: string; deidentifiedFrom?: string }) => [r.id, r.deidentifiedFrom]),
    ).toEqual([[copyId, studyId]])
    const copyOut = join(work, 'requestor')
    const gotCopy = await as('requestor', ['get', copyId, '--out', copyOut])
    expect(gotCopy.code, gotCopy.stderr).toBe(0)
    const copyFile = await readFile(join(copyOut, 'series-001', '00001.dcm'))
    const original = await readFile(join(FIXTURES, 'CT_small.dcm'))
    expect(copyFile.length).toBeGreaterThan(1000)
    // CT_small's patient name, ID and study date are gone from the copy's bytes
    for (const phi of ['CompressedSamples^CT1', '1CT1', 'ABCD1234', '20040119']) {
      expect(original.includes(phi), phi).toBe(true)
      expect(copyFile.includes(phi), phi).toBe(false)
    }
    const refusedOriginal = await as('requestor', ['get', studyId, '--out', join(work, 'requestor-original')])
    expect(refusedOriginal.code).toBe(1)
    expect(refusedOriginal.json.error.code).toBe('DEIDENTIFIED_ONLY')
    const twice = await aliceRun(['respond', requestId, '--approve'])
    expect(twice.json.error).toMatchObject({
      code: 'ALREADY_DONE',
      message: `Request #${requestId} is already Approved`,
    })
    // The requestor already has a copy of this study: no second one unless asked for.
    const copyAgain = await aliceRun(['deidentify', studyId, '--for', responded.json.copies[0].audience])
    expect(copyAgain.code).toBe(1)
    expect(copyAgain.json.error).toMatchObject({
      code: 'ALREADY_DONE',
      details: `copy ${copyId}; --again makes another`,
    })
    const missing = await aliceRun(['respond', '999', '--deny'])
    expect(missing.code).toBe(1)
    expect(missing.json.error).toMatchObject({ code: 'NOT_FOUND', message: 'No such request #999' })

    // a request for some kinds shows them by name; Alice denies it
    const narrow = await as('requestor', [
      'request',
      '--patient',
      alice,
      '--purpose',
      'INSURANCE',
      '--kind',
      'ct',
      '--kind',
      'MR',
    ])
    expect(narrow.code, narrow.stderr).toBe(0)
    const humanRequests = await runCli(['requests', '--node', t.node.url, '--keystore', newKeystore], {
      PCMIMS_PASSPHRASE: 'correct horse battery',
    })
    expect(humanRequests.stdout.split('\n')[0]).toMatch(/^REQUEST +FROM \/ TO +PURPOSE +KINDS +STATUS$/)
    expect(humanRequests.stdout).toMatch(
      new RegExp(`#${narrow.json.requestId} +from 0x[0-9a-fA-F]{40} +Insurance +MRI, CT +Pending`),
    )
    expect((await aliceRun(['respond', String(narrow.json.requestId), '--deny'])).json.approved).toBe(false)
    expect(
      (await as('requestor', ['records', '--patient', alice])).json.records.map((r: { id: string }) => r.id),
    ).toEqual([copyId])
  })

  it('usage errors exit 2 with a short JSON error naming the problem; unknown commands too', async () => {
    const usage = async (args: string[], message: string | RegExp) => {
      const result = await as('patient', args)
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2)
      expect(result.json.error.code).toBe('USAGE')
      expect(result.json.error.message).toMatch(message)
      return result.json.error as { message: string; details?: string }
    }
    await usage(['upload', '--patient', t.node.unit, '--kind', 'NOPE'], 'Unknown kind: NOPE')
    const bogus = await usage(['records', '--bogus'], /^Unknown option --bogus$/)
    expect(bogus.details).toContain('usage: pcmims records')
    expect((await usage(['grant', '--expire', '1d'], 'Unknown option --expire')).details).toContain(
      '--expires',
    )
    await usage(['get', '--out'], '--out needs a value')
    await usage(['registrations', '--status', 'weird'], /--status must be one of Pending, Approved/)
    await usage(['records', '--from', '2026-02-30'], '--from must be a date YYYY-MM-DD')
    await usage(['records', '--to', 'yesterday'], '--to must be a date YYYY-MM-DD')
    await usage(
      ['grant', '--to', t.node.unit, '--expires', '4m'],
      'An expiry must be at least 5 minutes away',
    )
    await usage(['emergency', '--patient', t.node.unit, '--reason', 'heart'], 'Unknown reason: heart')

    const unknown = await cli(['uplaod', '--kind', 'CT'])
    expect(unknown.code).toBe(2)
    expect(unknown.json.error.message).toBe('Unknown command: uplaod')
    expect(unknown.json.error.details).toContain('pcmims upload')
  })

  it('help, version, subcommand lists and an unreachable node', async () => {
    const help = await runCli(['help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^ {2}upload --patient ADDR/m)
    expect(help.stdout).toMatch(/^ {6}Uploader: encrypt files/m)
    expect(Math.max(...help.stdout.split('\n').map((line) => line.length))).toBeLessThan(120)
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'))
    expect((await runCli(['--version'])).stdout.trim()).toBe(`pcmims ${version}`)
    expect((await runCli(['version', '--json'])).json).toEqual({ version })
    for (const args of [['account'], ['account', '--help']]) {
      const group = await runCli(args)
      expect(group.code).toBe(args.length === 1 ? 2 : 0)
      expect(group.stdout).toContain('account new --out FILE')
    }
    const grantHelp = await runCli(['grant', '--help'])
    expect(grantHelp.code).toBe(0)
    expect(grantHelp.stdout).toContain('90m, 12h, 30d, 2w (default 30d')
    expect(grantHelp.stdout).toContain('PCMIMS_PASSPHRASE')
    expect((await runCli(['emergency', '--help'])).stdout).toContain('1 unconscious, 2 trauma')

    const down = await runCli(['status', '--json', '--node', 'http://127.0.0.1:1'])
    expect(down.code).toBe(1)
    expect(down.json.error).toMatchObject({
      code: 'NODE_UNREACHABLE',
      message: 'Cannot reach the node at http://127.0.0.1:1',
    })
    const up = await cli(['status'])
    expect(up.code, up.stderr).toBe(0)
    expect(up.json.status).toBe('ok')
  })
})
