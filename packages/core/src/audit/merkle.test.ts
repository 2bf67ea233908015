import { readFileSync } from 'node:fs'
import { sha256 } from '@noble/hashes/sha2.js'
import fc from 'fast-check'
import { bytesToHex, hexToBytes } from 'viem'
import { describe, expect, it } from 'vitest'
import {
  emptyMerkleRoot,
  MerkleTree,
  merkleLeafHash,
  merkleNodeHash,
  merkleRoot,
  rootFromInclusionProof,
  verifyConsistencyProof,
  verifyInclusionProof,
} from './merkle.js'

type Kat = {
  leaves: string[]
  roots: string[]
  nodeHashes: string[][]
  inclusion: Array<{ index: number; size: number; proof: string[] }>
  consistency: Array<{ fromSize: number; toSize: number; proof: string[] }>
}
const kat = JSON.parse(
  readFileSync(new URL('../../../../fixtures/crypto/merkle-rfc6962.json', import.meta.url), 'utf8'),
) as Kat

const b = (hex: string) => hexToBytes(`0x${hex}`)
const h = (bytes: Uint8Array) => bytesToHex(bytes).slice(2)
const leafHashes = kat.leaves.map((leaf) => merkleLeafHash(b(leaf)))
const tree = new MerkleTree(leafHashes)

// The RFC's recursive definitions, written literally, as an independent model for the properties.
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0))
  if (leaves.length === 1) return leaves[0]!
  let k = 1
  while (k * 2 < leaves.length) k *= 2
  return merkleNodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)))
}
function path(m: number, leaves: Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return []
  let k = 1
  while (k * 2 < leaves.length) k *= 2
  return m < k
    ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))]
    : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))]
}
function subproof(m: number, leaves: Uint8Array[], complete: boolean): Uint8Array[] {
  const n = leaves.length
  if (m === n) return complete ? [] : [mth(leaves)]
  let k = 1
  while (k * 2 < n) k *= 2
  return m <= k
    ? [...subproof(m, leaves.slice(0, k), complete), mth(leaves.slice(k))]
    : [...subproof(m - k, leaves.slice(k), false), mth(leaves.slice(0, k))]
}

function flip(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice()
  copy[(bit >> 3) % copy.length]! ^= 1 << (bit & 7)
  return copy
}

