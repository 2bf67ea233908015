export type { DcmjsDataset, DcmjsElement } from './dcmjs.js'
export * from './deidentify/index.js'
export {
  DicomParseError,
  type DicomParseErrorCode,
  DicomStudyError,
  type DicomStudyErrorCode,
  DicomWriteError,
} from './errors.js'
export { dicomDateToIso } from './metadata/dicom-date-to-iso.js'
export {
  type ExtractInstanceMetadataSource,
  extractInstanceMetadata,
  type InstanceMetadata,
} from './metadata/extract-instance-metadata.js'
export {
  type BulkDataInfo,
  type DicomJsonDataset,
  type DicomJsonElement,
  type ToDicomJsonParameters,
  toDicomJson,
} from './metadata/to-dicom-json.js'
export {
  DEFAULT_MAX_DICOM_BYTES,
  DEFAULT_MAX_INFLATED_BYTES,
  type DicomDataset,
  type DicomElement,
  type DicomParseWarning,
  type DicomPixelDataInfo,
  type ParseDicomFileParameters,
  type ParseDicomFileReturnType,
  parseDicomFile,
} from './parse/parse-dicom-file.js'
export { hasPreamble, zeroPreamble } from './parse/zero-preamble.js'
export * from './render/index.js'
export {
  type DicomPatient,
  type DicomSeriesGroup,
  type DicomStudyGroup,
  type GroupableInstance,
  groupIntoStudies,
} from './study/group-into-studies.js'
export {
  STUDY_MANIFEST_LIMITS,
  STUDY_MANIFEST_TYPE,
  type StudyManifest,
  type StudyManifestInstance,
  type StudyManifestSeries,
  studyManifestSchema,
  type ToStudyManifestParameters,
  toStudyManifest,
} from './study/study-manifest.js'
export {
  describeTag as describeDicomTag,
  formatTag as formatDicomTag,
  Tags as DicomTags,
} from './tags.js'
export {
  isEncapsulatedTransferSyntax,
  isKnownTransferSyntax,
  TransferSyntax as DicomTransferSyntax,
} from './transfer-syntax.js'
export {
  PCMIMS_IMPLEMENTATION_CLASS_UID,
  PCMIMS_IMPLEMENTATION_VERSION_NAME,
  type WriteDicomFileParameters,
  writeDicomFile,
} from './write/write-dicom-file.js'
