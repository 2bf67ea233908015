import { sha256 } from '@noble/hashes/sha2.js'

// RFC 9162 §2.1 (the same tree as RFC 6962 §2.1) with SHA-256: leaf = SHA-256(0x00 ‖ data),
// node = SHA-256(0x01 ‖ left ‖ right), the empty tree hashes to SHA-256(""). The split of n leaves is at the
// largest power of two smaller than n, so an odd node is carried up, never duplicated (no CVE-2012-2459).

/** Bytes of every hash in the tree. */
export const MERKLE_HASH_BYTES = 32

const LEAF_PREFIX = 0x00
const NODE_PREFIX = 0x01

/** Leaf hash of `data`: SHA-256(0x00 ‖ data). */
export function merkleLeafHash(data: Uint8Array): Uint8Array {
  const input = new Uint8Array(data.length + 1)
  input[0] = LEAF_PREFIX
  input.set(data, 1)
  return sha256(input)
}

/** Interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + left.length + right.length)
  input[0] = NODE_PREFIX
  input.set(left, 1)
  input.set(right, 1 + left.length)
  return sha256(input)
}

/** Root of the empty tree: SHA-256 of the empty string. */
export function emptyMerkleRoot(): Uint8Array {
  return sha256(new Uint8Array(0))
}

/** Largest power of two strictly smaller than `n` (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** log2(n) when `n` is a power of two, else -1 (sizes go beyond 32 bits: no bit operators). */
function exactLog2(n: number): number {
  let height = 0
  let p = 1
  while (p < n) {
    p *= 2
    height++
  }
  return p === n ? height : -1
}

