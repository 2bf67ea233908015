import { type ChildProcess, spawn } from 'node:child_process'
import { type DicomJsonDataset, uploadDicomStudies } from '@pcmims/core'
import {
  CLI,
  parseMultipartRelated,
  runCli,
  startTestNode,
  synthesizeStudy,
  type TestNode,
} from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** `pcmims serve` end to end: a medic serves a patient's granted study to any DICOMweb client. */
describe('pcmims serve', () => {
  let t: TestNode
  let server: ChildProcess | undefined
  let url: string
  const account = (role: string) => t.node.devAccounts.find((a) => a.role === role)!
  const as = (role: string, args: string[]) =>
    runCli([...args, '--json', '--node', t.node.url, '--keystore', account(role).keystore], {
      PCMIMS_PASSPHRASE: account(role).passphrase,
    })
  const ct = synthesizeStudy({ kind: 'CT', count: 12, rows: 64, columns: 64, seed: 'serve' })
  const instancePath = (i: number) =>
    `/studies/${ct.studyInstanceUid}/series/${ct.seriesInstanceUid}/instances/${ct.instances[i]!.sopInstanceUid}`

  /** Starts `pcmims serve` as `role` and resolves with the URL it prints. */
  function serve(role: string, args: string[]): Promise<{ child: ChildProcess; url: string }> {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        '--json',
        '--port',
        '0',
        '--node',
        t.node.url,
        '--keystore',
        account(role).keystore,
        ...args,
      ],
      {
        env: { ...process.env, PCMIMS_PASSPHRASE: account(role).passphrase },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    return new Promise((resolve, reject) => {
      let stdout = ''
      let stderr = ''
      child.stderr!.on('data', (d) => {
        stderr += d
      })
      child.stdout!.on('data', (d) => {
        stdout += d
        try {
          resolve({ child, url: (JSON.parse(stdout) as { url: string }).url })
        } catch {
          // not a whole document yet
        }
      })
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)))
    })
  }

  beforeAll(async () => {
    t = await startTestNode()
    const uploader = await t.clientFor(t.dev.uploader!)
    await uploadDicomStudies(uploader, {
      patient: account('patient').address,
      files: ct.instances.map((i) => ({
        path: i.fileName,
        mediaType: 'application/dicom',
        size: i.bytes.length,
        async *open() {
          yield i.bytes
        },
      })),
    })
    const granted = await as('patient', [
      'grant',
      '--to',
      account('medic').address,
      '--expires',
      '1d',
      '--view-only',
    ])
    expect(granted.code, granted.stderr).toBe(0)
    // No --patient: the medic serves the records of every patient who granted it access.
    ;({ child: server, url } = await serve('medic', []))
  }, 240_000)
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve))
      server.kill('SIGTERM')
      await exited
    }
    await t?.stop()
  })

  it('listens on loopback under a secret path; anything else is 404', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43}\/dicomweb$/)
    const origin = new URL(url).origin
    expect((await fetch(`${origin}/dicomweb/studies`)).status).toBe(404)
    expect((await fetch(`${origin}/${'x'.repeat(43)}/dicomweb/studies`)).status).toBe(404)
    // CORS for browser viewers, preflight included.
    const preflight = await fetch(`${url}/studies`, {
      method: 'OPTIONS',
      headers: { origin: 'http://viewer.example', 'access-control-request-method': 'GET' },
    })
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
  })

  it('a view-only grantee gets QIDO, metadata, frames and rendered images, not the original instances', async () => {
    const studies = (await (await fetch(`${url}/studies`)).json()) as DicomJsonDataset[]
    expect(studies.map((s) => s['0020000D']?.Value?.[0])).toEqual([ct.studyInstanceUid])
    const frames = await fetch(`${url}${instancePath(2)}/frames/1`)
    expect(frames.status).toBe(200)
    const [frame] = parseMultipartRelated(
      frames.headers.get('content-type')!,
      new Uint8Array(await frames.arrayBuffer()),
    ).parts
    expect(frame!.body.length).toBe(64 * 64 * 2)
    expect((await fetch(`${url}${instancePath(2)}/rendered`)).headers.get('content-type')).toBe('image/png')
    expect((await fetch(`${url}${instancePath(2)}/metadata`)).status).toBe(200)
    const refused = await fetch(`${url}${instancePath(2)}`)
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as { code: string }).code).toBe('VIEW_ONLY')
  })

  it('with a download grant, WADO-RS gives the study byte for byte; a revoke stops the next request', async () => {
    const regranted = await as('patient', ['grant', '--to', account('medic').address, '--expires', '1d'])
    expect(regranted.code, regranted.stderr).toBe(0)
    const study = await fetch(`${url}/studies/${ct.studyInstanceUid}`, {
      headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
    })
    expect(study.status).toBe(200)
    const parts = parseMultipartRelated(
      study.headers.get('content-type')!,
      new Uint8Array(await study.arrayBuffer()),
    ).parts
    expect(parts).toHaveLength(12)
    const original = new Map(ct.instances.map((i) => [i.sopInstanceUid, i.bytes]))
    for (const part of parts) {
      expect(part.body).toEqual(original.get(part.headers['content-location']!.split('/instances/')[1]!))
    }
    expect(parts[0]!.headers['content-location']).toMatch(new RegExp(`^${url}/studies/`))

    const revoked = await as('patient', ['revoke', '--to', account('medic').address])
    expect(revoked.code, revoked.stderr).toBe(0)
    // Frames read a moment ago are in the server's cache: still refused.
    expect((await fetch(`${url}${instancePath(2)}/frames/1`)).status).toBe(403)
    expect((await fetch(`${url}${instancePath(2)}`)).status).toBe(403)
    expect(await (await fetch(`${url}/studies`)).json()).toEqual([])
  })

  it('a patient serves their own records; Ctrl+C (SIGTERM) stops the server', async () => {
    const own = await serve('patient', [])
    try {
      const studies = (await (await fetch(`${own.url}/studies`)).json()) as DicomJsonDataset[]
      expect(studies.map((s) => s['0020000D']?.Value?.[0])).toEqual([ct.studyInstanceUid])
      const instance = await fetch(`${own.url}${instancePath(0)}`)
      const [part] = parseMultipartRelated(
        instance.headers.get('content-type')!,
        new Uint8Array(await instance.arrayBuffer()),
      ).parts
      expect(part!.body).toEqual(ct.instances[0]!.bytes)
    } finally {
      const exited = new Promise<number | null>((resolve) => own.child.once('exit', resolve))
      own.child.kill('SIGTERM')
      expect(await exited).toBe(0)
    }
    await expect(fetch(`${own.url}/studies`)).rejects.toThrow()
  })
})
