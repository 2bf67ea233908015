import {
  closeRecord,
  createGrant,
  getChainTime,
  listRecords,
  openRecord,
  readRecordFile,
  uploadRecord,
} from '@pcmims/core'
import { startTestNode, type TestNode } from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, memoryFile, validFixtures } from './helpers.js'

const KIND_BY_PREFIX: Record<string, 'CT' | 'MRI' | 'XRAY' | 'OTHER'> = { CT: 'CT', MR: 'MRI', XA: 'XRAY' }

describe('every valid DICOM fixture round-trips byte for byte', () => {
  let t: TestNode
  beforeAll(async () => {
    t = await startTestNode()
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('uploaded by the dev uploader, retrieved by the patient and by a granted medic', async () => {
    const fixtures = await validFixtures()
    expect(fixtures.length).toBeGreaterThanOrEqual(13)
    const uploader = await t.clientFor(t.dev.uploader!)
    const patient = await t.clientFor(t.dev.patient!)
    const medic = await t.clientFor(t.dev.medic!)
    const ids = new Map<string, `0x${string}`>()
    for (const fixture of fixtures) {
      const result = await uploadRecord(uploader, {
        patient: t.dev.patient!.account.address,
        kind: KIND_BY_PREFIX[fixture.name.slice(0, 2)] ?? 'OTHER',
        files: [memoryFile(fixture.name, fixture.bytes)],
        appointment: `APT-${fixture.name}`,
        description: `fixture ${fixture.name}`,
      })
      expect(result.status).toBe('confirmed')
      expect(result.txHash).toMatch(/^0x[0-9a-f]{64}$/)
      ids.set(fixture.name, result.recordId)
    }
    const listed = await listRecords(patient)
    expect(new Set(listed.map((r) => r.id))).toEqual(new Set(ids.values()))

    const now = await getChainTime(patient.publicClient)
    await createGrant(patient, {
      grantee: t.dev.medic!.account.address,
      expiresAt: now + 86400,
      download: true,
    })

    for (const reader of [patient, medic]) {
      for (const fixture of fixtures) {
        const record = await openRecord(reader, { recordId: ids.get(fixture.name)! })
        expect(record.manifest.files).toHaveLength(1)
        expect(record.manifest.appointment).toBe(`APT-${fixture.name}`)
        const bytes = await collect(readRecordFile(reader, { record, file: record.manifest.files[0]! }))
        closeRecord(record)
        expect(Buffer.compare(Buffer.from(bytes), Buffer.from(fixture.bytes)), fixture.name).toBe(0)
      }
    }
  })
})
