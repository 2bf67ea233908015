export { MediaError, type MediaErrorCode } from './errors.js'
export { blobRandomAccess, bytesRandomAccess, type RandomAccessSource } from './random-access.js'
export {
  DICOMDIR_LIMITS,
  type DicomdirReference,
  MEDIA_STORAGE_DIRECTORY_SOP_CLASS,
  type ReadDicomdirParameters,
  type ResolveDicomdirParameters,
  readDicomdir,
  resolveDicomdirReferences,
} from './read-dicomdir.js'
export {
  PLAIN_IMAGE_LIMITS,
  type PlainImageInfo,
  type ReadPlainImageInfoParameters,
  readPlainImageInfo,
  sniffPlainImage,
} from './read-plain-image-info.js'
export {
  type ReadZipParameters,
  type ReadZipReturnType,
  readZip,
  ZIP_LIMITS,
  type ZipEntry,
} from './read-zip.js'
