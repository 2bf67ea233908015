import { createHash } from 'node:crypto'
import {
  createGrant,
  declareEmergency,
  decodePcmimsLogs,
  getChainTime,
  listRecords,
  type PcmimsClient,
  type PcmimsEventName,
  requestAccess,
  respondToRequest,
  revokeAccess,
  rotateRecordKey,
  uploadRecord,
} from '@pcmims/core'
import { startTestNode, type TestNode } from '@pcmims/test-utils'
import fc from 'fast-check'
import { type Address, type Hex, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readDicomIdentifiers } from './dicom-tags.js'
import { memoryFile, validFixtures } from './helpers.js'
import {
  type ArtifactClass,
  base64Cores,
  type ChainArtifacts,
  collectChainArtifacts,
  type Hit,
  type Needle,
  nameForms,
  needlesFor,
  scan,
} from './phi-scan.js'

// DESIGN principle 1: a whole scenario with distinctive identifiers, then every transaction, receipt,
// log and storage slot of the chain is searched for them in every encoding we can think of. Positive
// controls prove the scanner finds what IS on chain, so an empty result means something.

type Phi = { value: string; forms?: string[] }

const SYNTHETIC = [
  {
    patientName: 'Zebulon Quarkwright',
    patientMrn: 'MRN-77Q-5521',
    appointment: 'APPT-KX-90817',
    description: 'Left femur fracture follow-up',
    date: '2031-04-17',
  },
  {
    patientName: 'Ottoline Vexbury-Santos',
    patientMrn: 'MRN-31X-0094',
    appointment: 'APPT-ZR-44120',
    description: 'Suspected pulmonary embolism, CT angiography',
    date: '2030-11-02',
  },
  {
    // Non-ASCII: UTF-8, UTF-16 and Latin-1 differ, and case folding is not ASCII-only.
    patientName: 'Zoë Ångström-Nuñez',
    patientMrn: 'MRN-ÅØ-77310',
    appointment: 'RDV-IRM-55817',
    description: 'Contrôle IRM genou gauche après ménisectomie',
    date: '2029-02-28',
  },
] as const

/** Distinctive pieces that would still identify if stored alone (a truncated name, the MRN's digits). */
const FRAGMENTS = [
  'Quarkwright',
  'Zebulon',
  '77Q-5521',
  'KX-90817',
  'femur fracture',
  'Vexbury',
  'Ottoline',
  '31X-0094',
  'ZR-44120',
  'pulmonary embolism',
  'Ångström',
  'Nuñez',
  'IRM-55817',
  'ménisectomie',
  '2031-04-17',
  '20310417',
]

const DICOM_UPLOADS = [
  { name: 'CT_small.dcm', kind: 'CT' },
  { name: 'SC_rgb_rle.dcm', kind: 'OTHER' },
  { name: 'XA_angio_jpegll.dcm', kind: 'XRAY' },
  { name: 'liver_1frame.dcm', kind: 'OTHER' },
  { name: 'test-SR.dcm', kind: 'REPORT' },
] as const

/** Short DICOM values ("ID1", "1CT1") would match by chance in bytecode; six bytes is distinctive. */
const MIN_PHI_LENGTH = 6

