import { mkdtemp, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AccessDeniedError,
  createPcmimsClient,
  DecryptionError,
  decryptKeystore,
  IntegrityError,
  NodeRequestError,
  openRecord,
  PreconditionError,
  readRecordFile,
  uploadRecord,
  WrongPassphraseError,
} from '@pcmims/core'
import { runCli, startTestNode, type TestNode } from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, FIXTURES, memoryFile } from './helpers.js'
import { enrol } from './participants.js'

/** Rows that show something was stored or anchored; bad input must change none of them. */
function footprint(t: TestNode) {
  const db = t.node.context.db
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n
  return {
    outbox: count('SELECT COUNT(*) AS n FROM outbox'),
    blobs: count('SELECT COUNT(*) AS n FROM blobs'),
    anchored: count('SELECT COUNT(*) AS n FROM records'),
  }
}

describe('bad input gives a clear error and anchors nothing', () => {
  let t: TestNode
  let recordId: `0x${string}`
  let devAccounts: Array<{ role: string; keystore: string; passphrase: string; address: string }>

  beforeAll(async () => {
    t = await startTestNode()
    const uploader = await t.clientFor(t.dev.uploader!)
    const result = await uploadRecord(uploader, {
      patient: t.dev.patient!.account.address,
      kind: 'MRI',
      files: [
        memoryFile(
          'a.dcm',
          new Uint8Array(300_000).map((_, i) => i % 251),
        ),
      ],
    })
    recordId = result.recordId
    await t.node.context.indexer.syncOnce()
    devAccounts = t.node.devAccounts
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('unregistered patient', async () => {
    const before = footprint(t)
    const uploader = await t.clientFor(t.dev.uploader!)
    const stranger = await t.newIdentity()
    const error = await uploadRecord(uploader, {
      patient: stranger.account.address,
      kind: 'CT',
      files: [memoryFile('x.dcm', new Uint8Array(10))],
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PreconditionError)
    expect((error as PreconditionError).code).toBe('PATIENT_NOT_APPROVED')
    expect(footprint(t)).toEqual(before)
  })

  it('unapproved uploader, through the SDK and straight at the node', async () => {
    const before = footprint(t)
    const pending = await enrol(t, await t.newIdentity(), t.dev.unit!, 'Uploader', false)
    const error = await uploadRecord(pending, {
      patient: t.dev.patient!.account.address,
      kind: 'CT',
      files: [memoryFile('x.dcm', new Uint8Array(10))],
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PreconditionError)
    expect((error as PreconditionError).code).toBe('UPLOADER_NOT_APPROVED')
    const direct = await pending.node
      .raw('POST', '/api/v1/blobs', { body: new Uint8Array(64) })
      .catch((e: unknown) => e)
    expect(direct).toBeInstanceOf(NodeRequestError)
    expect((direct as NodeRequestError).status).toBe(403)
    expect((direct as NodeRequestError).shortMessage).toMatch(/not approved/)
    expect(footprint(t)).toEqual(before)
  })

  it('wrong passphrase', async () => {
    const uploader = devAccounts.find((a) => a.role === 'uploader')!
    const { readFile } = await import('node:fs/promises')
    await expect(
      decryptKeystore({
        keystore: await readFile(uploader.keystore, 'utf8'),
        passphrase: 'not-the-passphrase',
      }),
    ).rejects.toBeInstanceOf(WrongPassphraseError)
    const before = footprint(t)
    const cli = await runCli(
      [
        'upload',
        '--json',
        '--node',
        t.node.url,
        '--keystore',
        uploader.keystore,
        '--patient',
        t.dev.patient!.account.address,
        '--kind',
        'CT',
        join(FIXTURES, 'valid', 'CT_small.dcm'),
      ],
      { PCMIMS_PASSPHRASE: 'not-the-passphrase' },
    )
    expect(cli.code).toBe(1)
    expect(JSON.parse(cli.stderr).error.code).toBe('WRONG_PASSPHRASE')
    expect(cli.stdout).toBe('')
    expect(footprint(t)).toEqual(before)
  })

  it('missing file', async () => {
    const uploader = devAccounts.find((a) => a.role === 'uploader')!
    const before = footprint(t)
    const cli = await runCli(
      [
        'upload',
        '--json',
        '--node',
        t.node.url,
        '--keystore',
        uploader.keystore,
        '--patient',
        t.dev.patient!.account.address,
        '--kind',
        'CT',
        join(FIXTURES, 'valid', 'CT_small.dcm'),
        '/nonexistent/scan.dcm',
      ],
      { PCMIMS_PASSPHRASE: uploader.passphrase },
    )
    expect(cli.code).toBe(2)
    expect(JSON.parse(cli.stderr).error.message).toMatch(/No such file or folder: \/nonexistent\/scan.dcm/)
    expect(footprint(t)).toEqual(before)
  })

  it('unknown record id', async () => {
    const patient = await t.clientFor(t.dev.patient!)
    const unknown = `0x${'ab'.repeat(32)}` as const
    const error = await openRecord(patient, { recordId: unknown }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AccessDeniedError)
    const patientAccount = devAccounts.find((a) => a.role === 'patient')!
    const out = await mkdtemp(join(tmpdir(), 'pcmims-get-'))
    const cli = await runCli(
      ['get', unknown, '--out', out, '--json', '--node', t.node.url, '--keystore', patientAccount.keystore],
      {
        PCMIMS_PASSPHRASE: patientAccount.passphrase,
      },
    )
    expect(cli.code).toBe(1)
    expect(JSON.parse(cli.stderr).error.code).toBe('ACCESS_DENIED')
    expect(await readdir(out)).toEqual([])
  })

  describe('tampered ciphertext is refused, nothing decrypted is returned', () => {
    /** A node (or disk) that flips one byte of everything it serves from `match`. */
    function tamperingFetch(match: (url: string) => boolean, at: (length: number) => number): typeof fetch {
      return async (input, init) => {
        const response = await fetch(input, init)
        const url = String(input instanceof Request ? input.url : input)
        if (!match(url) || !response.ok) return response
        const bytes = new Uint8Array(await response.arrayBuffer())
        const i = at(bytes.length)
        bytes[i] = (bytes[i] as number) ^ 0x01
        return new Response(bytes, { status: response.status, headers: response.headers })
      }
    }

    async function clientWith(fetchImpl: typeof fetch) {
      const who = t.dev.patient!
      return createPcmimsClient({
        nodeUrl: t.node.url,
        account: who.account,
        encryptionKeyPair: who.encryptionKeyPair,
        fetch: fetchImpl,
      })
    }

    for (const [name, at] of [
      ['header', () => 5],
      ['first chunk', () => 200],
      ['last tag', (n: number) => n - 1],
    ] as const) {
      it(`file ciphertext (${name})`, async () => {
        const honest = await t.clientFor(t.dev.patient!)
        const record = await openRecord(honest, { recordId })
        const file = record.manifest.files[0]!
        const client = await clientWith(tamperingFetch((url) => url.endsWith(`/blobs/${file.cid}`), at))
        const received: Uint8Array[] = []
        const error = await (async () => {
          for await (const chunk of readRecordFile(client, { record, file })) received.push(chunk)
        })().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(DecryptionError)
        if (name !== 'last tag') expect(received).toEqual([])
        // The honest path still works: the stored data is intact.
        const bytes = await collect(readRecordFile(honest, { record, file }))
        expect(bytes.length).toBe(300_000)
      })
    }

    it('manifest ciphertext', async () => {
      const honest = await t.clientFor(t.dev.patient!)
      const { envelope } = await openRecord(honest, { recordId })
      const client = await clientWith(
        tamperingFetch(
          (url) => url.endsWith(`/blobs/${envelope.manifest}`),
          (n) => n - 3,
        ),
      )
      await expect(openRecord(client, { recordId })).rejects.toBeInstanceOf(DecryptionError)
    })

    it('envelope', async () => {
      const client = await clientWith(async (input, init) => {
        const response = await fetch(input, init)
        if (!String(input).endsWith(`/api/v1/records/${recordId}`)) return response
        const body = (await response.json()) as { envelope: string }
        const bytes = Buffer.from(body.envelope, 'base64')
        bytes.writeUInt8(bytes.readUInt8(bytes.length - 2) ^ 0x01, bytes.length - 2)
        return new Response(JSON.stringify({ ...body, envelope: bytes.toString('base64') }), { status: 200 })
      })
      await expect(openRecord(client, { recordId })).rejects.toBeInstanceOf(IntegrityError)
    })
  })

  it('the CLI writes the verified files and touches nothing else', async () => {
    // Files already in the folder stay; only the record's verified files are added.
    const patientAccount = devAccounts.find((a) => a.role === 'patient')!
    const out = await mkdtemp(join(tmpdir(), 'pcmims-get-'))
    await writeFile(join(out, 'keep.txt'), 'x')
    const cli = await runCli(
      ['get', recordId, '--out', out, '--json', '--node', t.node.url, '--keystore', patientAccount.keystore],
      {
        PCMIMS_PASSPHRASE: patientAccount.passphrase,
      },
    )
    expect(cli.code).toBe(0)
    expect((await readdir(out)).sort()).toEqual(['a.dcm', 'keep.txt'])
  })
})
