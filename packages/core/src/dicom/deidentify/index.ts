export {
  BASIC_PROFILE_EDITION,
  BASIC_PROFILE_TABLE,
  type BasicProfileActionCode,
  type BasicProfileEntry,
  basicProfileCounts,
  type DeidentifyAction,
  repeatingGroupAction,
  resolveBasicProfileAction,
} from './basic-profile-table.js'
export {
  type AssessHoldParameters,
  assessHold,
  type HoldReason,
  LIKELY_BURNED_IN_SOP_CLASSES,
} from './burned-in-annotation.js'
export {
  BASIC_PROFILE_METHOD_CODE,
  DEIDENTIFICATION_METHOD,
  type DeidentifyDatasetParameters,
  deidentifyDataset,
} from './deidentify-dataset.js'
export {
  DEIDENTIFY_IMPLEMENTATION_CLASS_UID,
  DEIDENTIFY_IMPLEMENTATION_VERSION_NAME,
  type DeidentifiedFile,
  type DeidentifyFileParameters,
  type DeidentifyFileReturnType,
  deidentifyFile,
  type HeldFile,
} from './deidentify-file.js'
export {
  type DeidentifiedInstance,
  type DeidentifyStudyParameters,
  type DeidentifyStudyReturnType,
  deidentifyStudy,
} from './deidentify-study.js'
export { DUMMY_VALUES } from './dummy-values.js'
export { DeidentifyError, InvalidDeidentifySecretError } from './errors.js'
export {
  type CreateUidRemapperParameters,
  createUidRemapper,
  MIN_DEIDENTIFY_SECRET_BYTES,
  type UidRemapper,
} from './uid-remapper.js'
