import { type Address, getAddress, type Hex, hexToBytes } from 'viem'
import { getEncryptionKey } from '../chain/get-encryption-key.js'
import { getGrant } from '../chain/get-grant.js'
import { getParticipant } from '../chain/get-participant.js'
import { generateDek } from '../crypto/generate-dek.js'
import type { HoldReason } from '../dicom/deidentify/burned-in-annotation.js'
import { deidentifyStudy } from '../dicom/deidentify/deidentify-study.js'
import { DicomParseError } from '../dicom/errors.js'
import { extractInstanceMetadata } from '../dicom/metadata/extract-instance-metadata.js'
import { parseDicomFile } from '../dicom/parse/parse-dicom-file.js'
import { groupIntoStudies } from '../dicom/study/group-into-studies.js'
import { type StudyManifest, toStudyManifest } from '../dicom/study/study-manifest.js'
import type { ManifestFile } from '../records/manifest.js'
import { encryptRecordFile, type StoreCiphertext, sealRecord } from '../records/seal-record.js'
import { getChainTime } from './chain-time.js'
import { PreconditionError } from './errors.js'
import { iterableToStream } from './node-client.js'
import { closeRecord, type OpenedRecord, openRecord } from './open-record.js'
import type { PcmimsClient } from './pcmims-client.js'
import { readRecordFile } from './read-record-file.js'
import { storeBlob, toBase64 } from './upload-record.js'

export type CreateDeidentifiedCopyParameters = {
  /** The patient's own DICOM study record to copy. */
  recordId: Hex
  /** The requestor the copy is for: an approved participant the patient grants access to now. */
  audience: Address
  /** Include images that may show burned-in text (Burned In Annotation = YES, or a SOP class that usually does). */
  includeBurnedIn?: boolean | undefined
  /** Include images with Recognizable Visual Features = YES. */
  includeRecognizableVisualFeatures?: boolean | undefined
  /** Largest instance read (default 1 GiB). */
  maxInstanceBytes?: number | undefined
  waitForAnchor?: boolean | undefined
  signal?: AbortSignal | undefined
  onProgress?:
    | ((progress: { stage: 'read' | 'deidentify' | 'store'; done: number; total: number }) => void)
    | undefined
}

export type CreateDeidentifiedCopyReturnType = {
  recordId: Hex
  sourceId: Hex
  audience: Address
  status: string
  txHash: Hex | null
  /** Instances in the copy. */
  instances: number
  /** Source files left out of the copy (by their path in the source record), with why. */
  held: Array<{ path: string; reason: HoldReason }>
}

/**
 * For the patient: makes a de-identified copy of one of their DICOM study records for one requestor, as a new
 * record the chain lets only the patient, the custodian unit and that requestor read (and the requestor only
 * while the patient grants it anything). Every instance is de-identified with the PS3.15 Basic Profile under a
 * fresh UID remapping (so copies for different requestors cannot be linked by UID); images that may carry
 * burned-in text are held back unless `includeBurnedIn`. The copy's manifest carries no name, MRN, birth date,
 * appointment, description or date; its study hierarchy is rebuilt from the de-identified files. Encrypted under
 * a fresh key wrapped for the patient, the custodian and the requestor only, checked and anchored by the node.
 *
 * Reports (PDF, FHIR JSON) cannot be de-identified automatically: refused (`NOT_DEIDENTIFIABLE`).
 */
