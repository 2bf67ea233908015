export {
  type AcceptGovernanceParameters,
  type AcceptGovernanceReturnType,
  acceptGovernance,
} from './accept-governance.js'
export { type AdmitUnitParameters, type AdmitUnitReturnType, admitUnit } from './admit-unit.js'
export {
  type AnchorAuditRootParameters,
  type AnchorAuditRootReturnType,
  anchorAuditRoot,
} from './anchor-audit-root.js'
export {
  type AnchorDeidentifiedCopyParameters,
  type AnchorDeidentifiedCopyReturnType,
  anchorDeidentifiedCopy,
} from './anchor-deidentified-copy.js'
export { type AnchorRecordParameters, type AnchorRecordReturnType, anchorRecord } from './anchor-record.js'
export {
  type AnchorRecordsItem,
  type AnchorRecordsParameters,
  type AnchorRecordsReturnType,
  anchorRecords,
} from './anchor-records.js'
export {
  type ApproveParticipantParameters,
  type ApproveParticipantReturnType,
  approveParticipant,
} from './approve-participant.js'
export {
  type ApproveRequestParameters,
  type ApproveRequestReturnType,
  approveRequest,
} from './approve-request.js'
export { type CanAccessParameters, type CanAccessReturnType, canAccess } from './can-access.js'
export {
  type CanAccessBatchParameters,
  type CanAccessBatchReturnType,
  canAccessBatch,
} from './can-access-batch.js'
export {
  type DeclareEmergencyParameters,
  type DeclareEmergencyReturnType,
  declareEmergency,
} from './declare-emergency.js'
export {
  type DecodePcmimsLogsParameters,
  decodePcmimsLogs,
  type PcmimsEvent,
  type PcmimsEventName,
} from './decode-pcmims-logs.js'
export { type DenyRequestParameters, type DenyRequestReturnType, denyRequest } from './deny-request.js'
export { type DeployPcmimsParameters, type DeployPcmimsReturnType, deployPcmims } from './deploy-pcmims.js'
export { type EndEmergencyParameters, type EndEmergencyReturnType, endEmergency } from './end-emergency.js'
export {
  ContractCallError,
  type ContractCallErrorParameters,
  isPcmimsErrorName,
  type PcmimsErrorName,
  pcmimsErrorMessages,
  TransactionRevertedError,
  toContractCallError,
} from './errors.js'
export { type GetAccessParameters, type GetAccessReturnType, getAccess } from './get-access.js'
export {
  type GetAuditRootParameters,
  type GetAuditRootReturnType,
  getAuditRoot,
} from './get-audit-root.js'
export {
  type GetCopyAudienceParameters,
  type GetCopyAudienceReturnType,
  getCopyAudience,
} from './get-copy-audience.js'
export { type GetEmergencyParameters, type GetEmergencyReturnType, getEmergency } from './get-emergency.js'
export {
  type GetEncryptionKeyParameters,
  type GetEncryptionKeyReturnType,
  getEncryptionKey,
} from './get-encryption-key.js'
export {
  type GetGovernanceParameters,
  type GetGovernanceReturnType,
  getGovernance,
} from './get-governance.js'
export { type GetGrantParameters, type GetGrantReturnType, getGrant } from './get-grant.js'
export {
  type GetLatestAuditSizeParameters,
  type GetLatestAuditSizeReturnType,
  getLatestAuditSize,
} from './get-latest-audit-size.js'
export {
  type GetParticipantParameters,
  type GetParticipantReturnType,
  getParticipant,
} from './get-participant.js'
export { type GetRecordParameters, type GetRecordReturnType, getRecord } from './get-record.js'
export { type GetRequestParameters, type GetRequestReturnType, getRequest } from './get-request.js'
export { type GetUnitParameters, type GetUnitReturnType, getUnit } from './get-unit.js'
export { type GrantAccessParameters, type GrantAccessReturnType, grantAccess } from './grant-access.js'
export type { ReadParameters, WriteParameters, WriteReturnType } from './internal/execute.js'
export {
  type RegisterParticipantParameters,
  type RegisterParticipantReturnType,
  type RegistrableRole,
  registerParticipant,
} from './register-participant.js'
export {
  type RejectParticipantParameters,
  type RejectParticipantReturnType,
  rejectParticipant,
} from './reject-participant.js'
export {
  type RequestAccessParameters,
  type RequestAccessReturnType,
  requestAccess,
} from './request-access.js'
export { type RevokeAccessParameters, type RevokeAccessReturnType, revokeAccess } from './revoke-access.js'
export { type RotateRecordParameters, type RotateRecordReturnType, rotateRecord } from './rotate-record.js'
export {
  type SetEncryptionKeyParameters,
  type SetEncryptionKeyReturnType,
  setEncryptionKey,
} from './set-encryption-key.js'
export {
  type SetUnitStatusParameters,
  type SetUnitStatusReturnType,
  setUnitStatus,
} from './set-unit-status.js'
export {
  type SuspendParticipantParameters,
  type SuspendParticipantReturnType,
  suspendParticipant,
} from './suspend-participant.js'
export { ChainTransactionError, toTransactionError } from './transaction-errors.js'
export {
  type TransferGovernanceParameters,
  type TransferGovernanceReturnType,
  transferGovernance,
} from './transfer-governance.js'
export { type GrantTerms, unpackGrantTerms } from './unpack-grant-terms.js'
