import {
  AccessDeniedError,
  closeRecord,
  createGrant,
  declareEmergency,
  getAccess,
  getChainTime,
  listRecords,
  type NodeRequestError,
  openRecord,
  type PcmimsClient,
  readRecordFile,
  requestAccess,
  respondToRequest,
  rotateRecordKey,
  uploadRecord,
} from '@pcmims/core'
import { startTestNode, type TestNode } from '@pcmims/test-utils'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, memoryFile } from './helpers.js'
import { admitSecondUnit, enrol } from './participants.js'

const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 31 + seed) % 256)

async function readAll(client: PcmimsClient, recordId: `0x${string}`): Promise<Uint8Array[]> {
  const record = await openRecord(client, { recordId })
  try {
    const out: Uint8Array[] = []
    for (const file of record.manifest.files)
      out.push(await collect(readRecordFile(client, { record, file })))
    return out
  } finally {
    closeRecord(record)
  }
}

describe('record flows', () => {
  let t: TestNode
  let patient: PcmimsClient
  let uploader: PcmimsClient
  let medic: PcmimsClient

  beforeAll(async () => {
    t = await startTestNode()
    patient = await t.clientFor(t.dev.patient!)
    uploader = await t.clientFor(t.dev.uploader!)
    medic = await t.clientFor(t.dev.medic!)
  })
  afterAll(async () => {
    await t?.stop()
  })

  const upload = (kind: 'MRI' | 'CT' | 'REPORT', seed: number, extra: Record<string, string> = {}) =>
    uploadRecord(uploader, {
      patient: t.dev.patient!.account.address,
      kind,
      files: [memoryFile('a.bin', bytes(70_000, seed)), memoryFile('dir/b.bin', bytes(1_500_000, seed + 1))],
      ...extra,
    })

  it('a standing grant covers records uploaded later, of its kinds only', async () => {
    const now = await getChainTime(patient.publicClient)
    await createGrant(patient, {
      grantee: t.dev.medic!.account.address,
      kinds: ['MRI'],
      expiresAt: now + 86400,
      download: true,
    })
    const mri = await upload('MRI', 1)
    const ct = await upload('CT', 2)
    expect(mri.recipients.map((r) => r.role)).toEqual(['patient', 'custodian', 'grantee'])
    expect(ct.recipients.map((r) => r.role)).toEqual(['patient', 'custodian'])
    const [a, b] = await readAll(medic, mri.recordId)
    expect(a).toEqual(bytes(70_000, 1))
    expect(b).toEqual(bytes(1_500_000, 2))
    await expect(openRecord(medic, { recordId: ct.recordId })).rejects.toBeInstanceOf(AccessDeniedError)
    const listed = await listRecords(medic, { patient: t.dev.patient!.account.address })
    expect(listed.map((r) => r.id)).toContain(mri.recordId)
    expect(listed.map((r) => r.id)).not.toContain(ct.recordId)
  })

  it('a Records grant covers exactly its records; changing it drops the old set', async () => {
    const first = await upload('REPORT', 10)
    const second = await upload('REPORT', 11)
    const reader = await enrol(t, await t.newIdentity(), t.dev.unit!, 'Medic')
    const now = await getChainTime(patient.publicClient)
    await createGrant(patient, {
      grantee: reader.account.address,
      records: [first.recordId],
      expiresAt: now + 3600,
      download: false,
    })
    expect((await readAll(reader, first.recordId))[0]).toEqual(bytes(70_000, 10))
    await expect(openRecord(reader, { recordId: second.recordId })).rejects.toBeInstanceOf(AccessDeniedError)
    const opened = await openRecord(reader, { recordId: first.recordId })
    expect(opened.access).toMatchObject({ allowed: true, download: false, basis: 'Grant' })
    closeRecord(opened)
    await createGrant(patient, {
      grantee: reader.account.address,
      records: [second.recordId],
      expiresAt: now + 3600,
      download: true,
    })
    await expect(openRecord(reader, { recordId: first.recordId })).rejects.toBeInstanceOf(AccessDeniedError)
    expect((await readAll(reader, second.recordId))[0]).toEqual(bytes(70_000, 11))
  })

  it('rotation re-encrypts for the remaining recipients, retires the old id and unpins its ciphertext', async () => {
    const original = await upload('MRI', 20, { appointment: 'APT-ROT', description: 'before rotation' })
    const oldFileCids = original.files.map((f) => f.cid)
    const rotated = await rotateRecordKey(patient, { recordId: original.recordId })
    expect(rotated.status).toBe('confirmed')
    expect(rotated.recordId).not.toBe(original.recordId)
    // The old id answers no to everyone, the patient included.
    for (const client of [patient, medic]) {
      await expect(openRecord(client, { recordId: original.recordId })).rejects.toBeInstanceOf(
        AccessDeniedError,
      )
    }
    const access = await getAccess(patient.publicClient, {
      contract: patient.config.contract,
      grantee: t.dev.patient!.account.address,
      recordId: original.recordId,
    })
    expect(access.allowed).toBe(false)
    // Same content and metadata under the new key, for the patient and the standing MRI grantee.
    const record = await openRecord(patient, { recordId: rotated.recordId })
    expect(record.manifest.appointment).toBe('APT-ROT')
    expect(record.envelope.previous).toBe(original.recordId)
    expect(record.manifest.files.map((f) => f.cid.toString())).not.toEqual(oldFileCids)
    closeRecord(record)
    expect((await readAll(medic, rotated.recordId))[1]).toEqual(bytes(1_500_000, 21))
    // Listing shows the new record only.
    const ids = (await listRecords(patient)).map((r) => r.id)
    expect(ids).toContain(rotated.recordId)
    expect(ids).not.toContain(original.recordId)
    // The node no longer pins the old ciphertext.
    const pinned = new Set<string>()
    for await (const pin of t.node.context.store.pins()) pinned.add(pin.cid.toString())
    for (const cid of oldFileCids) {
      expect(pinned.has(cid)).toBe(false)
      expect(await t.node.context.store.has(CID.parse(cid))).toBe(false)
    }
  })

  it('a request is approved (de-identified only) and the requestor reads; a denied one grants nothing', async () => {
    const requestor = await t.clientFor(t.dev.requestor!)
    const ask = await requestAccess(requestor.walletClient, {
      contract: requestor.config.contract,
      patient: t.dev.patient!.account.address,
      scope: 'Kinds',
      kinds: ['REPORT'],
      purpose: 'Research',
    })
    const incoming = await patient.node.json<{
      requests: Array<{ id: string; status: string; direction: string; purpose: string }>
    }>('GET', '/api/v1/requests')
    expect(incoming.requests.find((r) => r.id === String(ask.requestId))).toMatchObject({
      status: 'Pending',
      direction: 'incoming',
      purpose: 'Research',
    })
    await respondToRequest(patient, {
      requestId: ask.requestId,
      approve: true,
      deidentifiedOnly: true,
      download: false,
    })
    // De-identified only: the requestor lists none of the originals (only copies made for it) and never gets
    // their keys or bytes.
    const listed = await listRecords(requestor, { patient: t.dev.patient!.account.address })
    expect(listed.filter((r) => !r.deidentifiedFrom)).toEqual([])
    const reports = (await listRecords(patient)).filter((r) => r.kind === 'REPORT')
    expect(reports.length).toBeGreaterThan(0)
    const refused = await openRecord(requestor, { recordId: reports[0]!.id }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(AccessDeniedError)
    expect((refused as AccessDeniedError).code).toBe('DEIDENTIFIED_ONLY')
    const served = await requestor.node
      .raw('GET', `/api/v1/records/${reports[0]!.id}`)
      .catch((e: unknown) => e)
    expect((served as NodeRequestError).status).toBe(403)
    expect((served as NodeRequestError).code).toBe('DEIDENTIFIED_ONLY')
    const bundle = await requestor.node
      .raw(
        'GET',
        `/api/v1/grants/${t.dev.patient!.account.address}/${t.dev.requestor!.account.address}/bundle`,
      )
      .catch((e: unknown) => e)
    expect((bundle as NodeRequestError).status).toBe(404)
    // Uploads after the approval are not wrapped for the requestor either.
    const later = await upload('REPORT', 12)
    expect(later.recipients.map((r) => r.role)).toEqual(['patient', 'custodian'])

    const other = await enrol(t, await t.newIdentity(), t.dev.unit!, 'Requestor')
    const denied = await requestAccess(other.walletClient, {
      contract: other.config.contract,
      patient: t.dev.patient!.account.address,
      scope: 'All',
      purpose: 'Insurance',
    })
    await respondToRequest(patient, { requestId: denied.requestId, approve: false })
    const mine = await other.node.json<{ requests: Array<{ id: string; status: string }> }>(
      'GET',
      '/api/v1/requests',
    )
    expect(mine.requests.find((r) => r.id === String(denied.requestId))?.status).toBe('Denied')
    await expect(listRecords(other, { patient: t.dev.patient!.account.address })).rejects.toThrow(/No access/)
  })

  it('emergency access opens this unit’s records for a few hours, and only those', async () => {
    const record = await upload('CT', 40)
    const erMedic = await enrol(t, await t.newIdentity(), t.dev.unit!, 'Medic')
    const unit2 = await admitSecondUnit(t)
    const farMedic = await enrol(t, await t.newIdentity(), unit2, 'Medic')
    await expect(openRecord(erMedic, { recordId: record.recordId })).rejects.toBeInstanceOf(AccessDeniedError)
    for (const who of [erMedic, farMedic]) {
      await declareEmergency(who.walletClient, {
        contract: who.config.contract,
        patient: t.dev.patient!.account.address,
        reasonCode: 3,
        durationSeconds: 2 * 3600,
      })
    }
    // The chain now lets the custodian unit's medic in: the node lists and serves the record. (The medic
    // holds no wrapped key; decrypted emergency downloads by the custodian node are the API issue's work.)
    const listed = await listRecords(erMedic, { patient: t.dev.patient!.account.address })
    expect(listed.map((r) => r.id)).toContain(record.recordId)
    const served = await erMedic.node.raw('GET', `/api/v1/records/${record.recordId}`)
    expect(served.status).toBe(200)
    const far = await farMedic.node
      .raw('GET', `/api/v1/records/${record.recordId}`)
      .catch((e: { status?: number }) => e)
    expect((far as { status?: number }).status).toBe(403)
    const seen = await patient.node.json<{
      emergencies: Array<{ medic: string; active: boolean; reasonCode: number }>
    }>('GET', '/api/v1/emergencies')
    expect(seen.emergencies.filter((e) => e.active).map((e) => e.medic)).toEqual(
      expect.arrayContaining([erMedic.account.address, farMedic.account.address]),
    )
    await t.increaseTime(2 * 3600 + 60)
    const after = await erMedic.node
      .raw('GET', `/api/v1/records/${record.recordId}`)
      .catch((e: { status?: number }) => e)
    expect((after as { status?: number }).status).toBe(403)
    const later = await patient.node.json<{ emergencies: Array<{ medic: string; active: boolean }> }>(
      'GET',
      '/api/v1/emergencies',
    )
    expect(later.emergencies.find((e) => e.medic === erMedic.account.address)?.active).toBe(false)
  })
})
