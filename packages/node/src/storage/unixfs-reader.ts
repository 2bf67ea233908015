import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { InvalidBlockError, InvalidRangeError } from './errors.js'

// The UnixFS exporter (ipfs-unixfs-exporter 16) pushes file data into an unbounded queue and, by
// default, fetches all children of a node at once: a 1 GiB file read by a slow client is buffered whole
// and keeps being read after the client went away. This reader pulls: one leaf at a time, read only when
// the consumer asks for more, and it stops as soon as the consumer stops.

/** Where blocks come from; backed by the local block store (and, for a networked node, by peers). */
export type BlockSource = {
  /** The block's bytes as a stream of pieces. */
  stream(cid: CID, signal?: AbortSignal): AsyncIterable<Uint8Array>
  /** The whole block; rejects blocks longer than `maxBytes`. */
  bytes(cid: CID, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array>
}

/** Internal DAG-PB nodes of a 1024-link balanced DAG are about 50 KiB. */
export const MAX_NODE_BYTES = 2 * 1024 * 1024
/** Largest single block served whole (raw leaves are 1 MiB; DAG-CBOR blocks are limited further on write). */
export const MAX_BLOCK_BYTES = 2 * 1024 * 1024
/** A balanced DAG of 1024-link nodes reaches 2^60 bytes at depth 5. */
const MAX_DEPTH = 16

export type Content =
  | { kind: 'block'; cid: CID; bytes: Uint8Array; size: number }
  | { kind: 'file'; cid: CID; node: dagPb.PBNode; unixfs: UnixFS; size: number }

function decodePbNode(cid: CID, bytes: Uint8Array): dagPb.PBNode {
  try {
    return dagPb.decode(bytes)
  } catch (error) {
    throw new InvalidBlockError({ reason: 'undecodable DAG-PB node', cid: cid.toString(), cause: error })
  }
}

function decodeFileNode(cid: CID, bytes: Uint8Array): { node: dagPb.PBNode; unixfs: UnixFS } {
  let node: dagPb.PBNode
  let unixfs: UnixFS
  try {
    node = dagPb.decode(bytes)
    if (node.Data === undefined) throw new Error('DAG-PB node without data')
    unixfs = UnixFS.unmarshal(node.Data)
  } catch (error) {
    throw new InvalidBlockError({ reason: 'not a UnixFS node', cid: cid.toString(), cause: error })
  }
  if (unixfs.type !== 'file' && unixfs.type !== 'raw') {
    throw new InvalidBlockError({ reason: `UnixFS ${unixfs.type} is not a file`, cid: cid.toString() })
  }
  if (node.Links.length !== unixfs.blockSizes.length) {
    throw new InvalidBlockError({ reason: 'UnixFS links and block sizes disagree', cid: cid.toString() })
  }
  return { node, unixfs }
}

function toSafeSize(value: bigint, cid: CID): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new InvalidBlockError({ reason: 'size out of range', cid: cid.toString() })
  }
  return Number(value)
}

/** Loads the root of `cid` and tells a UnixFS file from a single block. */
export async function openContent(source: BlockSource, cid: CID, signal?: AbortSignal): Promise<Content> {
  if (cid.code === dagPb.code) {
    const { node, unixfs } = decodeFileNode(cid, await source.bytes(cid, MAX_NODE_BYTES, signal))
    return { kind: 'file', cid, node, unixfs, size: toSafeSize(unixfs.fileSize(), cid) }
  }
  const bytes = await source.bytes(cid, MAX_BLOCK_BYTES, signal)
  return { kind: 'block', cid, bytes, size: bytes.byteLength }
}

/** Resolves `offset`/`length` against `size` to a half-open byte range. */
export function resolveRange(size: number, offset = 0, length?: number): { start: number; end: number } {
  const valid = (n: number) => Number.isSafeInteger(n) && n >= 0
  if (!valid(offset) || (length !== undefined && !valid(length)) || offset > size) {
    throw new InvalidRangeError({ offset, length, size })
  }
  return { start: offset, end: length === undefined ? size : Math.min(size, offset + length) }
}

/** Streams bytes `[start, end)` of `content`. */
export async function* readContent(
  source: BlockSource,
  content: Content,
  start: number,
  end: number,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  if (start >= end) return
  if (content.kind === 'block') {
    yield content.bytes.subarray(start, end)
    return
  }
  yield* readFileNode(source, content.cid, content.node, content.unixfs, 0, start, end, 0, signal)
}

