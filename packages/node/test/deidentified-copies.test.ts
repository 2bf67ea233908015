import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  AccessDeniedError,
  closeRecord,
  createDeidentifiedCopy,
  createGrant,
  type DcmjsDataset,
  encryptRecordFile,
  generateDek,
  getChainTime,
  getEncryptionKey,
  listRecords,
  type NodeRequestError,
  openRecord,
  type PcmimsClient,
  PreconditionError,
  parseDicomFile,
  readRecordFile,
  requestAccess,
  respondToRequest,
  revokeAccess,
  rotateRecordKey,
  sealRecord,
  uploadDicomStudies,
  uploadRecord,
  writeDicomFile,
} from '@pcmims/core'
import { startTestNode, synthesizeStudy, type TestNode } from '@pcmims/test-utils'
import { type Hex, hexToBytes } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, FIXTURES, memoryFile } from './helpers.js'

// Distinctive PHI seeded into the study: at the top level, in a nested sequence and in a private group.
const PHI = {
  name: 'QZXPATIENT^SEEDED',
  id: 'QZXMRN7731',
  birthDate: '19410317',
  accession: 'QZXACC5521',
  description: 'QZXSTUDYDESC',
  referring: 'QZXREFERRER^DOC',
  series: 'QZXSERIESDESC',
  institution: 'QZXINSTITUTION',
  operator: 'QZXOPERATOR^ONE',
  nestedAccession: 'QZXNESTEDACC',
  nestedProcedure: 'QZXNESTEDPROC',
  privateCreator: 'QZXPRIVCREATOR',
  privateValue: 'QZXPRIVATEVALUE',
}
const SOURCE_DATE = '20230711'

/** A 4-slice CT with PHI everywhere the profile must reach, each slice referencing the one before. */
function seededStudy() {
  const study = synthesizeStudy({
    kind: 'CT',
    count: 4,
    rows: 32,
    columns: 32,
    seed: 'deid-copies',
    patient: { name: PHI.name, id: PHI.id, birthDate: PHI.birthDate, sex: 'F' },
    study: {
      accessionNumber: PHI.accession,
      description: PHI.description,
      referringPhysicianName: PHI.referring,
      studyDate: SOURCE_DATE,
    },
    seriesDescription: PHI.series,
  })
  const files = study.instances.map((instance, i) => {
    const { dataset } = parseDicomFile(instance.bytes, { fileName: instance.fileName })
    const seeded: DcmjsDataset = {
      ...dataset,
      '00080080': { vr: 'LO', Value: [PHI.institution] },
      '00081070': { vr: 'PN', Value: [{ Alphabetic: PHI.operator }] },
      '00400275': {
        vr: 'SQ',
        Value: [
          {
            '00080050': { vr: 'SH', Value: [PHI.nestedAccession] },
            '00401001': { vr: 'SH', Value: [PHI.nestedProcedure] },
          },
        ],
      },
      '00090010': { vr: 'LO', Value: [PHI.privateCreator] },
      '00091001': { vr: 'LO', Value: [PHI.privateValue] },
    }
    const previous = study.instances[i - 1]
    if (previous) {
      seeded['00081140'] = {
        vr: 'SQ',
        Value: [
          {
            '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
            '00081155': { vr: 'UI', Value: [previous.sopInstanceUid] },
          },
        ],
      }
    }
    return { name: instance.fileName, bytes: writeDicomFile({ dataset: seeded }) }
  })
  return { study, files }
}

