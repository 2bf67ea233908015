export {
  DEFAULT_STORAGE_TRANSFER_SYNTAXES,
  isStorageSopClass,
  StoreStatus,
  VERIFICATION_SOP_CLASS,
} from './constants.js'
export { DimseReceiverError, DimseStoreError } from './errors.js'
export { fileMetaHeader, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './file-meta.js'
export {
  type DimseAssociationEnd,
  type DimseInstance,
  type DimseReceiver,
  type StartDimseReceiverParameters,
  type StartDimseReceiverReturnType,
  startDimseReceiver,
} from './start-dimse-receiver.js'
