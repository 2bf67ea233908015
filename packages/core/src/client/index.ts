export { getChainTime } from './chain-time.js'
export {
  type CreateDeidentifiedCopyParameters,
  type CreateDeidentifiedCopyReturnType,
  createDeidentifiedCopy,
} from './create-deidentified-copy.js'
export {
  type CreateGrantParameters,
  type CreateGrantReturnType,
  createGrant,
  prepareKeyBundle,
} from './create-grant.js'
export { AccessDeniedError, PreconditionError } from './errors.js'
export {
  type ListReceivedGrantsParameters,
  listReceivedGrants,
  type ReceivedGrant,
} from './list-received-grants.js'
export { type ListRecordsParameters, listRecords, type RecordSummary } from './list-records.js'
export {
  type CreateNodeClientParameters,
  createNodeClient,
  iterableToStream,
  type NodeClient,
  type NodeClientSigner,
  NodeRequestError,
  type NodeSession,
  type QueryParams,
} from './node-client.js'
export {
  closeRecord,
  type OpenedRecord,
  type OpenRecordParameters,
  openRecord,
  type RecordAccess,
} from './open-record.js'
export {
  type CreatePcmimsClientParameters,
  createPcmimsClient,
  type NodeConfigView,
  type PcmimsClient,
  type PcmimsWallet,
} from './pcmims-client.js'
export {
  type CustodialCopy,
  type GetCustodialCopyParameters,
  getCustodialCopy,
  type ReadCustodialFileParameters,
  readCustodialFile,
} from './read-custodial-copy.js'
export { type ReadRecordFileParameters, readRecordFile } from './read-record-file.js'
export { type RespondToRequestParameters, respondToRequest } from './respond-to-request.js'
export {
  type RotateRecordKeyParameters,
  type RotateRecordKeyReturnType,
  rotateRecordKey,
} from './rotate-record-key.js'
export {
  discardHeldStudy,
  type HeldStudy,
  type IngestBatchStatus,
  listHeldStudies,
  lookupPatientId,
  type MapPatientIdParameters,
  type MapPatientIdReturnType,
  mapPatientId,
  type ResolveHeldStudyParameters,
  resolveHeldStudy,
} from './unit-ingest-desk.js'
export {
  type ResumableSource,
  ResumableUploadError,
  type UploadBlobResumableParameters,
  type UploadBlobResumableProgress,
  type UploadBlobResumableReturnType,
  uploadBlobResumable,
} from './upload-blob-resumable.js'
export {
  kindOf,
  type UploadDicomStudiesParameters,
  type UploadedStudy,
  uploadDicomStudies,
} from './upload-dicom-studies.js'
export {
  type UploadFile,
  type UploadProgress,
  type UploadRecordParameters,
  type UploadRecordReturnType,
  uploadRecord,
} from './upload-record.js'
export {
  type AuditTrail,
  type AuditTrailScope,
  type FetchAuditTrailParameters,
  fetchAuditTrail,
  type VerifyAuditTrailParameters,
  type VerifyAuditTrailReturnType,
  verifyAuditTrail,
} from './verify-audit-trail.js'