describe('RFC 6962 reference vectors', () => {
  it('roots of every prefix size 0..8', () => {
    expect(h(emptyMerkleRoot())).toBe(kat.roots[0])
    expect(h(merkleRoot([]))).toBe(kat.roots[0])
    for (let size = 0; size <= 8; size++) {
      expect(h(tree.root(size)), `size ${size}`).toBe(kat.roots[size])
      expect(h(merkleRoot(leafHashes.slice(0, size)))).toBe(kat.roots[size])
    }
  })

  it('leaf hashes and complete subtree hashes', () => {
    kat.nodeHashes[0]!.forEach((hash, i) => {
      expect(h(leafHashes[i]!)).toBe(hash)
      expect(h(tree.leaf(i))).toBe(hash)
    })
    for (let level = 1; level < kat.nodeHashes.length; level++) {
      kat.nodeHashes[level]!.forEach((hash, i) => {
        const span = 2 ** level
        expect(h(new MerkleTree(leafHashes.slice(i * span, (i + 1) * span)).root())).toBe(hash)
      })
    }
  })

  it('inclusion proofs: generated equal the published ones and verify', () => {
    for (const v of kat.inclusion) {
      const proof = tree.inclusionProof(v.index, v.size)
      expect(proof.map(h), `${v.index}/${v.size}`).toEqual(v.proof)
      const params = {
        leafHash: leafHashes[v.index]!,
        index: v.index,
        size: v.size,
        proof: v.proof.map(b),
        root: b(kat.roots[v.size]!),
      }
      expect(verifyInclusionProof(params)).toBe(true)
      expect(h(rootFromInclusionProof(params)!)).toBe(kat.roots[v.size])
    }
  })

  it('consistency proofs: generated equal the published ones and verify', () => {
    for (const v of kat.consistency) {
      expect(tree.consistencyProof(v.fromSize, v.toSize).map(h), `${v.fromSize}→${v.toSize}`).toEqual(v.proof)
      expect(
        verifyConsistencyProof({
          fromSize: v.fromSize,
          toSize: v.toSize,
          fromRoot: b(kat.roots[v.fromSize]!),
          toRoot: b(kat.roots[v.toSize]!),
          proof: v.proof.map(b),
        }),
      ).toBe(true)
    }
  })

  it('rejects the corrupted probes of the reference verifier tests', () => {
    const someHash = b('abacaba000000000000000000000000000000000000000000060061e00123456')
    for (const v of kat.inclusion.filter((x) => x.proof.length > 0)) {
      const good = {
        leafHash: leafHashes[v.index]!,
        index: v.index,
        size: v.size,
        proof: v.proof.map(b),
        root: b(kat.roots[v.size]!),
      }
      const probes = [
        { ...good, index: v.index - 1 },
        { ...good, index: v.index + 1 },
        { ...good, index: v.index ^ 2 },
        { ...good, size: v.size * 2 },
        { ...good, size: Math.floor(v.size / 2) },
        { ...good, leafHash: sha256(new TextEncoder().encode('WrongLeaf')) },
        { ...good, root: emptyMerkleRoot() },
        { ...good, root: someHash },
        { ...good, proof: [...good.proof, new Uint8Array(0)] },
        { ...good, proof: [...good.proof, good.root] },
        { ...good, proof: [new Uint8Array(0), ...good.proof] },
        { ...good, proof: [good.root, ...good.proof] },
        { ...good, proof: good.proof.slice(0, -1) },
        ...good.proof.map((_, i) => ({
          ...good,
          proof: good.proof.map((p, j) => (i === j ? flip(p, 3) : p)),
        })),
      ]
      for (const probe of probes) expect(verifyInclusionProof(probe)).toBe(false)
    }
    for (const v of kat.consistency.filter((x) => x.proof.length > 0)) {
      const good = {
        fromSize: v.fromSize,
        toSize: v.toSize,
        fromRoot: b(kat.roots[v.fromSize]!),
        toRoot: b(kat.roots[v.toSize]!),
        proof: v.proof.map(b),
      }
      const probes = [
        { ...good, fromSize: v.fromSize - 1 },
        { ...good, fromSize: v.fromSize + 1 },
        { ...good, fromSize: v.fromSize ^ 2 },
        { ...good, toSize: v.toSize * 2 },
        { ...good, toSize: Math.floor(v.toSize / 2) },
        { ...good, fromRoot: someHash },
        { ...good, toRoot: someHash },
        { ...good, fromRoot: good.toRoot, toRoot: good.fromRoot },
        { ...good, proof: [] },
        { ...good, proof: [...good.proof, good.fromRoot] },
        { ...good, proof: [...good.proof, good.toRoot] },
        { ...good, proof: [good.fromRoot, ...good.proof] },
        { ...good, proof: [good.toRoot, ...good.proof] },
        { ...good, proof: [good.proof[0]!, ...good.proof] },
        { ...good, proof: good.proof.slice(0, -1) },
        ...good.proof.map((_, i) => ({
          ...good,
          proof: good.proof.map((p, j) => (i === j ? flip(p, 4) : p)),
        })),
      ]
      for (const probe of probes) expect(verifyConsistencyProof(probe)).toBe(false)
    }
  })

  it('trivial cases: empty proofs only where the RFC allows them', () => {
    const r = b(kat.roots[3]!)
    expect(verifyConsistencyProof({ fromSize: 0, toSize: 3, fromRoot: r, toRoot: r, proof: [] })).toBe(true)
    expect(verifyConsistencyProof({ fromSize: 3, toSize: 3, fromRoot: r, toRoot: r, proof: [] })).toBe(true)
    expect(
      verifyConsistencyProof({ fromSize: 3, toSize: 3, fromRoot: r, toRoot: emptyMerkleRoot(), proof: [] }),
    ).toBe(false)
    expect(verifyConsistencyProof({ fromSize: 3, toSize: 3, fromRoot: r, toRoot: r, proof: [r] })).toBe(false)
    expect(verifyConsistencyProof({ fromSize: 4, toSize: 3, fromRoot: r, toRoot: r, proof: [] })).toBe(false)
    expect(rootFromInclusionProof({ leafHash: r, index: 0, size: 0, proof: [] })).toBeNull()
    expect(rootFromInclusionProof({ leafHash: r, index: 1, size: 1, proof: [] })).toBeNull()
    expect(() => tree.inclusionProof(8, 8)).toThrow(RangeError)
    expect(() => tree.consistencyProof(5, 9)).toThrow(RangeError)
  })
})

