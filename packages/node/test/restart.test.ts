import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  closeRecord,
  createGrant,
  getChainTime,
  listRecords,
  openRecord,
  readRecordFile,
  uploadRecord,
} from '@pcmims/core'
import { startTestNode } from '@pcmims/test-utils'
import { afterAll, describe, expect, it } from 'vitest'
import { collect, memoryFile } from './helpers.js'

describe('a node keeps everything across a restart', () => {
  let dataDir: string | undefined
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it('chain state, IPFS blocks, index and grants survive stop and start on the same data directory', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pcmims-restart-'))
    const content = new Uint8Array(2_500_000).map((_, i) => (i * 7) % 256)
    let first = await startTestNode({ dataDir })
    const contract = first.node.contract
    const uploader = await first.clientFor(first.dev.uploader!)
    const patient = await first.clientFor(first.dev.patient!)
    const { recordId } = await uploadRecord(uploader, {
      patient: first.dev.patient!.account.address,
      kind: 'US',
      files: [memoryFile('echo.bin', content, 'application/octet-stream')],
    })
    await createGrant(patient, {
      grantee: first.dev.medic!.account.address,
      expiresAt: (await getChainTime(patient.publicClient)) + 86400,
      download: true,
    })
    await first.stop({ keepData: true })

    first = await startTestNode({ dataDir })
    try {
      expect(first.node.contract).toBe(contract)
      for (const who of [first.dev.patient!, first.dev.medic!]) {
        const client = await first.clientFor(who)
        const listed = await listRecords(client, { patient: first.dev.patient!.account.address })
        expect(listed.map((r) => r.id)).toEqual([recordId])
        const record = await openRecord(client, { recordId })
        const bytes = await collect(readRecordFile(client, { record, file: record.manifest.files[0]! }))
        closeRecord(record)
        expect(Buffer.from(bytes).equals(Buffer.from(content))).toBe(true)
      }
      // One anchor, not two: the restart did not re-submit anything.
      const outbox = first.node.context.outbox.counts()
      expect(outbox).toMatchObject({ confirmed: 1, queued: 0, submitted: 0, failed: 0 })
    } finally {
      await first.stop({ keepData: true })
    }
  })
})
