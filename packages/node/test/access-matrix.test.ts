import {
  AccessDeniedError,
  createGrant,
  getChainTime,
  listRecords,
  NodeRequestError,
  openRecord,
  type PcmimsClient,
  readRecordFile,
  revokeAccess,
  uploadRecord,
} from '@pcmims/core'
import { startTestNode, type TestNode } from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, memoryFile, validFixtures } from './helpers.js'
import { admitSecondUnit, enrol } from './participants.js'

/**
 * {patient, granted medic, medic after expiry, medic after revoke, ungranted requestor, another unit's
 * uploader, unregistered account} × {list, retrieve}, against a real chain and node. Refusals are
 * checked twice: by the SDK (fail closed on the chain's answer) and by the node itself when a client
 * skips that check and asks for ciphertext directly.
 */
describe('access matrix', () => {
  let t: TestNode
  let recordId: `0x${string}`
  let manifestCid: string
  let fileCid: string
  let original: Uint8Array
  const readers = new Map<string, PcmimsClient>()
  const allowed = new Set(['patient', 'granted medic'])

  beforeAll(async () => {
    t = await startTestNode()
    const [fixture] = (await validFixtures()).filter((f) => f.name === 'CT_small.dcm')
    original = fixture!.bytes
    const uploader = await t.clientFor(t.dev.uploader!)
    const patient = await t.clientFor(t.dev.patient!)
    const upload = await uploadRecord(uploader, {
      patient: t.dev.patient!.account.address,
      kind: 'CT',
      files: [memoryFile('CT_small.dcm', original)],
      appointment: 'APT-MATRIX',
    })
    recordId = upload.recordId
    manifestCid = upload.manifestCid
    fileCid = upload.files[0]!.cid

    const unit = t.dev.unit!
    const expiring = await enrol(t, await t.newIdentity(), unit, 'Medic')
    const revoked = await enrol(t, await t.newIdentity(), unit, 'Medic')
    const unit2 = await admitSecondUnit(t)
    const otherUploader = await enrol(t, await t.newIdentity(), unit2, 'Uploader')

    const now = await getChainTime(patient.publicClient)
    await createGrant(patient, {
      grantee: t.dev.medic!.account.address,
      kinds: ['CT'],
      expiresAt: now + 7 * 86400,
      download: true,
    })
    await createGrant(patient, { grantee: expiring.account.address, expiresAt: now + 3600, download: true })
    await createGrant(patient, { grantee: revoked.account.address, expiresAt: now + 86400, download: true })
    // Both of these could read before: prove it, then take it away.
    for (const client of [expiring, revoked]) {
      expect((await listRecords(client, { patient: patient.account.address })).map((r) => r.id)).toContain(
        recordId,
      )
    }
    await revokeAccess(patient.walletClient, {
      contract: patient.config.contract,
      grantee: revoked.account.address,
    })
    await t.increaseTime(2 * 3600)

    readers.set('patient', patient)
    readers.set('granted medic', await t.clientFor(t.dev.medic!))
    readers.set('medic after expiry', expiring)
    readers.set('medic after revoke', revoked)
    readers.set('ungranted requestor', await t.clientFor(t.dev.requestor!))
    readers.set("another unit's uploader", otherUploader)
    readers.set('unregistered account', await t.clientFor(await t.newIdentity()))
  })

  afterAll(async () => {
    await t?.stop()
  })

  const cells = [
    'patient',
    'granted medic',
    'medic after expiry',
    'medic after revoke',
    'ungranted requestor',
    "another unit's uploader",
    'unregistered account',
  ]

  for (const who of cells) {
    it(`${who}: list ${allowed.has(who) ? 'succeeds' : 'fails'}`, async () => {
      const client = readers.get(who)!
      const listing = listRecords(client, { patient: t.dev.patient!.account.address })
      if (allowed.has(who)) {
        expect((await listing).map((r) => r.id)).toEqual([recordId])
      } else {
        const error = await listing.then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error).toBeInstanceOf(NodeRequestError)
        expect((error as NodeRequestError).status).toBe(403)
        expect((error as NodeRequestError).shortMessage).toMatch(/not registered|No access|not approved/)
      }
    })

    it(`${who}: retrieve ${allowed.has(who) ? 'succeeds' : 'fails with no plaintext'}`, async () => {
      const client = readers.get(who)!
      if (allowed.has(who)) {
        const record = await openRecord(client, { recordId })
        const bytes = await collect(readRecordFile(client, { record, file: record.manifest.files[0]! }))
        expect(Buffer.from(bytes).equals(Buffer.from(original))).toBe(true)
        return
      }
      await expect(openRecord(client, { recordId })).rejects.toBeInstanceOf(AccessDeniedError)
      // A client that skips the chain check gets nothing from the node either.
      for (const path of [
        `/api/v1/records/${recordId}`,
        `/api/v1/records/${recordId}/blobs/${manifestCid}`,
        `/api/v1/records/${recordId}/blobs/${fileCid}`,
      ]) {
        const error = await client.node.raw('GET', path).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error, path).toBeInstanceOf(NodeRequestError)
        expect((error as NodeRequestError).status, path).toBe(403)
      }
    })
  }
})
