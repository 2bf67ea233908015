export { concatBytes } from './bytes.js'
export type { ByteSource, StreamProgress } from './chunk-queue.js'
export {
  type DecryptStreamParameters,
  type DecryptStreamReturnType,
  decryptStream,
} from './decrypt-stream.js'
export {
  type EncryptStreamParameters,
  type EncryptStreamReturnType,
  encryptStream,
} from './encrypt-stream.js'
export {
  type EncryptionKeyPair,
  encryptionPublicKeyFromPrivate,
  generateEncryptionKeyPair,
} from './encryption-key-pair.js'
export { DecryptionError, InvalidKeyError, InvalidParameterError } from './errors.js'
export { generateDek } from './generate-dek.js'
export { type OpenBytesParameters, type OpenBytesReturnType, openBytes } from './open-bytes.js'
export { type SealBytesParameters, type SealBytesReturnType, sealBytes } from './seal-bytes.js'
export { createSha256, type Sha256Hasher, sha256Implementation } from './sha256.js'
export {
  ciphertextLength,
  DEFAULT_CHUNK_SIZE,
  DEK_LENGTH,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  plaintextLength,
  STREAM_HEADER_LENGTH,
} from './stream-format.js'
export { type UnwrapKeyParameters, type UnwrapKeyReturnType, unwrapKey } from './unwrap-key.js'
export { DEK_WRAP_INFO_LENGTH, type DekWrapContext, encodeWrapContext } from './wrap-context.js'
export { type WrapKeyParameters, type WrapKeyReturnType, wrapKey } from './wrap-key.js'
