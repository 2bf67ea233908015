import type { ManifestFile } from '@pcmims/core'
import type { Hex } from 'viem'
import type { NodeContext } from '../context.js'
import {
  type CustodialRecord,
  openCustodialRecord,
  readCustodialFile,
} from '../custody/open-custodial-record.js'
import { audited } from '../http/audit.js'
import { authenticate } from '../http/authenticate.js'
import { collect, createDicomwebCaches, type DicomwebCacheOptions, fileOfInstance } from './caches.js'
import { listCustodialStudies, readableStudies } from './study-index.js'
import type { SourceOptions, StudySource } from './study-source.js'

/**
 * The node's studies: DICOM records this node is custodian of, opened with the unit's key, for a
 * signed-in caller the chain lets read them decrypted (patient, download grantee, medic in a declared
 * emergency). Every request is audited.
 */
export function custodialStudySource(ctx: NodeContext, cache: DicomwebCacheOptions = {}): StudySource {
  const caches = createDicomwebCaches<CustodialRecord>(cache)
  const open = (recordId: Hex, signal: AbortSignal | undefined) =>
    caches.record(recordId, () => openCustodialRecord(ctx, recordId, { signal }))
  const key = (recordId: Hex, file: ManifestFile) => `${recordId}:${file.cid.toString()}`
  return {
    caller: (c) => authenticate(c, ctx),
    audited: (c, facts, run) => audited(c, ctx, facts, run),
    listStudies: ({ signal }: SourceOptions = {}) => listCustodialStudies(ctx, { signal, open }),
    readable: (caller, studies) => readableStudies(ctx, caller, studies),
    async readInstance(study, instance, { signal }: SourceOptions = {}) {
      const record = await open(study.recordId, signal)
      const file = fileOfInstance(record.manifest.files, instance)
      return caches.instance(key(study.recordId, file), file.size, () =>
        collect(readCustodialFile(ctx, record, file, { signal }), file.size),
      )
    },
    async *streamInstance(study, instance, { signal }: SourceOptions = {}) {
      const record = await open(study.recordId, signal)
      const file = fileOfInstance(record.manifest.files, instance)
      const hit = caches.peekInstance(key(study.recordId, file))
      if (hit) yield hit
      else yield* readCustodialFile(ctx, record, file, { signal })
    },
  }
}
