import type { CID } from 'multiformats/cid'

export type AddParameters = {
  signal?: AbortSignal | undefined
  /** Called with the running total of bytes read from the source. */
  onProgress?: ((bytes: number) => void) | undefined
  /** Reject with `TooLargeError` as soon as the source yields more than this many bytes. */
  maxBytes?: number | undefined
}

export type AddReturnType = {
  /** CIDv1 of the UnixFS root (the raw leaf itself when the content fits one chunk). */
  cid: CID
  /** Content size in bytes. */
  size: number
}

export type CatParameters = {
  signal?: AbortSignal | undefined
  /** First byte to return; `offset === size` yields nothing, `offset > size` is an `InvalidRangeError`. */
  offset?: number | undefined
  /** Bytes to return at most; clamped to the end of the content. */
  length?: number | undefined
}

export type StatReturnType = {
  /** Content size in bytes (for a single block: the block length). */
  size: number
  /** Number of blocks in the DAG, root included. */
  blocks: number
}

export type PutBlockParameters = {
  codec: 'dag-cbor'
  signal?: AbortSignal | undefined
}

export type Pin = {
  cid: CID
  /** `recursive`: the whole DAG under `cid` is kept; `direct`: only that one block. */
  type: 'recursive' | 'direct'
  /** Content size in bytes as recorded when pinned. */
  size: number
  /** Unix milliseconds when the pin was (last) written. */
  pinnedAt: number
}

export type GcReturnType = {
  removedBlocks: number
}

export type SignalParameters = { signal?: AbortSignal | undefined }

/** What the health endpoint shows of the store: never a path, URL or credential. */
export type StoreHealth = {
  mode: 'embedded' | 'kubo'
  ok: boolean
  /** Time the probe took. */
  latencyMs?: number | undefined
  /** The remote implementation's version (Kubo). */
  version?: string | undefined
  /** Why `ok` is false, in one word: `stopped`, `unreachable` or `error`. */
  error?: 'stopped' | 'unreachable' | 'error' | undefined
}

/**
 * Content-addressed storage for ciphertext: UnixFS files (CIDv1, raw leaves, 1 MiB chunks) and small
 * DAG-CBOR blocks. Implementations stream in both directions with memory independent of content size,
 * and resolve writes only once the data and its pin are durable.
 *
 * This is the seam between the node and an IPFS implementation: today an embedded Helia with
 * filesystem stores ({@link createBlobStore}), or a Kubo node through its RPC API
 * ({@link createKuboBlobStore}); later a networked Helia (libp2p + bitswap between health units).
 */
export interface BlobStore {
  /**
   * Streams `source` into UnixFS, pins the root recursively and resolves once every block and the pin
   * are on disk. On failure or abort nothing is pinned; blocks already written are left for `gc()`.
   * Adding content that is already pinned succeeds and keeps one pin.
   */
  add(source: AsyncIterable<Uint8Array>, parameters?: AddParameters): Promise<AddReturnType>
  /**
   * Streams content: the file bytes for a UnixFS root, the block bytes for a raw or DAG-CBOR block.
   * Throws `BlockNotFoundError` if a needed block is missing.
   */
  cat(cid: CID, parameters?: CatParameters): AsyncIterable<Uint8Array>
  stat(cid: CID, parameters?: SignalParameters): Promise<StatReturnType>
  /** Whether the root block of `cid` is stored locally (pinned or not). */
  has(cid: CID, parameters?: SignalParameters): Promise<boolean>
  /** Stores a small DAG-CBOR block (canonical encoding required) and pins it; returns its CIDv1 (sha2-256). */
  putBlock(bytes: Uint8Array, parameters: PutBlockParameters): Promise<CID>
  /** Like `putBlock` for a CID the client computed; throws `CidMismatchError` if the bytes do not hash to it. */
  putBlockWithCid(cid: CID, bytes: Uint8Array, parameters?: SignalParameters): Promise<CID>
  getBlock(cid: CID, parameters?: SignalParameters): Promise<Uint8Array>
  /** Removes the pin (idempotent); the blocks go at the next `gc()` unless another pin reaches them. */
  unpin(cid: CID, parameters?: SignalParameters): Promise<void>
  /** Deletes every block that no pin reaches and no in-progress write needs. */
  gc(parameters?: SignalParameters): Promise<GcReturnType>
  pins(parameters?: SignalParameters): AsyncIterable<Pin>
  /** A cheap probe for the health endpoint; never throws. */
  health?(parameters?: SignalParameters): Promise<StoreHealth>
  stop(): Promise<void>
}
