import { createGrant, getChainTime, uploadRecord } from '@pcmims/core'
import { sweepOrphans } from '@pcmims/node'
import { startTestNode, type TestNode } from '@pcmims/test-utils'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryFile } from './helpers.js'

describe('ciphertext that never became a record is not kept', () => {
  let t: TestNode
  beforeAll(async () => {
    t = await startTestNode()
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('an abandoned upload is unpinned after its time to live; records and key bundles stay', async () => {
    const uploader = await t.clientFor(t.dev.uploader!)
    const patient = await t.clientFor(t.dev.patient!)
    const record = await uploadRecord(uploader, {
      patient: t.dev.patient!.account.address,
      kind: 'OTHER',
      files: [memoryFile('kept.bin', new Uint8Array(3_000_000).fill(9), 'application/octet-stream')],
    })
    const grant = await createGrant(patient, {
      grantee: t.dev.medic!.account.address,
      expiresAt: (await getChainTime(patient.publicClient)) + 3600,
      download: true,
    })
    expect(grant.keyBundle).toBeDefined()
    // An upload whose client gave up before submitting the record.
    const abandoned = (await (
      await uploader.node.raw('POST', '/api/v1/blobs', {
        body: new Uint8Array(2_500_000).fill(7),
      })
    ).json()) as { cid: string }
    const { store, db, logger } = t.node.context
    expect(await store.has(CID.parse(abandoned.cid))).toBe(true)

    // Too young to be swept.
    expect(await sweepOrphans({ db, store, ttlMs: 3_600_000, logger })).toBe(0)
    expect(await store.has(CID.parse(abandoned.cid))).toBe(true)

    const swept = await sweepOrphans({ db, store, ttlMs: 3_600_000, now: Date.now() + 7_200_000, logger })
    expect(swept).toBe(1)
    expect(await store.has(CID.parse(abandoned.cid))).toBe(false)
    for (const cid of [
      record.manifestCid,
      record.envelopeCid,
      ...record.files.map((f) => f.cid),
      grant.keyBundle as string,
    ]) {
      expect(await store.has(CID.parse(cid)), cid).toBe(true)
    }
  })
})
