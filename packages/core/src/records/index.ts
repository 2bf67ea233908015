export type { RecipientRole, RecordEnvelope, WrappedKey } from './envelope.js'
export {
  decodeEnvelope,
  ENVELOPE_LIMITS,
  ENVELOPE_TYPE,
  encodeEnvelope,
  RECIPIENT_ROLES,
} from './envelope.js'
export { IntegrityError, InvalidFormatError, InvalidRecordIdError } from './errors.js'
export type { KeyBundle } from './key-bundle.js'
export { decodeKeyBundle, encodeKeyBundle, KEY_BUNDLE_LIMITS, KEY_BUNDLE_TYPE } from './key-bundle.js'
export type { ManifestFile, RecordManifest } from './manifest.js'
export {
  assertSafeRelativePath,
  decodeManifest,
  encodeManifest,
  MANIFEST_LIMITS,
  MANIFEST_TYPE,
} from './manifest.js'
export {
  dagCborCidFromDigest,
  encodeDagCborBlock,
  equalBytes,
  parseBytes32,
  type RecordId,
  recordIdFromCid,
  verifyBlock,
} from './record-id.js'
export {
  NoKeyForRecipientError,
  type OpenRecordKeyParameters,
  openRecordKey,
  recordWrapContext,
  type WrapForRecipientsParameters,
  wrapForRecipients,
} from './record-keys.js'
export { RECORD_KINDS, type RecordKind } from './schema-helpers.js'
export {
  type EncryptRecordFileParameters,
  encryptRecordFile,
  type RecordDescription,
  type RecordRecipient,
  type SealRecordParameters,
  type SealRecordReturnType,
  type StoreCiphertext,
  sealRecord,
} from './seal-record.js'
export { type VerifyFileStreamParameters, verifyFileStream } from './verify-file-stream.js'
