import { pcmimsAbi } from '@pcmims/contracts'
import {
  newParticipant,
  randomKey,
  startTestChain,
  type TestChain,
  type TestParticipant,
} from '@pcmims/test-utils'
import { type Address, type Hex, toHex, zeroAddress, zeroHash } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BaseError } from '../errors/base-error.js'
import {
  acceptGovernance,
  admitUnit,
  anchorDeidentifiedCopy,
  anchorRecord,
  anchorRecords,
  approveParticipant,
  approveRequest,
  ContractCallError,
  canAccess,
  canAccessBatch,
  declareEmergency,
  decodePcmimsLogs,
  denyRequest,
  deployPcmims,
  endEmergency,
  getAccess,
  getCopyAudience,
  getEmergency,
  getEncryptionKey,
  getGovernance,
  getGrant,
  getParticipant,
  getRecord,
  getRequest,
  getUnit,
  grantAccess,
  pcmimsErrorMessages,
  registerParticipant,
  rejectParticipant,
  requestAccess,
  revokeAccess,
  rotateRecord,
  setEncryptionKey,
  setUnitStatus,
  suspendParticipant,
  toContractCallError,
  transferGovernance,
} from './index.js'

let chain: TestChain
let contract: Address
let unit: TestParticipant
let patient: TestParticipant
let uploader: TestParticipant
let medic: TestParticipant
let requestor: TestParticipant

const id = () => toHex(crypto.getRandomValues(new Uint8Array(32)))

beforeAll(async () => {
  chain = await startTestChain({ deploy: false })
  const governance = chain.walletClientFor(chain.governance)
  const deployed = await deployPcmims(governance)
  contract = deployed.address
  expect(deployed.gasUsed).toBeGreaterThan(0n)
  unit = await newParticipant(chain)
  const admitted = await admitUnit(governance, {
    contract,
    unit: unit.address,
    encryptionKey: unit.encryptionKey,
  })
  expect(admitted.unitIndex).toBe(1)
  const join = async (role: 'Patient' | 'Uploader' | 'Medic' | 'Requestor') => {
    const p = await newParticipant(chain)
    await registerParticipant(p.wallet, {
      contract,
      unit: unit.address,
      role,
      encryptionKey: p.encryptionKey,
    })
    await approveParticipant(unit.wallet, { contract, account: p.address })
    return p
  }
  patient = await join('Patient')
  uploader = await join('Uploader')
  medic = await join('Medic')
  requestor = await join('Requestor')
})
afterAll(async () => {
  await chain?.stop()
})

describe('participants', () => {
  it('reads participants with enum names and keys', async () => {
    const p = await getParticipant(chain.publicClient, { contract, account: medic.address })
    expect(p).toMatchObject({
      account: medic.address,
      unit: unit.address,
      role: 'Medic',
      status: 'Approved',
      unitIndex: 1,
    })
    expect(p.updatedAt).toBeGreaterThan(0)
    expect(await getEncryptionKey(chain.publicClient, { contract, account: medic.address })).toBe(
      medic.encryptionKey,
    )
    const nobody = await getParticipant(chain.publicClient, { contract, account: zeroAddress })
    expect(nobody).toMatchObject({ role: 'None', status: 'None', unit: zeroAddress })
    expect(await getUnit(chain.publicClient, { contract, unitIndex: 1 })).toBe(unit.address)
    expect(await getUnit(chain.publicClient, { contract, unitIndex: 99 })).toBeNull()
  })

  it('reject, suspend, re-approve and key rotation', async () => {
    const p = await newParticipant(chain)
    await registerParticipant(p.wallet, {
      contract,
      unit: unit.address,
      role: 'Patient',
      encryptionKey: p.encryptionKey,
    })
    const r = await rejectParticipant(unit.wallet, { contract, account: p.address })
    expect(r.events).toMatchObject([{ eventName: 'ParticipantStatusChanged', args: { status: 'Rejected' } }])
    const m = await newParticipant(chain)
    await registerParticipant(m.wallet, {
      contract,
      unit: unit.address,
      role: 'Medic',
      encryptionKey: m.encryptionKey,
    })
    await approveParticipant(unit.wallet, { contract, account: m.address })
    await suspendParticipant(unit.wallet, { contract, account: m.address })
    expect((await getParticipant(chain.publicClient, { contract, account: m.address })).status).toBe(
      'Suspended',
    )
    await approveParticipant(unit.wallet, { contract, account: m.address })
    const key = randomKey()
    await setEncryptionKey(m.wallet, { contract, encryptionKey: key })
    expect(await getEncryptionKey(chain.publicClient, { contract, account: m.address })).toBe(key)
  })
})

