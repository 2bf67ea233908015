import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import type { Hex } from 'viem'
import { bytesToHex, hexToBytes } from 'viem'
import { timingSafeEqual } from '../crypto/bytes.js'
import { InvalidRecordIdError } from './errors.js'

/** A record id on chain: the 32-byte sha2-256 digest of the record's DAG-CBOR envelope block. */
export type RecordId = Hex

const SHA2_256 = 0x12

/** The on-chain id (bytes32) of a DAG-CBOR block's CID. */
export function recordIdFromCid(cid: CID): RecordId {
  if (cid.multihash.code !== SHA2_256 || cid.multihash.digest.length !== 32) {
    throw new InvalidRecordIdError('The CID is not a sha2-256 CID', { details: cid.toString() })
  }
  return bytesToHex(cid.multihash.digest)
}

/**
 * The CID of the DAG-CBOR block whose digest is `id`: envelopes and key bundles are always CIDv1,
 * dag-cbor, sha2-256, so 32 bytes on chain are enough to find them.
 */
export function dagCborCidFromDigest(id: Hex): CID {
  const bytes = parseBytes32(id)
  return CID.createV1(dagCbor.code, Digest.create(SHA2_256, bytes))
}

export function parseBytes32(value: string): Uint8Array {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) {
    throw new InvalidRecordIdError('Not a 32-byte hex id', { details: value.slice(0, 80) })
  }
  return hexToBytes(value as Hex)
}

/** Encodes an object as a DAG-CBOR block and returns its bytes and CID. */
export async function encodeDagCborBlock(value: unknown): Promise<{ bytes: Uint8Array; cid: CID }> {
  const bytes = dagCbor.encode(value)
  const hash = await sha256.digest(bytes)
  return { bytes, cid: CID.createV1(dagCbor.code, hash) }
}

/** Checks that `bytes` hash to `cid` (sha2-256) before anything trusts them. */
export async function verifyBlock(cid: CID, bytes: Uint8Array): Promise<boolean> {
  if (cid.multihash.code !== SHA2_256) return false
  const hash = await sha256.digest(bytes)
  return equalBytes(hash.digest, cid.multihash.digest)
}

/** Constant-time comparison of two byte strings. */
export const equalBytes = timingSafeEqual