function checkSize(name: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer in 0..${max}, got ${value}`)
  }
}

/**
 * A Merkle tree over a fixed list of leaf hashes. Every complete, aligned subtree is computed once
 * (about n hashes, 64·n bytes); then the root at any size up to `size`, inclusion proofs and consistency
 * proofs each cost O(log² n) hashes, so one tree serves every proof about the log's prefixes.
 */
export class MerkleTree {
  /** Number of leaves. */
  readonly size: number
  /** levels[h] holds the complete subtrees of 2^h leaves, 32 bytes each, left to right. */
  private readonly levels: Uint8Array[]
  /** Incomplete subtrees (those ending at a prefix size), computed on demand: O(log n) per size. */
  private readonly partial = new Map<string, Uint8Array>()

  /** @param leafHashes the leaves' hashes (already `merkleLeafHash`ed), in order */
  constructor(leafHashes: readonly Uint8Array[]) {
    this.size = leafHashes.length
    const leaves = new Uint8Array(this.size * MERKLE_HASH_BYTES)
    leafHashes.forEach((hash, i) => {
      if (hash.length !== MERKLE_HASH_BYTES) throw new RangeError(`leaf hash ${i} is not 32 bytes`)
      leaves.set(hash, i * MERKLE_HASH_BYTES)
    })
    this.levels = [leaves]
    const input = new Uint8Array(1 + 2 * MERKLE_HASH_BYTES)
    input[0] = NODE_PREFIX
    let below = leaves
    while (below.length >= 2 * MERKLE_HASH_BYTES) {
      const count = Math.floor(below.length / (2 * MERKLE_HASH_BYTES))
      const level = new Uint8Array(count * MERKLE_HASH_BYTES)
      for (let i = 0; i < count; i++) {
        input.set(below.subarray(2 * i * MERKLE_HASH_BYTES, (2 * i + 2) * MERKLE_HASH_BYTES), 1)
        level.set(sha256(input), i * MERKLE_HASH_BYTES)
      }
      this.levels.push(level)
      below = level
    }
  }

  /** Leaf hash `index`. */
  leaf(index: number): Uint8Array {
    checkSize('index', index, this.size - 1)
    return this.levels[0]!.slice(index * MERKLE_HASH_BYTES, (index + 1) * MERKLE_HASH_BYTES)
  }

  /** Root of the first `size` leaves (default: all). */
  root(size: number = this.size): Uint8Array {
    checkSize('size', size, this.size)
    return size === 0 ? emptyMerkleRoot() : this.range(0, size).slice()
  }

  /**
   * Audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1), from the leaf's
   * sibling up to the root's child.
   */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    checkSize('size', size, this.size)
    checkSize('index', index, size - 1)
    const proof: Uint8Array[] = []
    // PATH(m, D[start:end]) unrolled: the siblings are collected top-down and reversed at the end.
    let start = 0
    let end = size
    let m = index
    while (end - start > 1) {
      const k = splitPoint(end - start)
      if (m < k) {
        proof.push(this.range(start + k, end))
        end = start + k
      } else {
        proof.push(this.range(start, start + k))
        start += k
        m -= k
      }
    }
    return proof.reverse().map((p) => p.slice())
  }

  /**
   * Proof that the tree of the first `fromSize` leaves is a prefix of the tree of the first `toSize`
   * (RFC 9162 §2.1.4.1). Empty when `fromSize` is 0 or equal to `toSize`.
   */
  consistencyProof(fromSize: number, toSize: number = this.size): Uint8Array[] {
    checkSize('toSize', toSize, this.size)
    checkSize('fromSize', fromSize, toSize)
    if (fromSize === 0 || fromSize === toSize) return []
    const proof: Uint8Array[] = []
    // SUBPROOF(m, D[start:end], b) unrolled, collected top-down and reversed at the end.
    let start = 0
    let end = toSize
    let m = fromSize
    let complete = true
    while (m !== end - start) {
      const k = splitPoint(end - start)
      if (m <= k) {
        proof.push(this.range(start + k, end))
        end = start + k
      } else {
        proof.push(this.range(start, start + k))
        start += k
        m -= k
        complete = false
      }
    }
    if (!complete) proof.push(this.range(start, end))
    return proof.reverse().map((p) => p.slice())
  }

  /** MTH(D[start:end]) for a range the RFC recursion produces: `start` is a multiple of a power of two ≥ its length. */
  private range(start: number, end: number): Uint8Array {
    const n = end - start
    const height = exactLog2(n)
    if (height >= 0) {
      const level = this.levels[height]!
      const offset = (start / n) * MERKLE_HASH_BYTES
      return level.subarray(offset, offset + MERKLE_HASH_BYTES)
    }
    const key = `${start}:${end}`
    let hash = this.partial.get(key)
    if (!hash) {
      const k = splitPoint(n)
      hash = merkleNodeHash(this.range(start, start + k), this.range(start + k, end))
      this.partial.set(key, hash)
    }
    return hash
  }
}

/** Root of a tree with these leaf hashes (RFC 9162 MTH). */
export function merkleRoot(leafHashes: readonly Uint8Array[]): Uint8Array {
  return new MerkleTree(leafHashes).root()
}

export type RootFromInclusionProofParameters = {
  leafHash: Uint8Array
  index: number
  size: number
  proof: readonly Uint8Array[]
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or `null` when the proof cannot belong to a
 * tree of this size (wrong length, index out of range, a hash that is not 32 bytes).
 */
export function rootFromInclusionProof(params: RootFromInclusionProofParameters): Uint8Array | null {
  const { leafHash, index, size, proof } = params
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null
  if (leafHash.length !== MERKLE_HASH_BYTES) return null
  // JavaScript bit operators are 32-bit: use arithmetic on safe integers.
  let fn = index
  let sn = size - 1
  let r = leafHash
  for (const p of proof) {
    if (p.length !== MERKLE_HASH_BYTES || sn === 0) return null
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNodeHash(p, r)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      r = merkleNodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 ? r : null
}

export type VerifyInclusionProofParameters = RootFromInclusionProofParameters & { root: Uint8Array }

/** True when `proof` shows leaf `index` with hash `leafHash` is in the tree of `size` leaves with `root`. */
export function verifyInclusionProof(params: VerifyInclusionProofParameters): boolean {
  const computed = rootFromInclusionProof(params)
  return computed !== null && bytesEqual(computed, params.root)
}

export type VerifyConsistencyProofParameters = {
  fromSize: number
  toSize: number
  fromRoot: Uint8Array
  toRoot: Uint8Array
  proof: readonly Uint8Array[]
}

/** True when `proof` shows the tree (`fromSize`, `fromRoot`) is a prefix of (`toSize`, `toRoot`) (RFC 9162 §2.1.4.2). */
export function verifyConsistencyProof(params: VerifyConsistencyProofParameters): boolean {
  const { fromSize, toSize, fromRoot, toRoot } = params
  if (!Number.isSafeInteger(fromSize) || !Number.isSafeInteger(toSize) || fromSize < 0 || toSize < fromSize) {
    return false
  }
  if (params.proof.some((p) => p.length !== MERKLE_HASH_BYTES)) return false
  if (fromSize === toSize) return params.proof.length === 0 && bytesEqual(fromRoot, toRoot)
  if (fromSize === 0) return params.proof.length === 0
  if (params.proof.length === 0) return false
  const proof = exactLog2(fromSize) >= 0 ? [fromRoot, ...params.proof] : [...params.proof]
  let fn = fromSize - 1
  let sn = toSize - 1
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  let fr = proof[0]!
  let sr = proof[0]!
  for (const c of proof.slice(1)) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      fr = merkleNodeHash(c, fr)
      sr = merkleNodeHash(c, sr)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      sr = merkleNodeHash(sr, c)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && bytesEqual(fr, fromRoot) && bytesEqual(sr, toRoot)
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