export async function createDeidentifiedCopy(
  client: PcmimsClient,
  params: CreateDeidentifiedCopyParameters,
): Promise<CreateDeidentifiedCopyReturnType> {
  const { config, publicClient, account } = client
  const audience = getAddress(params.audience)
  const maxBytes = params.maxInstanceBytes ?? 1024 ** 3
  const source = await openRecord(client, { recordId: params.recordId, signal: params.signal })
  try {
    if (source.envelope.patient !== account.address) {
      throw new PreconditionError('Only the patient makes a de-identified copy of a record', {
        code: 'NOT_RECORD_PATIENT',
      })
    }
    if (!source.manifest.study || source.manifest.files.some((f) => f.mediaType !== 'application/dicom')) {
      throw new PreconditionError('Only DICOM studies can be de-identified automatically', {
        details: 'a report (PDF, FHIR JSON) or another file type needs a person to de-identify it',
        code: 'NOT_DEIDENTIFIABLE',
      })
    }
    const audienceKey = await checkAudience(client, audience)

    const plaintexts: Uint8Array[] = []
    const total = source.manifest.files.length
    for (const [index, file] of source.manifest.files.entries()) {
      if (file.size > maxBytes) {
        throw new PreconditionError('An instance is larger than the limit', {
          details: `${file.path}: ${file.size} bytes`,
          code: 'INSTANCE_TOO_LARGE',
        })
      }
      plaintexts.push(await readAll(client, source, index, params.signal))
      params.onProgress?.({ stage: 'read', done: index + 1, total })
    }

    // One fresh secret per copy: the same study copied for two requestors gets unrelated UIDs.
    const secret = globalThis.crypto.getRandomValues(new Uint8Array(32))
    const result = await deidentifyStudy(plaintexts, {
      secret,
      includeBurnedIn: params.includeBurnedIn,
      includeRecognizableVisualFeatures: params.includeRecognizableVisualFeatures,
      signal: params.signal,
      onProgress: ({ done }) => params.onProgress?.({ stage: 'deidentify', done, total }),
    })
    secret.fill(0)
    plaintexts.length = 0
    const pathOf = (index: number) => source.manifest.files[index]?.path ?? String(index)
    const unreadable = result.held.find((h) => h.reason === 'unreadable')
    if (unreadable) {
      // Never a partial copy that silently lacks an image the profile could not process.
      throw new PreconditionError('An instance could not be de-identified', {
        details: `${pathOf(unreadable.index)}: ${unreadable.details ?? 'unreadable'}`,
        code: 'DEIDENTIFY_FAILED',
      })
    }
    const held = result.held.map((h) => ({ path: pathOf(h.index), reason: h.reason }))
    if (result.files.length === 0) {
      throw new PreconditionError('Every image of the study was held back', {
        details: held.map((h) => `${h.path}: ${h.reason}`).join(', '),
        code: 'NOTHING_TO_COPY',
      })
    }

    const instances = result.files.map((f) => {
      const parsed = parseCopy(f.bytes, pathOf(f.index), maxBytes)
      return { bytes: f.bytes, metadata: extractInstanceMetadata(parsed) }
    })
    const studies = groupIntoStudies(instances)
    if (studies.length !== 1) {
      throw new PreconditionError('The de-identified instances do not form one study', {
        details: `${studies.length} studies`,
        code: 'DEIDENTIFY_FAILED',
      })
    }
    const study = studies[0]!
    const dek = generateDek()
    try {
      const store: StoreCiphertext = (ciphertext, { signal }) =>
        storeBlob(client, iterableToStream(ciphertext), signal)
      const files: ManifestFile[] = []
      const pathByInstance = new Map<(typeof instances)[number], string>()
      let done = 0
      for (const [seriesIndex, series] of study.series.entries()) {
        for (const [i, instance] of series.instances.entries()) {
          const path = `series-${String(seriesIndex + 1).padStart(3, '0')}/${String(i + 1).padStart(5, '0')}.dcm`
          pathByInstance.set(instance, path)
          const bytes = instance.bytes
          files.push(
            await encryptRecordFile({
              dek,
              path,
              mediaType: 'application/dicom',
              plaintext: chunks(bytes),
              store,
              signal: params.signal,
            }),
          )
          params.onProgress?.({ stage: 'store', done: ++done, total: instances.length })
        }
      }
      const unitKey = await getEncryptionKey(publicClient, {
        contract: config.contract,
        account: config.unit,
      })
      const sealed = await sealRecord({
        dek,
        chainId: config.chainId,
        contract: config.contract,
        unit: config.unit,
        // The patient makes the copy: the node checks the envelope names them.
        uploader: account.address,
        patient: account.address,
        kind: source.envelope.kind,
        files,
        recipients: [
          { address: account.address, role: 'patient', publicKey: client.encryptionKeyPair.publicKey },
          { address: getAddress(config.unit), role: 'custodian', publicKey: hexToBytes(unitKey) },
          { address: audience, role: 'grantee', publicKey: audienceKey },
        ],
        // Removed, not shifted: the Basic Profile leaves no real date in the files either.
        date: '',
        study: withoutIdentifyingStudyFields(
          toStudyManifest(study, { path: (instance) => pathByInstance.get(instance) }),
        ),
        store,
        signal: params.signal,
      })
      const status = await client.node.json<{ recordId: Hex; status: string; txHash: Hex | null }>(
        'POST',
        `/api/v1/records/${source.recordId}/deidentified-copies`,
        {
          body: { envelope: toBase64(sealed.envelopeBytes), blobs: sealed.blobs, audience },
          ...(params.waitForAnchor === false ? {} : { query: { wait: 'anchored' } }),
          signal: params.signal,
        },
      )
      return {
        recordId: status.recordId,
        sourceId: source.recordId,
        audience,
        status: status.status,
        txHash: status.txHash,
        instances: files.length,
        held,
      }
    } finally {
      dek.fill(0)
    }
  } finally {
    closeRecord(source)
  }
}

