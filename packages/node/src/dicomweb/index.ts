// The DICOMweb service without the node around it, for `pcmims serve` (loads no IPFS node or indexer).
export type { DicomwebCacheOptions } from './caches.js'
export {
  type CreateDicomwebAppParameters,
  createDicomwebApp,
} from './dicomweb-app.js'
export { type KeyholderStudySourceParameters, keyholderStudySource } from './keyholder-source.js'
export {
  type StartDicomwebServerParameters,
  type StartDicomwebServerReturnType,
  startDicomwebServer,
} from './start-dicomweb-server.js'
export type { IndexedStudy, ReadableStudy, StudyAccess, StudySource } from './study-source.js'
