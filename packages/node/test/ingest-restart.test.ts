import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNodeClient, type DicomJsonDataset } from '@pcmims/core'
import { startTestNode, stowBody, synthesizeStudy, type TestNode } from '@pcmims/test-utils'
import type { Hex } from 'viem'
import { afterAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config.js'
import { startDicomReceiver } from '../src/ingest/start-dicom-receiver.js'
import { run } from './dicom-peers.js'

/*
 * No acknowledged write lost: instances the node answered 200 for over STOW-RS, whose study was still in
 * its quiet period when the node stopped, are sealed into their record after the restart. And a DICOM
 * receiver enabled off the development chain without an uploader account does not start.
 */
describe('node-side ingest across a restart', () => {
  const dirs: string[] = []
  const nodes: TestNode[] = []
  afterAll(async () => {
    for (const n of nodes) await n.stop({ keepData: true }).catch(() => {})
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('seals a study acknowledged before the stop once the node is back', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pcmims-ingest-restart-'))
    dirs.push(dataDir)
    const ingest = (quietPeriodMs: number) => ({
      ingest: { quietPeriodMs, maxInstanceBytes: 16 * 1024 ** 2, maxStowBytes: 64 * 1024 ** 2 },
    })
    const first = await startTestNode({ dataDir, config: ingest(10 * 60_000) })
    nodes.push(first)
    const study = synthesizeStudy({ kind: 'MR', count: 5, rows: 64, columns: 64, seed: 'ingest-restart' })
    const { contentType, body } = stowBody(study.instances.map((i) => i.bytes))
    const uploaderToken = (
      await createNodeClient({ url: first.node.url, account: first.dev.uploader!.account }).signIn()
    ).token
    const stored = await fetch(
      `${first.node.url}/api/v1/dicomweb/studies?patient=${first.dev.patient!.account.address}`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${uploaderToken}`,
          'content-type': contentType,
        },
        body,
      },
    )
    expect(stored.status).toBe(200)
    const records = (n: TestNode) =>
      (n.node.context.db.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n
    const before = records(first)
    await first.stop({ keepData: true })
    nodes.pop()

    const second = await startTestNode({ dataDir, config: ingest(200) })
    nodes.push(second)
    await second.node.context.ingest.idle()
    const [batch] = second.node.context.db
      .prepare(`SELECT state, record_id FROM ingest_batches`)
      .all() as Array<{ state: string; record_id: Hex }>
    expect(batch?.state).toBe('sealed')
    expect((await second.node.context.outbox.waitFor(batch!.record_id, 60_000)).state).toBe('confirmed')
    await second.node.context.indexer.syncOnce()
    expect(records(second)).toBe(before + 1)
    const patientToken = (
      await createNodeClient({ url: second.node.url, account: second.dev.patient!.account }).signIn()
    ).token
    const search = await fetch(
      `${second.node.url}/api/v1/dicomweb/studies?StudyInstanceUID=${study.studyInstanceUid}`,
      {
        headers: { authorization: `Bearer ${patientToken}` },
      },
    )
    const [found] = (await search.json()) as DicomJsonDataset[]
    expect(found?.['00201208']?.Value?.[0]).toBe(5)
  }, 180_000)

  it('does not start a DICOM receiver off the development chain without an uploader account', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pcmims-ingest-noup-'))
    dirs.push(dataDir)
    const t = await startTestNode({ dataDir })
    nodes.push(t)
    const config = {
      ...t.node.context.config,
      dev: false,
      dimse: { ...defaultConfig().dimse, enabled: true, port: 0 },
    }
    const refused = startDicomReceiver({ ...t.node.context, config }, t.dev.uploader!.account.address)
    await expect(refused).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      shortMessage: 'The DICOM receiver needs an uploader account',
    })
    // With one, it listens and answers C-ECHO.
    const receiver = await startDicomReceiver(
      {
        ...t.node.context,
        config: { ...config, dimse: { ...config.dimse, uploader: t.dev.uploader!.account.address } },
      },
      undefined,
    )
    try {
      expect((await run('echoscu', ['-aec', 'PCMIMS', '127.0.0.1', String(receiver.port)])).code).toBe(0)
    } finally {
      await receiver.close()
    }
  }, 120_000)
})