describe('records, grants and access', () => {
  it('anchors (direct and relayed), batches, reads and rotates records', async () => {
    const a = id()
    const direct = await anchorRecord(uploader.wallet, {
      contract,
      id: a,
      patient: patient.address,
      uploader: uploader.address,
      kind: 'CT',
    })
    expect(direct).toMatchObject({ id: a, unitIndex: 1 })
    expect(direct.gasUsed).toBeGreaterThan(21_000n)
    expect(direct.blockNumber).toBeGreaterThan(0n)
    expect(direct.events).toEqual([
      expect.objectContaining({
        eventName: 'RecordAnchored',
        args: { id: a, patient: patient.address, uploader: uploader.address, kind: 'CT', unitIndex: 1 },
      }),
    ])
    const b = id()
    await anchorRecord(unit.wallet, {
      contract,
      id: b,
      patient: patient.address,
      uploader: uploader.address,
      kind: 'MRI',
    })
    const batch = [id(), id(), id()]
    const many = await anchorRecords(unit.wallet, {
      contract,
      records: batch.map((x, i) => ({
        id: x,
        patient: patient.address,
        uploader: uploader.address,
        kind: (['XRAY', 'US', 'REPORT'] as const)[i]!,
      })),
    })
    expect(many.ids).toEqual(batch)
    expect(many.events.map((e) => e.eventName)).toEqual([
      'RecordAnchored',
      'RecordAnchored',
      'RecordAnchored',
    ])
    const record = await getRecord(chain.publicClient, { contract, id: batch[2]! })
    expect(record).toMatchObject({
      id: batch[2],
      patient: patient.address,
      kind: 'REPORT',
      unitIndex: 1,
      superseded: false,
    })
    expect(await getRecord(chain.publicClient, { contract, id: id() })).toBeNull()

    const rotated = id()
    const rot = await rotateRecord(patient.wallet, { contract, oldId: b, newId: rotated })
    expect(rot.id).toBe(rotated)
    expect((await getRecord(chain.publicClient, { contract, id: b }))?.superseded).toBe(true)
    expect(await getRecord(chain.publicClient, { contract, id: rotated })).toMatchObject({
      kind: 'MRI',
      superseded: false,
    })
  })

  it('grants by kinds, reads the grant and the access basis, revokes', async () => {
    const ct = id()
    const mri = id()
    await anchorRecords(unit.wallet, {
      contract,
      records: [
        { id: ct, patient: patient.address, uploader: uploader.address, kind: 'CT' },
        { id: mri, patient: patient.address, uploader: uploader.address, kind: 'MRI' },
      ],
    })
    const expiresAt = (await chain.now()) + 3600
    const granted = await grantAccess(patient.wallet, {
      contract,
      grantee: medic.address,
      scope: 'Kinds',
      kinds: ['CT'],
      expiresAt,
      download: true,
    })
    expect(granted.epoch).toBeGreaterThanOrEqual(1)
    expect(granted.events[0]).toMatchObject({ eventName: 'GrantSet' })
    // The packed `terms` word comes out split, under the field names of the grant.
    expect(granted.events[0]?.args).toEqual({
      patient: patient.address,
      grantee: medic.address,
      scope: 'Kinds',
      kindMask: 2,
      expiresAt,
      flags: 1,
      epoch: granted.epoch,
      keyBundle: zeroHash,
    })
    expect(
      await getGrant(chain.publicClient, { contract, patient: patient.address, grantee: medic.address }),
    ).toEqual({
      scope: 'Kinds',
      kindMask: 2,
      kinds: ['CT'],
      expiresAt,
      flags: 1,
      download: true,
      deidentifiedOnly: false,
      epoch: granted.epoch,
    })
    expect(await canAccess(chain.publicClient, { contract, grantee: medic.address, recordId: ct })).toBe(true)
    expect(
      await canAccessBatch(chain.publicClient, { contract, grantee: medic.address, recordIds: [ct, mri] }),
    ).toEqual([true, false])
    expect(
      await canAccessBatch(chain.publicClient, { contract, grantee: medic.address, recordIds: [] }),
    ).toEqual([])
    expect(await getAccess(chain.publicClient, { contract, grantee: medic.address, recordId: ct })).toEqual({
      allowed: true,
      download: true,
      deidentifiedOnly: false,
      until: expiresAt,
      basis: 'Grant',
    })
    expect(
      (await getAccess(chain.publicClient, { contract, grantee: unit.address, recordId: ct })).basis,
    ).toBe('Custodian')
    expect(
      (await getAccess(chain.publicClient, { contract, grantee: patient.address, recordId: ct })).basis,
    ).toBe('Patient')
    const records = await grantAccess(patient.wallet, {
      contract,
      grantee: medic.address,
      scope: 'Records',
      recordIds: [mri],
      expiresAt: new Date((expiresAt + 10) * 1000),
      deidentifiedOnly: true,
    })
    expect(records.events.map((e) => e.eventName)).toEqual(['GrantSet', 'GrantRecords'])
    // De-identified only: the listed original is refused, with the reason in the flag.
    expect(
      await canAccessBatch(chain.publicClient, { contract, grantee: medic.address, recordIds: [ct, mri] }),
    ).toEqual([false, false])
    expect(
      await getAccess(chain.publicClient, { contract, grantee: medic.address, recordId: mri }),
    ).toMatchObject({
      allowed: false,
      deidentifiedOnly: true,
    })
    const revoked = await revokeAccess(patient.wallet, { contract, grantee: medic.address })
    expect(revoked.events[0]).toMatchObject({ eventName: 'GrantRevoked', args: { epoch: records.epoch } })
    expect(
      (await getGrant(chain.publicClient, { contract, patient: patient.address, grantee: medic.address }))
        .scope,
    ).toBe('None')
  })

  it('de-identified copies: anchored for an audience with a grant, readable by it only', async () => {
    const source = id()
    await anchorRecord(unit.wallet, {
      contract,
      id: source,
      patient: patient.address,
      uploader: uploader.address,
      kind: 'CT',
    })
    const copy = id()
    const refused = await anchorDeidentifiedCopy(patient.wallet, {
      contract,
      id: copy,
      sourceId: source,
      audience: requestor.address,
    }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ContractCallError)
    expect((refused as ContractCallError).errorName).toBe('NoActiveGrant')
    await grantAccess(patient.wallet, {
      contract,
      grantee: requestor.address,
      scope: 'All',
      expiresAt: (await chain.now()) + 3600,
      download: false,
      deidentifiedOnly: true,
    })
    const made = await anchorDeidentifiedCopy(unit.wallet, {
      contract,
      id: copy,
      sourceId: source,
      audience: requestor.address,
    })
    expect(made.id).toBe(copy)
    expect(made.events).toMatchObject([
      {
        eventName: 'DeidentifiedCopyAnchored',
        args: { id: copy, sourceId: source, audience: requestor.address },
      },
    ])
    expect(await getRecord(chain.publicClient, { contract, id: copy })).toMatchObject({
      patient: patient.address,
      kind: 'CT',
      deidentified: true,
      superseded: false,
    })
    expect((await getRecord(chain.publicClient, { contract, id: source }))?.deidentified).toBe(false)
    expect(await getCopyAudience(chain.publicClient, { contract, id: copy })).toBe(requestor.address)
    expect(await getCopyAudience(chain.publicClient, { contract, id: source })).toBeNull()
    expect(
      await canAccessBatch(chain.publicClient, {
        contract,
        grantee: requestor.address,
        recordIds: [copy, source],
      }),
    ).toEqual([true, false])
    expect(
      await getAccess(chain.publicClient, { contract, grantee: requestor.address, recordId: source }),
    ).toMatchObject({
      allowed: false,
      deidentifiedOnly: true,
    })
  })

  it('access requests: request, approve (grant written), deny', async () => {
    const asked = await requestAccess(requestor.wallet, {
      contract,
      patient: patient.address,
      scope: 'Kinds',
      kinds: ['MRI', 'CT'],
      purpose: 'Research',
    })
    expect(asked.requestId).toBeGreaterThan(0n)
    expect(await getRequest(chain.publicClient, { contract, id: asked.requestId })).toMatchObject({
      id: asked.requestId,
      requestor: requestor.address,
      patient: patient.address,
      scope: 'Kinds',
      kindMask: 3,
      purpose: 'Research',
      status: 'Pending',
    })
    const approved = await approveRequest(patient.wallet, {
      contract,
      id: asked.requestId,
      expiresAt: (await chain.now()) + 600,
      deidentifiedOnly: true,
    })
    expect(approved.events.map((e) => e.eventName)).toEqual(['RequestApproved', 'GrantSet'])
    expect((await getRequest(chain.publicClient, { contract, id: asked.requestId })).status).toBe('Approved')
    const grant = await getGrant(chain.publicClient, {
      contract,
      patient: patient.address,
      grantee: requestor.address,
    })
    expect(grant).toMatchObject({
      scope: 'Kinds',
      kinds: ['MRI', 'CT'],
      deidentifiedOnly: true,
      download: false,
    })

    const again = await requestAccess(requestor.wallet, {
      contract,
      patient: patient.address,
      scope: 'All',
      purpose: 'Insurance',
    })
    await denyRequest(patient.wallet, { contract, id: again.requestId })
    expect((await getRequest(chain.publicClient, { contract, id: again.requestId })).status).toBe('Denied')
    expect((await getRequest(chain.publicClient, { contract, id: 9999n })).status).toBe('None')
  })

  it('emergencies: declare, read, end', async () => {
    const declared = await declareEmergency(medic.wallet, {
      contract,
      patient: patient.address,
      reasonCode: 3,
      durationSeconds: 900,
    })
    expect(declared.until).toBe((await chain.now()) + 900)
    expect(
      await getEmergency(chain.publicClient, { contract, medic: medic.address, patient: patient.address }),
    ).toEqual({
      until: declared.until,
      declaredAt: declared.until - 900,
      unitIndex: 1,
      reasonCode: 3,
    })
    await endEmergency(patient.wallet, { contract, medic: medic.address })
    expect(
      (await getEmergency(chain.publicClient, { contract, medic: medic.address, patient: patient.address }))
        .until,
    ).toBe(await chain.now())
    expect(
      await getEmergency(chain.publicClient, {
        contract,
        medic: requestor.address,
        patient: patient.address,
      }),
    ).toEqual({ until: 0, declaredAt: 0, unitIndex: 0, reasonCode: 0 })
  })
})

