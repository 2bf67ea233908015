import { BaseError } from '@pcmims/core'

/** An upload exceeded the byte limit the caller set; nothing was pinned. */
export class TooLargeError extends BaseError {
  override name = 'TooLargeError'
  readonly limit: number

  constructor({ limit, cause }: { limit: number; cause?: unknown }) {
    super('Content is larger than allowed.', { code: 'TOO_LARGE', details: `limit: ${limit} bytes`, cause })
    this.limit = limit
  }
}

/** The bytes given for a CID do not hash to that CID. */
export class CidMismatchError extends BaseError {
  override name = 'CidMismatchError'

  constructor({ cid }: { cid: string }) {
    super('Block bytes do not match the CID.', { code: 'CID_MISMATCH', details: `cid: ${cid}` })
  }
}

/** A block (or a block of a DAG) is not in the local store. */
export class BlockNotFoundError extends BaseError {
  override name = 'BlockNotFoundError'

  constructor({ cid, cause }: { cid: string; cause?: unknown }) {
    super('Content not found.', { code: 'BLOCK_NOT_FOUND', details: `cid: ${cid}`, cause })
  }
}

/** A block or CID is malformed or of a kind this store does not accept or serve. */
export class InvalidBlockError extends BaseError {
  override name = 'InvalidBlockError'

  constructor({ reason, cid, cause }: { reason: string; cid?: string | undefined; cause?: unknown }) {
    super('Invalid block.', {
      code: 'INVALID_BLOCK',
      details: cid === undefined ? reason : `${reason} (cid: ${cid})`,
      cause,
    })
  }
}

/** The requested byte range lies outside the content. */
export class InvalidRangeError extends BaseError {
  override name = 'InvalidRangeError'
  readonly size: number

  constructor({ offset, length, size }: { offset: number; length?: number | undefined; size: number }) {
    super('Requested range is not satisfiable.', {
      code: 'INVALID_RANGE',
      details: `offset: ${offset}, length: ${length ?? 'to end'}, size: ${size}`,
    })
    this.size = size
  }
}

/** The store was used after `stop()`. */
export class StoreClosedError extends BaseError {
  override name = 'StoreClosedError'

  constructor() {
    super('The content store is stopped.', { code: 'STORE_CLOSED' })
  }
}

/** Another live process (or another store in this process) holds the store directory. */
export class StoreLockedError extends BaseError {
  override name = 'StoreLockedError'

  constructor({ directory, pid }: { directory: string; pid: number }) {
    super('The content store directory is in use.', {
      code: 'STORE_LOCKED',
      details: `directory: ${directory}, held by pid ${pid}`,
    })
  }
}

/** The remote IPFS node (Kubo RPC API) did not answer. */
export class IpfsUnavailableError extends BaseError {
  override name = 'IpfsUnavailableError'

  constructor({ url, cause }: { url: string; cause?: unknown }) {
    super('The IPFS node is unreachable.', {
      code: 'IPFS_UNAVAILABLE',
      details: `Kubo RPC API at ${url}`,
      cause,
    })
  }
}