describe('no PHI on chain, in any encoding', () => {
  let t: TestNode
  let patient: PcmimsClient
  let chain: ChainArtifacts
  const phi: Phi[] = []
  const recordIds: Hex[] = []
  const envelopes = new Map<Hex, Uint8Array>()
  const seconds: Record<string, number> = {}

  beforeAll(async () => {
    let started = Date.now()
    t = await startTestNode()
    const uploader = await t.clientFor(t.dev.uploader!)
    patient = await t.clientFor(t.dev.patient!)
    const medic = await t.clientFor(t.dev.medic!)
    const requestor = await t.clientFor(t.dev.requestor!)
    const contract = patient.config.contract
    const patientAddress = t.dev.patient!.account.address
    const fixtures = new Map((await validFixtures()).map((f) => [f.name, f.bytes]))

    const upload = async (params: Omit<Parameters<typeof uploadRecord>[1], 'patient'>) => {
      const result = await uploadRecord(uploader, { patient: patientAddress, ...params })
      recordIds.push(result.recordId)
      return result
    }

    // 1. Synthetic patients: identifiers in the manifest, in file names, and inside the files.
    for (const [i, s] of SYNTHETIC.entries()) {
      const report = new TextEncoder().encode(
        `Patient: ${s.patientName}\nMRN: ${s.patientMrn}\nAppointment: ${s.appointment}\n${s.description}\n`,
      )
      const family = s.patientName.split(' ').at(-1) as string
      await upload({
        kind: i === 0 ? 'MRI' : i === 1 ? 'CT' : 'REPORT',
        files: [
          memoryFile(`${family}/IM0001.dcm`, fixtures.get('MR_small.dcm')!),
          memoryFile(`${family}/${s.appointment}-report.txt`, report, 'text/plain'),
        ],
        patientName: s.patientName,
        patientMrn: s.patientMrn,
        appointment: s.appointment,
        description: s.description,
        date: s.date,
        // One goes through the outbox without waiting: its anchor is sent later, by the node alone.
        waitForAnchor: i !== 1,
      })
      phi.push(
        { value: s.patientName, forms: nameForms(s.patientName) },
        { value: s.patientMrn },
        { value: s.appointment },
        { value: s.description },
      )
    }
    for (const fragment of FRAGMENTS) phi.push({ value: fragment })

    // 2. Real DICOM files, with their own identifiers copied into the manifest as an importer would.
    for (const { name, kind } of DICOM_UPLOADS) {
      const bytes = fixtures.get(name)
      if (!bytes) throw new Error(`missing fixture ${name}`)
      const ids = readDicomIdentifiers(bytes)
      expect(ids.patientName, name).toBeDefined()
      await upload({
        kind,
        files: [memoryFile(`${ids.patientName}/${name}`, bytes)],
        patientName: ids.patientName,
        patientMrn: ids.patientId,
        appointment: ids.accessionNumber,
        description: ids.studyDescription,
      })
      for (const value of Object.values(ids)) {
        if (value.length < MIN_PHI_LENGTH) continue
        phi.push(value.includes('^') ? { value, forms: nameForms(value) } : { value })
      }
    }
    const fixtureNames = phi.map((p) => p.value)
    for (const expected of [
      'CompressedSamples^CT1',
      'Lestrade^G',
      'Paciente de prueba',
      'JANCT000',
      '03086212',
    ])
      expect(fixtureNames).toContain(expected)
    seconds.uploads = (Date.now() - started) / 1000

    // 3. Consent: a kinds grant to the medic, an upload under that standing grant, a revoke.
    started = Date.now()
    const now = await getChainTime(patient.publicClient)
    await createGrant(patient, {
      grantee: t.dev.medic!.account.address,
      kinds: ['CT', 'MRI'],
      expiresAt: now + 7 * 86400,
      download: true,
    })
    const standing = await upload({
      kind: 'CT',
      files: [memoryFile('Quarkwright/CT_small.dcm', fixtures.get('CT_small.dcm')!)],
      patientName: SYNTHETIC[0].patientName,
      patientMrn: SYNTHETIC[0].patientMrn,
      appointment: `${SYNTHETIC[0].appointment}-B`,
      description: `${SYNTHETIC[0].description} (second visit)`,
    })
    expect(standing.recipients.map((r) => r.role)).toContain('grantee')
    await revokeAccess(patient.walletClient, { contract, grantee: t.dev.medic!.account.address })

    // 4. A research request, approved by the patient (grant with a key bundle).
    const request = await requestAccess(requestor.walletClient, {
      contract,
      patient: patientAddress,
      scope: 'All',
      purpose: 'Research',
    })
    await respondToRequest(patient, { requestId: request.requestId, approve: true, deidentifiedOnly: true })

    // 5. Break-glass by the medic.
    await declareEmergency(medic.walletClient, {
      contract,
      patient: patientAddress,
      reasonCode: 7,
      durationSeconds: 3600,
    })

    // 6. Full revocation of the first record: re-encrypted and re-anchored.
    const rotated = await rotateRecordKey(patient, { recordId: recordIds[0]! })
    expect(rotated.status).toBe('confirmed')
    recordIds.push(rotated.recordId)
    seconds.consent = (Date.now() - started) / 1000

    // Everything the outbox holds is on chain before we look.
    const deadline = Date.now() + 30_000
    while (t.node.context.outbox.counts().queued + t.node.context.outbox.counts().submitted > 0) {
      if (Date.now() > deadline) throw new Error('the outbox did not drain')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(t.node.context.outbox.counts().failed).toBe(0)

    for (const id of recordIds) {
      const answer = await patient.node
        .json<{ envelope: string }>('GET', `/api/v1/records/${id}`)
        .catch(() => undefined)
      if (answer) envelopes.set(id, new Uint8Array(Buffer.from(answer.envelope, 'base64')))
    }

    started = Date.now()
    chain = await collectChainArtifacts((method, params) => t.rpc(method, params) as never)
    seconds.collect = (Date.now() - started) / 1000
  })

  afterAll(async () => {
    await t?.stop()
    console.info(`phi-scan timings (s): ${JSON.stringify(seconds)}`)
  })

  it('ran the whole scenario on chain', async () => {
    const logs = await patient.publicClient.getLogs({
      address: patient.config.contract,
      fromBlock: 0n,
      toBlock: 'latest',
    })
    const names = new Set<PcmimsEventName>(decodePcmimsLogs(logs).map((e) => e.eventName))
    for (const name of [
      'RecordAnchored',
      'RecordRotated',
      'GrantSet',
      'GrantRevoked',
      'AccessRequested',
      'RequestApproved',
      'EmergencyDeclared',
    ] as const) {
      expect(names, name).toContain(name)
    }
    const anchored = decodePcmimsLogs(logs).filter((e) => e.eventName === 'RecordAnchored')
    expect(anchored.length).toBeGreaterThanOrEqual(SYNTHETIC.length + DICOM_UPLOADS.length + 1)
    const listed = await listRecords(patient)
    expect(listed.length).toBe(SYNTHETIC.length + DICOM_UPLOADS.length + 1)
    expect(chain.transactions).toBeGreaterThan(15)
  })

  it('the state dump really holds the contract storage (the scan is not vacuous)', () => {
    const contract = patient.config.contract.toLowerCase()
    const account = Object.entries(chain.state.accounts).find(([a]) => a.toLowerCase() === contract)?.[1]
    expect(account, 'contract in anvil_dumpState').toBeDefined()
    expect(account!.code.length).toBeGreaterThan(1000)
    const slots = Object.keys(account!.storage)
    // At least one slot per record, plus participants and grants.
    expect(slots.length).toBeGreaterThan(recordIds.length + 6)
    const storage = chain.artifacts.filter((a) => a.kind === 'storage' && a.where.startsWith(contract))
    expect(storage.length).toBeGreaterThanOrEqual(slots.length)
    expect(storage.some((a) => a.bytes.some((b) => b !== 0))).toBe(true)
  })

  it('positive controls: the scanner finds what is on chain', () => {
    const patientAddress = Buffer.from(t.dev.patient!.account.address.slice(2), 'hex')
    const found = (needles: Needle[], kinds: ArtifactClass[]) => {
      const hits = scan(
        chain.artifacts.filter((a) => kinds.includes(a.kind)),
        needles,
      )
      return new Set(hits.map((h) => h.kind))
    }
    const raw = (value: string, bytes: Uint8Array): Needle => ({
      value,
      encoding: 'raw',
      bytes: Buffer.from(bytes),
    })
    // The patient's address: a transaction argument, an indexed event topic, and packed into a record's slot.
    expect(found([raw('patient', patientAddress)], ['tx', 'logs', 'storage'])).toEqual(
      new Set(['tx', 'logs', 'storage']),
    )
    // A record id: in the anchoring transaction's input and in its event.
    const id = Buffer.from(recordIds[2]!.slice(2), 'hex')
    expect(found([raw('record id', id)], ['tx', 'logs', 'receipt'])).toEqual(
      new Set(['tx', 'logs', 'receipt']),
    )
    // Hash encodings against real data: a record id is the SHA-256 of its envelope...
    const envelope = envelopes.get(recordIds[2]!)
    expect(envelope).toBeDefined()
    const envelopeDigest = createHash('sha256').update(envelope!).digest()
    expect(found([raw('envelope sha256[0:16]', envelopeDigest.subarray(0, 16))], ['logs'])).toEqual(
      new Set(['logs']),
    )
    // ...and an event's topic 0 is the keccak-256 of its signature text.
    const signature = 'RecordAnchored(bytes32,address,address,uint8,uint32)'
    const keccakNeedles = needlesFor(signature).filter((n) =>
      n.encoding.startsWith(`keccak256(utf8 "${signature}")`),
    )
    expect(keccakNeedles).toHaveLength(2)
    expect(found(keccakNeedles, ['logs'])).toEqual(new Set(['logs']))
    // Text: the compiler's metadata ("solc") is in the deployment input and in the contract's code.
    const solc = needlesFor('solc').filter((n) => n.encoding === 'utf8 "solc"')
    expect(found(solc, ['tx', 'dump'])).toEqual(new Set(['tx', 'dump']))
  })

  it('positive controls: every encoding of a canary planted in a transaction, a log and storage is found', async () => {
    const canary = 'Canary Pelluciwhistle'
    const needles = needlesFor(canary, { forms: nameForms(canary) })
    const payload = Buffer.concat(needles.map((n) => n.bytes))
    const [sender] = (await t.rpc('eth_accounts')) as Address[]
    // A contract whose code logs its calldata (CALLDATASIZE 0 0 CALLDATACOPY, CALLDATASIZE 0 LOG0, STOP).
    const logger = '0x00000000000000000000000000000000c0ffee01'
    await t.rpc('anvil_setCode', [logger, '0x366000600037366000a000'])
    const hash = (await t.rpc('eth_sendTransaction', [
      { from: sender, to: logger, data: toHex(payload), gas: toHex(5_000_000) },
    ])) as Hex
    // anvil answers eth_sendTransaction before it mines: wait for the receipt.
    type Receipt = { status: string; logs: unknown[] }
    const waitForReceipt = async (): Promise<Receipt> => {
      for (let i = 0; i < 100; i++) {
        const found = (await t.rpc('eth_getTransactionReceipt', [hash])) as Receipt | null
        if (found) return found
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error('the canary transaction was not mined')
    }
    const receipt = await waitForReceipt()
    expect(receipt.status).toBe('0x1')
    expect(receipt.logs).toHaveLength(1)
    // Storage: the same bytes across consecutive slots of another account.
    const vault = '0x00000000000000000000000000000000c0ffee02'
    for (let i = 0; i * 32 < payload.length; i++) {
      const word = Buffer.alloc(32)
      payload.copy(word, 0, i * 32, Math.min(payload.length, i * 32 + 32))
      await t.rpc('anvil_setStorageAt', [vault, toHex(100 + i, { size: 32 }), toHex(word)])
    }
    const planted = await collectChainArtifacts((method, params) => t.rpc(method, params) as never)
    for (const kind of ['tx', 'logs', 'storage'] as const) {
      const hits = scan(
        planted.artifacts.filter((a) => a.kind === kind),
        needles,
      )
      const missing = needles.filter((n) => !hits.some((h) => h.encoding === n.encoding))
      expect(
        missing.map((n) => n.encoding),
        `${kind}: encodings the scanner missed`,
      ).toEqual([])
    }
  })

  it('no name, MRN, appointment, description or DICOM identifier is on chain, in any encoding', () => {
    const needles = phi.flatMap((p) => needlesFor(p.value, p.forms ? { forms: p.forms } : {}))
    expect(phi.length).toBeGreaterThan(30)
    expect(needles.length).toBeGreaterThan(5000)
    const started = Date.now()
    const hits = scan(chain.artifacts, needles)
    seconds.scan = (Date.now() - started) / 1000
    seconds.artifactBytes = chain.artifacts.reduce((n, a) => n + a.bytes.length, 0)
    seconds.needles = needles.length
    expect(hits.map(describeHit)).toEqual([])
  })
})

describe('the scanner itself', () => {
  it('finds a value base64-encoded at any alignment inside longer data', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 12 }),
        fc.uint8Array({ maxLength: 12 }),
        fc.string({ minLength: 6, maxLength: 40 }),
        (before, after, text) => {
          const utf8 = Buffer.from(text, 'utf8')
          const encoded = Buffer.concat([before, utf8, after]).toString('base64')
          const hits = scan(
            [{ kind: 'tx', where: 'synthetic', bytes: Buffer.from(encoded, 'latin1') }],
            needlesFor(text).filter((n) => n.encoding.startsWith('base64[')),
          )
          return base64Cores(utf8).length === 3 && hits.length > 0
        },
      ),
    )
  })

  it('finds every encoding of a value at any offset of a larger artifact, and nothing in unrelated data', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.string({ minLength: 6, maxLength: 30 }),
        (before, after, text) => {
          const needles = needlesFor(text, { forms: nameForms(text) })
          const artifacts = needles.map((n, i) => ({
            kind: 'storage' as const,
            where: String(i),
            bytes: Buffer.concat([before, n.bytes, after]),
          }))
          const hits = scan(artifacts, needles)
          const found = new Set(hits.map((h) => h.encoding))
          return needles.every((n) => found.has(n.encoding))
        },
      ),
      { numRuns: 30 },
    )
    const unrelated = needlesFor('Zebulon Quarkwright', { forms: nameForms('Zebulon Quarkwright') })
    const noise = [
      {
        kind: 'tx' as const,
        where: 'noise',
        bytes: Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(65536))),
      },
    ]
    expect(scan(noise, unrelated)).toEqual([])
  })
})

function describeHit(hit: Hit): string {
  return `${hit.encoding} of "${hit.value}" in ${hit.kind}: ${hit.where} @${hit.offset}`
}