describe('errors', () => {
  it('a revert surfaces as a typed ContractCallError while simulating, and costs no gas', async () => {
    const x = id()
    await anchorRecord(uploader.wallet, {
      contract,
      id: x,
      patient: patient.address,
      uploader: uploader.address,
      kind: 'US',
    })
    const nonce = await chain.publicClient.getTransactionCount({ address: uploader.address })
    const balance = await chain.publicClient.getBalance({ address: uploader.address })
    const error = await anchorRecord(uploader.wallet, {
      contract,
      id: x,
      patient: patient.address,
      uploader: uploader.address,
      kind: 'US',
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ContractCallError)
    expect(error).toBeInstanceOf(BaseError)
    const e = error as ContractCallError
    expect(e.errorName).toBe('RecordExists')
    expect(e.args).toEqual([x])
    expect(e.shortMessage).toBe('A record with this id is already anchored')
    expect(e.code).toBe('RECORD_EXISTS')
    expect(e.functionName).toBe('anchorRecord')
    expect(await chain.publicClient.getTransactionCount({ address: uploader.address })).toBe(nonce)
    expect(await chain.publicClient.getBalance({ address: uploader.address })).toBe(balance)
  })

  it('maps errors with arguments and enum arguments', async () => {
    const error = (await revokeAccess(patient.wallet, { contract, grantee: unit.address }).catch(
      (e: unknown) => e,
    )) as ContractCallError
    expect(error.errorName).toBe('NoActiveGrant')
    expect(error.args).toEqual([patient.address, unit.address])
    const notPatient = (await requestAccess(requestor.wallet, {
      contract,
      patient: medic.address,
      scope: 'All',
      purpose: 'Treatment',
    }).catch((e: unknown) => e)) as ContractCallError
    expect(notPatient.errorName).toBe('NotApprovedParticipant')
    expect(notPatient.args).toEqual([medic.address, 2])
    expect(notPatient.code).toBe('NOT_APPROVED_PARTICIPANT')
  })

  it('every custom error in the ABI has a message', () => {
    const names = pcmimsAbi.filter((x) => x.type === 'error').map((x) => x.name)
    expect(Object.keys(pcmimsErrorMessages).sort()).toEqual([...names].sort())
  })

  it('leaves unrelated errors alone', () => {
    const plain = new Error('socket hang up')
    expect(toContractCallError(plain, 'grant')).toBe(plain)
  })

  it('rejects bad parameters before touching the chain', async () => {
    await expect(
      grantAccess(patient.wallet, {
        contract,
        grantee: medic.address,
        scope: 'Kinds',
        kinds: ['CT'],
        kindMask: 2,
        expiresAt: 1,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_PARAMETER' })
    await expect(anchorRecords(unit.wallet, { contract, records: [] })).rejects.toMatchObject({
      code: 'EMPTY_BATCH',
    })
  })

  it('honours an aborted signal', async () => {
    await expect(
      anchorRecord(uploader.wallet, {
        contract,
        id: id(),
        patient: patient.address,
        uploader: uploader.address,
        kind: 'CT',
        signal: AbortSignal.abort(),
      }),
    ).rejects.toThrow()
  })
})

describe('governance', () => {
  it('hands over in two steps; setUnitStatus; getGovernance', async () => {
    const governance = chain.walletClientFor(chain.governance)
    const next = await newParticipant(chain)
    await transferGovernance(governance, { contract, next: next.address })
    expect(await getGovernance(chain.publicClient, { contract })).toMatchObject({
      governance: chain.governance.address,
      pendingGovernance: next.address,
      unitCount: 1,
    })
    await acceptGovernance(next.wallet, { contract })
    const state = await getGovernance(chain.publicClient, { contract })
    expect(state).toMatchObject({ governance: next.address, pendingGovernance: null })
    expect(state.requestCount).toBeGreaterThanOrEqual(2n)
    const suspended = await setUnitStatus(next.wallet, { contract, unit: unit.address, status: 'Suspended' })
    expect(suspended.events[0]).toMatchObject({
      eventName: 'ParticipantStatusChanged',
      args: { status: 'Suspended' },
    })
    await setUnitStatus(next.wallet, { contract, unit: unit.address, status: 'Approved' })
    const stale = (await admitUnit(governance, {
      contract,
      unit: zeroAddress,
      encryptionKey: randomKey(),
    }).catch((e: unknown) => e)) as ContractCallError
    expect(stale.errorName).toBe('NotGovernance')
  })
})

describe('decodePcmimsLogs', () => {
  it('decodes a block range of contract events with enum names, skipping other contracts', async () => {
    const logs = await chain.publicClient.getLogs({ address: contract, fromBlock: 0n })
    const events = decodePcmimsLogs(logs, { address: contract })
    expect(events.length).toBe(logs.length)
    const names = new Set(events.map((e) => e.eventName))
    for (const n of [
      'GovernanceTransferred',
      'UnitAdmitted',
      'ParticipantRegistered',
      'RecordAnchored',
      'GrantSet',
    ]) {
      expect(names.has(n as never)).toBe(true)
    }
    const registered = events.find((e) => e.eventName === 'ParticipantRegistered')
    if (registered?.eventName !== 'ParticipantRegistered') throw new Error('unreachable')
    expect(['Patient', 'Uploader', 'Medic', 'Requestor']).toContain(registered.args.role)
    for (const e of events) {
      if (e.eventName !== 'GrantSet') continue
      expect(Object.keys(e.args)).toEqual([
        'patient',
        'grantee',
        'scope',
        'kindMask',
        'expiresAt',
        'flags',
        'epoch',
        'keyBundle',
      ])
      expect(e.args.epoch).toBeGreaterThan(0)
    }
    const elsewhere = decodePcmimsLogs(logs, { address: '0x0000000000000000000000000000000000000001' as Hex })
    expect(elsewhere).toEqual([])
  })
})
