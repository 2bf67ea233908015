export {
  type CreateBlobStoreParameters,
  type CreateBlobStoreReturnType,
  createBlobStore,
} from './create-blob-store.js'
export {
  BlockNotFoundError,
  CidMismatchError,
  InvalidBlockError,
  InvalidRangeError,
  IpfsUnavailableError,
  StoreClosedError,
  StoreLockedError,
  TooLargeError,
} from './errors.js'
export {
  CHUNK_SIZE,
  type CreateHeliaBlobStoreParameters,
  createHeliaBlobStore,
  MAX_DAG_CBOR_BYTES,
} from './helia-blob-store.js'
export {
  type CreateKuboBlobStoreParameters,
  createKuboBlobStore,
  MAX_FILE_LINKS,
  probeKubo,
} from './kubo-blob-store.js'
export type {
  AddParameters,
  AddReturnType,
  BlobStore,
  CatParameters,
  GcReturnType,
  Pin,
  PutBlockParameters,
  SignalParameters,
  StatReturnType,
  StoreHealth,
} from './types.js'