async function* readFileNode(
  source: BlockSource,
  cid: CID,
  node: dagPb.PBNode,
  unixfs: UnixFS,
  nodeStart: number,
  start: number,
  end: number,
  depth: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  if (depth > MAX_DEPTH) throw new InvalidBlockError({ reason: 'DAG too deep', cid: cid.toString() })
  let position = nodeStart
  const data = unixfs.data
  if (data !== undefined && data.byteLength > 0) {
    const from = Math.max(start, position)
    const to = Math.min(end, position + data.byteLength)
    if (from < to) yield data.subarray(from - position, to - position)
    position += data.byteLength
  }
  for (let i = 0; i < node.Links.length && position < end; i++) {
    const link = node.Links[i]!.Hash
    const childSize = toSafeSize(unixfs.blockSizes[i]!, cid)
    const childStart = position
    position += childSize
    if (position <= start) continue
    signal?.throwIfAborted()
    if (link.code === raw.code) {
      yield* readRawLeaf(source, link, childStart, childSize, start, end, signal)
    } else if (link.code === dagPb.code) {
      const child = decodeFileNode(link, await source.bytes(link, MAX_NODE_BYTES, signal))
      if (toSafeSize(child.unixfs.fileSize(), link) !== childSize) {
        throw new InvalidBlockError({
          reason: 'UnixFS block size disagrees with child',
          cid: link.toString(),
        })
      }
      yield* readFileNode(source, link, child.node, child.unixfs, childStart, start, end, depth + 1, signal)
    } else {
      throw new InvalidBlockError({
        reason: `unsupported codec 0x${link.code.toString(16)}`,
        cid: link.toString(),
      })
    }
  }
}

async function* readRawLeaf(
  source: BlockSource,
  cid: CID,
  blockStart: number,
  blockSize: number,
  start: number,
  end: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  let position = blockStart
  for await (const piece of source.stream(cid, signal)) {
    const pieceStart = position
    position += piece.byteLength
    if (position - blockStart > blockSize) break
    const from = Math.max(start, pieceStart)
    const to = Math.min(end, position)
    if (from < to) yield piece.subarray(from - pieceStart, to - pieceStart)
    // Returning here ends the block stream, which closes the file.
    if (position >= end) return
  }
  if (position - blockStart !== blockSize) {
    throw new InvalidBlockError({ reason: 'leaf length disagrees with its parent', cid: cid.toString() })
  }
}

/** Counts the blocks of the DAG under `content` without reading raw leaves. */
export async function countBlocks(
  source: BlockSource,
  content: Content,
  signal?: AbortSignal,
): Promise<number> {
  if (content.kind === 'block') return 1
  const countNode = async (node: dagPb.PBNode, depth: number): Promise<number> => {
    if (depth > MAX_DEPTH)
      throw new InvalidBlockError({ reason: 'DAG too deep', cid: content.cid.toString() })
    let count = 1
    for (const { Hash: link } of node.Links) {
      signal?.throwIfAborted()
      if (link.code === dagPb.code) {
        count += await countNode(
          decodePbNode(link, await source.bytes(link, MAX_NODE_BYTES, signal)),
          depth + 1,
        )
      } else {
        count += 1
      }
    }
    return count
  }
  return countNode(content.node, 0)
}

/**
 * Visits every block reachable from `cid` (DAG-PB links are followed; any other codec is a leaf and is
 * not read). `visit` returns false for a block already seen, which prunes shared subtrees.
 */
export async function walkDag(
  source: BlockSource,
  cid: CID,
  visit: (cid: CID) => boolean,
  signal?: AbortSignal,
): Promise<void> {
  const walk = async (current: CID, depth: number): Promise<void> => {
    if (!visit(current) || current.code !== dagPb.code) return
    if (depth > MAX_DEPTH) throw new InvalidBlockError({ reason: 'DAG too deep', cid: current.toString() })
    signal?.throwIfAborted()
    const node = decodePbNode(current, await source.bytes(current, MAX_NODE_BYTES, signal))
    for (const link of node.Links) await walk(link.Hash, depth + 1)
  }
  await walk(cid, 0)
}