async function readFiles(client: PcmimsClient, recordId: Hex) {
  const record = await openRecord(client, { recordId })
  try {
    const files: Uint8Array[] = []
    for (const file of record.manifest.files)
      files.push(await collect(readRecordFile(client, { record, file })))
    return { manifest: record.manifest, files }
  } finally {
    closeRecord(record)
  }
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1')
const first = (dataset: DcmjsDataset, tag: string) => dataset[tag]?.Value?.[0]

describe('de-identified copies for a requestor', () => {
  let t: TestNode
  let patient: PcmimsClient
  let uploader: PcmimsClient
  let requestor: PcmimsClient
  let medic: PcmimsClient
  let seeded: ReturnType<typeof seededStudy>
  let source: Hex
  let copy: Hex
  let contract: `0x${string}`

  beforeAll(async () => {
    t = await startTestNode()
    patient = await t.clientFor(t.dev.patient!)
    uploader = await t.clientFor(t.dev.uploader!)
    requestor = await t.clientFor(t.dev.requestor!)
    medic = await t.clientFor(t.dev.medic!)
    contract = patient.config.contract
    seeded = seededStudy()
    const [uploaded] = await uploadDicomStudies(uploader, {
      patient: t.dev.patient!.account.address,
      files: seeded.files.map((f) => memoryFile(f.name, f.bytes)),
      waitForAnchor: true,
    })
    source = uploaded!.recordId
    // The requestor asks; the patient approves de-identified copies only (with download).
    const ask = await requestAccess(requestor.walletClient, {
      contract,
      patient: t.dev.patient!.account.address,
      scope: 'All',
      purpose: 'Research',
    })
    await respondToRequest(patient, {
      requestId: ask.requestId,
      approve: true,
      deidentifiedOnly: true,
      download: true,
    })
  }, 120_000)
  afterAll(async () => {
    await t?.stop()
  })

  it('the patient makes a copy; it is anchored as a de-identified record for the requestor', async () => {
    const made = await createDeidentifiedCopy(patient, {
      recordId: source,
      audience: t.dev.requestor!.account.address,
    })
    expect(made).toMatchObject({ sourceId: source, status: 'confirmed', instances: 4, held: [] })
    copy = made.recordId
    expect(copy).not.toBe(source)
    const listed = await listRecords(requestor, { patient: t.dev.patient!.account.address })
    // The requestor sees its copy, never the original.
    expect(listed.map((r) => r.id)).toEqual([copy])
    expect(listed[0]).toMatchObject({
      kind: 'CT',
      deidentifiedFrom: source,
      audience: t.dev.requestor!.account.address,
    })
    // The anchor is in the audit trail, by the patient, as a copy (the indexer audits it once).
    const audited = t.node.context.db
      .prepare(`SELECT entry FROM audit_entries WHERE record_id = ? AND action = 'record.anchor'`)
      .all(copy) as Array<{ entry: string }>
    expect(audited.map((a) => JSON.parse(a.entry))).toEqual([
      expect.objectContaining({ detail: 'deidentified-copy', actorRole: 'patient', source: 'chain' }),
    ])
  })

  it('the requestor reads the copy: no seeded PHI in any byte, UIDs new and consistent', async () => {
    const { manifest, files } = await readFiles(requestor, copy)
    expect(files).toHaveLength(4)
    expect(manifest.patient).toEqual({ address: t.dev.patient!.account.address })
    expect([manifest.appointment, manifest.description, manifest.date]).toEqual([undefined, undefined, ''])
    expect(manifest.study?.patient).toEqual({})
    const originalUids = [
      seeded.study.studyInstanceUid,
      seeded.study.seriesInstanceUid,
      ...seeded.study.instances.map((i) => i.sopInstanceUid),
    ]
    const forbidden = [...Object.values(PHI), SOURCE_DATE, ...originalUids]
    for (const [i, bytes] of files.entries()) {
      const scanned = text(bytes)
      for (const value of forbidden)
        expect(scanned.includes(value), `copy file ${i} holds ${value}`).toBe(false)
    }
    const manifestText = JSON.stringify(manifest)
    for (const value of forbidden) expect(manifestText.includes(value), `manifest holds ${value}`).toBe(false)

    const datasets = files.map((bytes, i) => parseDicomFile(bytes, { fileName: `copy-${i}` }).dataset)
    const studyUids = new Set(datasets.map((d) => first(d, '0020000D')))
    const seriesUids = new Set(datasets.map((d) => first(d, '0020000E')))
    expect(studyUids.size).toBe(1)
    expect(seriesUids.size).toBe(1)
    expect(manifest.study?.studyInstanceUid).toBe([...studyUids][0])
    const sopUids = new Set(datasets.map((d) => first(d, '00080018') as string))
    expect(sopUids.size).toBe(4)
    let references = 0
    for (const d of datasets) {
      expect(first(d, '00120062')).toBe('YES') // Patient Identity Removed
      const item = first(d, '00081140') as DcmjsDataset | undefined
      if (!item) continue
      references++
      // Each slice's reference to the previous one points at that slice's new UID.
      expect(sopUids.has(first(item, '00081155') as string)).toBe(true)
    }
    expect(references).toBe(3)

    // Download allowed by the grant: the custodian serves the copy decrypted too, the same bytes.
    const decrypted = await requestor.node.raw('GET', `/api/v1/records/${copy}/decrypted/files/0`)
    expect(new Uint8Array(await decrypted.arrayBuffer())).toEqual(files[0])
  })

  it('the requestor cannot read the original: neither its key nor a decrypted copy nor its ciphertext', async () => {
    const refused = await openRecord(requestor, { recordId: source }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(AccessDeniedError)
    expect((refused as AccessDeniedError).code).toBe('DEIDENTIFIED_ONLY')
    for (const path of [`/api/v1/records/${source}`, `/api/v1/records/${source}/decrypted`]) {
      const error = await requestor.node.raw('GET', path).catch((e: unknown) => e)
      expect((error as NodeRequestError).status, path).toBe(403)
      expect((error as NodeRequestError).code, path).toBe('DEIDENTIFIED_ONLY')
    }
    const { manifest } = await readFiles(patient, source)
    const blob = await requestor.node
      .raw('GET', `/api/v1/records/${source}/blobs/${manifest.files[0]!.cid}`)
      .catch((e: unknown) => e)
    expect((blob as NodeRequestError).status).toBe(403)
  })

  it('another grantee (a medic with scope All and download) reads the original, never the copy', async () => {
    await createGrant(patient, {
      grantee: t.dev.medic!.account.address,
      expiresAt: (await getChainTime(patient.publicClient)) + 3600,
      download: true,
    })
    const original = await readFiles(medic, source)
    expect(original.files).toHaveLength(4)
    const refused = await openRecord(medic, { recordId: copy }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(AccessDeniedError)
    for (const path of [`/api/v1/records/${copy}`, `/api/v1/records/${copy}/decrypted`]) {
      const error = await medic.node.raw('GET', path).catch((e: unknown) => e)
      expect((error as NodeRequestError).status, path).toBe(403)
    }
    const listed = await listRecords(medic, { patient: t.dev.patient!.account.address })
    expect(listed.map((r) => r.id)).toContain(source)
    expect(listed.map((r) => r.id)).not.toContain(copy)
  })

  it('the node refuses copies that are not the patient’s, keep PHI in the manifest, or add recipients', async () => {
    const dek = generateDek()
    const store = async (ciphertext: AsyncIterable<Uint8Array>) => {
      const chunks: Uint8Array[] = []
      for await (const chunk of ciphertext) chunks.push(chunk)
      const response = await patient.node.raw('POST', '/api/v1/blobs', {
        body: Buffer.concat(chunks),
        contentType: 'application/octet-stream',
      })
      return (await response.json()) as { cid: string; size: number }
    }
    const file = await encryptRecordFile({
      dek,
      path: 'series-001/00001.dcm',
      mediaType: 'application/dicom',
      plaintext: (async function* () {
        yield seeded.files[0]!.bytes
      })(),
      store,
    })
    const key = async (account: `0x${string}`) =>
      hexToBytes(await getEncryptionKey(patient.publicClient, { contract, account }))
    const me = t.dev.patient!.account.address
    const audience = t.dev.requestor!.account.address
    const recipients = [
      { address: me, role: 'patient' as const, publicKey: patient.encryptionKeyPair.publicKey },
      { address: patient.config.unit, role: 'custodian' as const, publicKey: await key(patient.config.unit) },
      { address: audience, role: 'grantee' as const, publicKey: await key(audience) },
    ]
    const submit = async (options: { patientName?: string; extra?: boolean; as?: PcmimsClient }) => {
      const sealed = await sealRecord({
        dek,
        chainId: patient.config.chainId,
        contract,
        unit: patient.config.unit,
        uploader: me,
        patient: me,
        kind: 'CT',
        files: [file],
        recipients: options.extra
          ? [
              ...recipients,
              {
                address: t.dev.medic!.account.address,
                role: 'grantee' as const,
                publicKey: await key(t.dev.medic!.account.address),
              },
            ]
          : recipients,
        date: '',
        patientName: options.patientName,
        study: {
          type: 'pcmims/dicom-study',
          studyInstanceUid: '2.25.1',
          patient: {},
          modalities: ['CT'],
          numberOfSeries: 1,
          numberOfInstances: 1,
          series: [
            { seriesInstanceUid: '2.25.2', instances: [{ sopInstanceUid: '2.25.3', path: file.path }] },
          ],
        },
        store: (ciphertext) => store(ciphertext),
      })
      const body = {
        envelope: Buffer.from(sealed.envelopeBytes).toString('base64'),
        blobs: sealed.blobs,
        audience,
      }
      return (options.as ?? patient).node
        .json('POST', `/api/v1/records/${source}/deidentified-copies`, { body })
        .catch((e: unknown) => e as NodeRequestError)
    }
    const withPhi = (await submit({ patientName: PHI.name })) as NodeRequestError
    expect([withPhi.status, withPhi.code]).toEqual([400, 'COPY_NOT_DEIDENTIFIED'])
    const widened = (await submit({ extra: true })) as NodeRequestError
    expect(widened.status).toBe(400)
    expect(widened.message).toMatch(/patient, the custodian and the audience only/)
    // An uploader replaying the patient's submission: not the patient (and not its blobs).
    const other = (await submit({ as: uploader })) as NodeRequestError
    expect([400, 403]).toContain(other.status)
  })

  it('reports cannot be de-identified automatically: refused, nothing stored', async () => {
    const report = await uploadRecord(uploader, {
      patient: t.dev.patient!.account.address,
      kind: 'REPORT',
      files: [
        memoryFile(
          'report.json',
          new TextEncoder().encode('{"resourceType":"DiagnosticReport"}'),
          'application/fhir+json',
        ),
      ],
      waitForAnchor: true,
    })
    const refused = await createDeidentifiedCopy(patient, {
      recordId: report.recordId,
      audience: t.dev.requestor!.account.address,
    }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(PreconditionError)
    expect((refused as PreconditionError).code).toBe('NOT_DEIDENTIFIABLE')
  })

  it('XA_angio_jpegll.dcm (JPEG lossless; dcmjs alone cannot read it) is copied through the hardened reader', async () => {
    const bytes = new Uint8Array(await readFile(join(FIXTURES, 'valid', 'XA_angio_jpegll.dcm')))
    const [xa] = await uploadDicomStudies(uploader, {
      patient: t.dev.patient!.account.address,
      files: [memoryFile('XA_angio_jpegll.dcm', bytes)],
      waitForAnchor: true,
    })
    const made = await createDeidentifiedCopy(patient, {
      recordId: xa!.recordId,
      audience: t.dev.requestor!.account.address,
    })
    expect(made.instances).toBe(1)
    const { files } = await readFiles(requestor, made.recordId)
    const original = parseDicomFile(bytes).dataset
    const copied = parseDicomFile(files[0]!).dataset
    expect(first(copied, '00120062')).toBe('YES')
    expect(first(copied, '0020000D')).not.toBe(first(original, '0020000D'))
    // The JPEG lossless frames are carried byte for byte.
    const frames = (d: DcmjsDataset) => (d['7FE00010']?.Value ?? []).map((f) => Buffer.from(f as ArrayBuffer))
    expect(frames(copied)).toHaveLength(4)
    expect(frames(copied)).toEqual(frames(original))
  })

  it('images that may carry burned-in text are held back unless the patient includes them', async () => {
    const bytes = new Uint8Array(await readFile(join(FIXTURES, 'valid', 'SC_rgb_rle.dcm')))
    const [sc] = await uploadDicomStudies(uploader, {
      patient: t.dev.patient!.account.address,
      files: [memoryFile('SC_rgb_rle.dcm', bytes)],
      waitForAnchor: true,
    })
    const held = await createDeidentifiedCopy(patient, {
      recordId: sc!.recordId,
      audience: t.dev.requestor!.account.address,
    }).catch((e: unknown) => e)
    expect(held).toBeInstanceOf(PreconditionError)
    expect((held as PreconditionError).code).toBe('NOTHING_TO_COPY')
    expect((held as PreconditionError).details).toMatch(/series-001\/00001\.dcm: burned-in/)
    const made = await createDeidentifiedCopy(patient, {
      recordId: sc!.recordId,
      audience: t.dev.requestor!.account.address,
      includeBurnedIn: true,
    })
    expect([made.instances, made.held]).toEqual([1, []])
  })

  it('a rotated copy stays a copy for the same requestor, keyed for it alone', async () => {
    const rotated = await rotateRecordKey(patient, { recordId: copy })
    expect(rotated.status).toBe('confirmed')
    const opened = await openRecord(requestor, { recordId: rotated.recordId })
    try {
      expect(opened.envelope.recipients.map((r) => [r.role, r.address])).toEqual([
        ['patient', t.dev.patient!.account.address],
        ['custodian', patient.config.unit],
        ['grantee', t.dev.requestor!.account.address],
      ])
    } finally {
      closeRecord(opened)
    }
    await expect(openRecord(medic, { recordId: rotated.recordId })).rejects.toBeInstanceOf(AccessDeniedError)
    const listed = await listRecords(requestor, { patient: t.dev.patient!.account.address })
    expect(listed.map((r) => [r.id, r.deidentifiedFrom])).toContainEqual([rotated.recordId, source])
    expect(listed.map((r) => r.id)).not.toContain(copy)
    copy = rotated.recordId
  })

  it('a copy whose audience loses its grant before the anchor fails alone; the queue goes on', async () => {
    const outbox = t.node.context.outbox
    await outbox.stop()
    let pending: Awaited<ReturnType<typeof createDeidentifiedCopy>>
    try {
      pending = await createDeidentifiedCopy(patient, {
        recordId: source,
        audience: t.dev.medic!.account.address,
        waitForAnchor: false,
      })
      expect(pending.status).toBe('queued')
      await revokeAccess(patient.walletClient, { contract, grantee: t.dev.medic!.account.address })
    } finally {
      outbox.start()
    }
    const failed = await outbox.waitFor(pending.recordId, 60_000)
    expect(failed.state).toBe('failed')
    expect(failed.lastError).toMatch(/grant/i)
    const after = await uploadRecord(uploader, {
      patient: t.dev.patient!.account.address,
      kind: 'MRI',
      files: [memoryFile('after.bin', new Uint8Array(1000).fill(7), 'application/octet-stream')],
      waitForAnchor: true,
    })
    expect(after.status).toBe('confirmed')
  })

  it('after the patient revokes the requestor’s grant, the copy is refused', async () => {
    await revokeAccess(patient.walletClient, { contract, grantee: t.dev.requestor!.account.address })
    const refused = await openRecord(requestor, { recordId: copy }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(AccessDeniedError)
    for (const path of [`/api/v1/records/${copy}`, `/api/v1/records/${copy}/decrypted/files/0`]) {
      const error = await requestor.node.raw('GET', path).catch((e: unknown) => e)
      expect((error as NodeRequestError).status, path).toBe(403)
    }
    // And no new copy can be made for it.
    const again = await createDeidentifiedCopy(patient, {
      recordId: source,
      audience: t.dev.requestor!.account.address,
    }).catch((e: unknown) => e)
    expect((again as PreconditionError).code).toBe('NO_ACTIVE_GRANT')
  })
})