/** The audience's public key, once the chain says it may receive a copy: Approved, with a live grant. */
async function checkAudience(client: PcmimsClient, audience: Address): Promise<Uint8Array> {
  const contract = client.config.contract
  const patient = client.account.address
  if (audience === patient) {
    throw new PreconditionError('A copy is for someone else than the patient', { code: 'INVALID_AUDIENCE' })
  }
  const participant = await getParticipant(client.publicClient, { contract, account: audience })
  if (participant.status !== 'Approved') {
    throw new PreconditionError('The requestor is not an approved participant', {
      details: `${audience}: status ${participant.status}`,
      code: 'INVALID_AUDIENCE',
    })
  }
  const grant = await getGrant(client.publicClient, { contract, patient, grantee: audience })
  if (grant.scope === 'None' || grant.expiresAt <= (await getChainTime(client.publicClient))) {
    throw new PreconditionError('Grant the requestor access first (approve its request)', {
      details: audience,
      code: 'NO_ACTIVE_GRANT',
    })
  }
  const key = await getEncryptionKey(client.publicClient, { contract, account: audience })
  if (/^0x0*$/.test(key)) {
    throw new PreconditionError('The requestor has no encryption key', { details: audience, code: 'NO_KEY' })
  }
  return hexToBytes(key)
}

/** A de-identified file read back with the hardened reader (for the manifest), its errors named. */
function parseCopy(bytes: Uint8Array, path: string, maxBytes: number) {
  try {
    return parseDicomFile(bytes, { maxBytes, fileName: path })
  } catch (error) {
    if (!(error instanceof DicomParseError)) throw error
    throw new PreconditionError('A de-identified instance does not read back', {
      details: `${path}: ${error.shortMessage}`,
      code: 'DEIDENTIFY_FAILED',
      cause: error,
    })
  }
}

/**
 * The study attributes the node refuses in a copy's manifest. The files hold the profile's dummy values (or
 * nothing) for these; the manifest simply leaves them out.
 */
function withoutIdentifyingStudyFields(study: StudyManifest): StudyManifest {
  const {
    studyDate: _date,
    studyTime: _time,
    accessionNumber: _accession,
    studyDescription: _description,
    referringPhysicianName: _referring,
    ...rest
  } = study
  return { ...rest, patient: {} }
}

async function readAll(
  client: PcmimsClient,
  record: OpenedRecord,
  index: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const file = record.manifest.files[index]!
  const out = new Uint8Array(file.size)
  let offset = 0
  for await (const chunk of readRecordFile(client, { record, file, signal })) {
    if (offset + chunk.length > out.length) {
      throw new PreconditionError('A file is larger than its manifest says', { details: file.path })
    }
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

async function* chunks(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += 1024 * 1024) {
    yield bytes.subarray(offset, offset + 1024 * 1024)
  }
}