describe('properties', () => {
  const leavesArb = fc
    .array(fc.uint8Array({ minLength: 0, maxLength: 12 }), { minLength: 1, maxLength: 70 })
    .map((data) => data.map(merkleLeafHash))

  it('the tree agrees with the RFC recursion: roots, paths and subproofs of every prefix', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), (leaves, a, c) => {
        const t = new MerkleTree(leaves)
        const size = 1 + (a % leaves.length)
        const index = c % size
        const prefix = leaves.slice(0, size)
        expect(h(t.root(size))).toBe(h(mth(prefix)))
        expect(t.inclusionProof(index, size).map(h)).toEqual(path(index, prefix).map(h))
        const from = 1 + (c % size)
        expect(t.consistencyProof(from, size).map(h)).toEqual(
          (from === size ? [] : subproof(from, prefix, true)).map(h),
        )
      }),
      { numRuns: 300 },
    )
  })

  it('every inclusion proof verifies; a flipped bit anywhere fails', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), fc.nat(), (leaves, a, c, bit) => {
        const t = new MerkleTree(leaves)
        const size = 1 + (a % leaves.length)
        const index = c % size
        const root = t.root(size)
        const proof = t.inclusionProof(index, size)
        const good = { leafHash: leaves[index]!, index, size, proof, root }
        expect(verifyInclusionProof(good)).toBe(true)
        // One bit flipped in the leaf, the root or any proof element.
        const targets = 2 + proof.length
        const target = bit % targets
        const flipped = Math.floor(bit / targets)
        if (target === 0)
          expect(verifyInclusionProof({ ...good, leafHash: flip(good.leafHash, flipped) })).toBe(false)
        else if (target === 1)
          expect(verifyInclusionProof({ ...good, root: flip(root, flipped) })).toBe(false)
        else {
          const i = target - 2
          const bad = proof.map((p, j) => (j === i ? flip(p, flipped) : p))
          expect(verifyInclusionProof({ ...good, proof: bad })).toBe(false)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('every consistency proof verifies; a flipped bit anywhere fails', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), fc.nat(), (leaves, a, c, bit) => {
        const t = new MerkleTree(leaves)
        const toSize = 1 + (a % leaves.length)
        const fromSize = 1 + (c % toSize)
        const fromRoot = t.root(fromSize)
        const toRoot = t.root(toSize)
        const proof = t.consistencyProof(fromSize, toSize)
        const good = { fromSize, toSize, fromRoot, toRoot, proof }
        expect(verifyConsistencyProof(good)).toBe(true)
        const targets = 2 + proof.length
        const target = bit % targets
        const flipped = Math.floor(bit / targets)
        if (target === 0) {
          expect(verifyConsistencyProof({ ...good, fromRoot: flip(fromRoot, flipped) })).toBe(false)
        } else if (target === 1) {
          expect(verifyConsistencyProof({ ...good, toRoot: flip(toRoot, flipped) })).toBe(false)
        } else {
          const i = target - 2
          const bad = proof.map((p, j) => (j === i ? flip(p, flipped) : p))
          expect(verifyConsistencyProof({ ...good, proof: bad })).toBe(false)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('a changed leaf changes the root of every tree that contains it', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), (leaves, a, bit) => {
        const index = a % leaves.length
        const changed = leaves.map((l, i) => (i === index ? flip(l, bit) : l))
        const t1 = new MerkleTree(leaves)
        const t2 = new MerkleTree(changed)
        for (let size = index + 1; size <= leaves.length; size++) {
          expect(h(t2.root(size))).not.toBe(h(t1.root(size)))
        }
      }),
    )
  })
})
