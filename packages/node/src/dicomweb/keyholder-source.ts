import {
  AccessDeniedError as ClientAccessDeniedError,
  getAccess,
  listRecords,
  NodeRequestError,
  NoKeyForRecipientError,
  type OpenedRecord,
  openRecord,
  type PcmimsClient,
  readRecordFile,
} from '@pcmims/core'
import { type Address, getAddress, type Hex } from 'viem'
import { ChainUnavailableError } from '../http/errors.js'
import { collect, createDicomwebCaches, type DicomwebCacheOptions, fileOfInstance } from './caches.js'
import type { IndexedStudy, ReadableStudy, SourceOptions, StudySource } from './study-source.js'

export type KeyholderStudySourceParameters = {
  client: PcmimsClient
  /** Patients whose records to serve (default: the key holder's own). A grantee names its grantors. */
  patients?: Address[] | undefined
  cache?: DicomwebCacheOptions | undefined
}

/**
 * The studies a key holder's own key opens (`pcmims serve`): their own records as a patient, or the
 * records patients granted them, listed by the node, fetched as ciphertext and decrypted here with the
 * user's key, never by the node's custodial route. The service answers only its key holder: the HTTP
 * caller is whoever reached the local server (it guards itself with a secret path). Access is asked of
 * the chain on every request, so a revoked or expired grant stops serving at once, cached or not.
 */
export function keyholderStudySource({
  client,
  patients,
  cache,
}: KeyholderStudySourceParameters): StudySource {
  const me = client.account.address
  const whose = (patients ?? [me]).map((p) => getAddress(p))
  const caches = createDicomwebCaches<OpenedRecord>(cache)
  const index = new Map<Hex, Promise<IndexedStudy | null>>()
  const known = new Map<Address, IndexedStudy[]>()
  const open = (recordId: Hex, signal: AbortSignal | undefined) =>
    caches.record(recordId, () => openRecord(client, { recordId, signal }))
  const key = (recordId: Hex, cid: { toString(): string }) => `${recordId}:${cid.toString()}`

  async function indexRecord(recordId: Hex, patient: Address, createdAt: number, signal?: AbortSignal) {
    const { manifest } = await open(recordId, signal)
    return manifest.study ? { recordId, patient, createdAt, study: manifest.study } : null
  }

  return {
    async caller() {
      return me
    },
    audited: (_c, facts, run) => run(facts),
    async listStudies({ signal }: SourceOptions = {}) {
      const out: IndexedStudy[] = []
      for (const patient of whose) {
        let records: Awaited<ReturnType<typeof listRecords>>
        try {
          records = await listRecords(client, { patient, signal })
        } catch (error) {
          // The node no longer lists them (grant revoked or expired): the studies seen before stay
          // known, so a request for one is answered 403 by the chain check, not a puzzling 404.
          if (error instanceof NodeRequestError && (error.status === 403 || error.status === 404)) {
            out.push(...(known.get(patient) ?? []))
            continue
          }
          throw error
        }
        const studies: IndexedStudy[] = []
        // Oldest first, as the node lists studies, so the latest upload of a study wins.
        for (const record of [...records].sort((a, b) => a.createdAt - b.createdAt)) {
          let entry = index.get(record.id)
          if (!entry) {
            entry = indexRecord(record.id, record.patient, record.createdAt, signal)
            index.set(record.id, entry)
            // Only "not a study" is remembered: a refusal or an outage is asked again next time.
            entry.catch(() => index.delete(record.id))
          }
          const study = await entry.catch((error: unknown) => {
            if (error instanceof ClientAccessDeniedError || error instanceof NoKeyForRecipientError)
              return null
            throw error
          })
          if (study) studies.push(study)
        }
        known.set(patient, studies)
        out.push(...studies)
      }
      return out
    },
    async readable(_caller, studies) {
      const accesses = await Promise.all(
        studies.map((s) =>
          getAccess(client.publicClient, {
            contract: client.config.contract,
            grantee: me,
            recordId: s.recordId,
          }),
        ),
      ).catch((cause: unknown) => {
        throw new ChainUnavailableError(cause)
      })
      const out: ReadableStudy[] = []
      for (const [i, study] of studies.entries()) {
        const access = accesses[i]
        if (!access?.allowed || access.deidentifiedOnly) continue
        const download = access.basis === 'Patient' || access.basis === 'Emergency' || access.download
        out.push({
          ...study,
          emergency: access.basis === 'Emergency',
          access: download ? 'download' : 'view',
        })
      }
      return out
    },
    async readInstance(study, instance, { signal }: SourceOptions = {}) {
      const record = await open(study.recordId, signal)
      const file = fileOfInstance(record.manifest.files, instance)
      return caches.instance(key(study.recordId, file.cid), file.size, () =>
        collect(readRecordFile(client, { record, file, signal }), file.size),
      )
    },
    async *streamInstance(study, instance, { signal }: SourceOptions = {}) {
      const record = await open(study.recordId, signal)
      const file = fileOfInstance(record.manifest.files, instance)
      const hit = caches.peekInstance(key(study.recordId, file.cid))
      if (hit) yield hit
      else yield* readRecordFile(client, { record, file, signal })
    },
  }
}
