import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { create, type KuboRPCClient } from 'kubo-rpc-client'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  BlockNotFoundError,
  CidMismatchError,
  InvalidBlockError,
  IpfsUnavailableError,
  StoreClosedError,
  TooLargeError,
} from './errors.js'
import { CHUNK_SIZE, MAX_DAG_CBOR_BYTES, validateDagCbor } from './helia-blob-store.js'
import { meterSource } from './meter-source.js'
import type {
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
import {
  type BlockSource,
  countBlocks,
  MAX_BLOCK_BYTES,
  openContent,
  readContent,
  resolveRange,
} from './unixfs-reader.js'

/** Links per UnixFS file node: the `unixfs-v1-2025` profile, as the embedded store builds DAGs. */
export const MAX_FILE_LINKS = 1024

export type CreateKuboBlobStoreParameters = {
  /**
   * The Kubo RPC API, e.g. `http://127.0.0.1:5001` (`/api/v0` is added when the URL has no path).
   * `user:password@` in the URL becomes a Basic `Authorization` header (Kubo's `API.Authorizations`).
   */
  url: string
  /**
   * Bound on one block read or existence check. Kubo answers at once for a block it does not hold
   * (every read is sent with `offline=true`); the bound is for servers that ignore `offline` and would
   * otherwise ask the network (such a read is then reported as not found).
   */
  blockTimeoutMs?: number | undefined
  /** Bound on the health probe (`version`). */
  probeTimeoutMs?: number | undefined
}

const SHA2_256 = sha256.code

// Import parameters sent with every add, so the DAG (and its CID) is the one the embedded store builds
// for the same bytes: CIDv1, raw leaves, fixed 1 MiB chunks, balanced layout with 1024 links per node.
// `max-file-links` is honoured by Kubo 0.35 and later; an older server builds 174-link nodes, which
// changes the CID of files over 174 MiB (never their content).
const ADD_OPTIONS = {
  cidVersion: 1,
  rawLeaves: true,
  chunker: `size-${CHUNK_SIZE}`,
  hashAlg: 'sha2-256',
  trickle: false,
  wrapWithDirectory: false,
  pin: true,
} as const

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Kubo's "not here" answers (offline reads) and the timeout of a server that ignored `offline`. */
function isMissing(error: unknown): boolean {
  if (errorName(error) === 'TimeoutError') return true
  return /not found|could not find|no such block|request timed out|deadline exceeded/i.test(
    errorMessage(error),
  )
}

/** The RPC endpoint did not answer at all (refused, reset, DNS), as opposed to answering with an error. */
function isUnreachable(error: unknown): boolean {
  return (
    errorName(error) !== 'HTTPError' &&
    (error instanceof TypeError || /fetch failed|ECONN/i.test(errorMessage(error)))
  )
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i])
}

function splitCredentials(url: string): { url: string; authorization?: string } {
  const parsed = new URL(url)
  if (!parsed.username && !parsed.password) return { url: parsed.toString().replace(/\/$/, '') }
  const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`
  parsed.username = ''
  parsed.password = ''
  return {
    url: parsed.toString().replace(/\/$/, ''),
    authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
  }
}

/**
 * A {@link BlobStore} over a Kubo node's RPC API (`kubo-rpc-client`): ciphertext is added and pinned
 * on that node, which may serve it to other IPFS peers. Content is read back block by block with
 * `offline=true`, and every block is hashed against its CID before a byte of it is used: the remote
 * node is not trusted to return what was asked for. Reads, ranges and errors behave as with the
 * embedded store (same UnixFS reader).
 *
 * Differences from the embedded store: durability of blocks and pins is the Kubo node's (its flatfs
 * `sync` setting); `gc()` runs Kubo's repository GC, which removes every unpinned block on that node;
 * `pins()` lists every pin of the node, not only this PCMIMS node's, with no size or time recorded.
 */
export function createKuboBlobStore({
  url,
  blockTimeoutMs = 10_000,
  probeTimeoutMs = 3_000,
}: CreateKuboBlobStoreParameters): BlobStore {
  const endpoint = splitCredentials(url)
  const client: KuboRPCClient = create({
    url: endpoint.url,
    ...(endpoint.authorization ? { headers: { authorization: endpoint.authorization } } : {}),
  })
  // The URL as it may be shown: without credentials.
  const shownUrl = endpoint.url
  let closed = false
  const inflight = new Set<AbortController>()

  const assertOpen = () => {
    if (closed) throw new StoreClosedError()
  }

  /** A signal that aborts with the caller's, after `timeoutMs`, or when the store stops. */
  const track = (signal: AbortSignal | undefined, timeoutMs?: number) => {
    const controller = new AbortController()
    inflight.add(controller)
    const signals = [controller.signal]
    if (signal) signals.push(signal)
    if (timeoutMs !== undefined) signals.push(AbortSignal.timeout(timeoutMs))
    return { signal: AbortSignal.any(signals), done: () => inflight.delete(controller) }
  }

  /** Turns a client error into the store's errors; the caller's abort reason wins. */
  const translate = (error: unknown, signal: AbortSignal | undefined, cid?: CID): unknown => {
    if (signal?.aborted) return signal.reason
    if (closed) return new StoreClosedError()
    if (cid && isMissing(error)) return new BlockNotFoundError({ cid: cid.toString(), cause: error })
    if (isUnreachable(error)) return new IpfsUnavailableError({ url: shownUrl, cause: error })
    return error
  }

  const readOptions = (signal: AbortSignal) => ({
    signal,
    // Kubo answers "not found" at once instead of asking the network; the server-side timeout bounds
    // servers that ignore `offline`.
    searchParams: new URLSearchParams({ offline: 'true', timeout: `${blockTimeoutMs}ms` }),
  })

  const fetchBlock = async (cid: CID, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array> => {
    assertOpen()
    if (cid.multihash.code !== SHA2_256) {
      throw new InvalidBlockError({ reason: 'only sha2-256 CIDs are read', cid: cid.toString() })
    }
    // Client-side bound a little above the server's, so the server's answer (not found) comes first.
    const request = track(signal, blockTimeoutMs + 1_000)
    let bytes: Uint8Array
    try {
      bytes = await client.block.get(cid, readOptions(request.signal))
    } catch (error) {
      throw translate(error, signal, cid)
    } finally {
      request.done()
    }
    if (bytes.byteLength > maxBytes) {
      throw new InvalidBlockError({ reason: 'block too large', cid: cid.toString() })
    }
    const digest = await sha256.digest(bytes)
    if (!sameBytes(digest.digest, cid.multihash.digest)) {
      throw new InvalidBlockError({ reason: 'the IPFS node returned other bytes', cid: cid.toString() })
    }
    return bytes
  }

  const source: BlockSource = {
    async *stream(cid, signal) {
      yield await fetchBlock(cid, MAX_BLOCK_BYTES, signal)
    },
    bytes: (cid, maxBytes, signal) => fetchBlock(cid, maxBytes, signal),
  }

  /** Stores a DAG-CBOR block and pins it directly (not its links), as the embedded store does. */
  const storeBlock = async (cid: CID, bytes: Uint8Array, signal?: AbortSignal): Promise<CID> => {
    assertOpen()
    const request = track(signal)
    try {
      // `cid-codec` since Kubo 0.13 (which refuses it together with the legacy `format`); servers
      // from before that ignore it and take `format` instead, so an answer with another CID is retried
      // that way (the block stored under the wrong CID is unpinned garbage).
      let stored = await client.block.put(bytes, {
        signal: request.signal,
        mhtype: 'sha2-256',
        searchParams: new URLSearchParams({ 'cid-codec': 'dag-cbor' }),
      })
      if (!sameBytes(stored.bytes, cid.bytes)) {
        stored = await client.block.put(bytes, {
          signal: request.signal,
          mhtype: 'sha2-256',
          format: 'dag-cbor',
        })
      }
      if (!sameBytes(stored.bytes, cid.bytes)) {
        throw new InvalidBlockError({
          reason: `the IPFS node stored the block as ${stored.toString()}`,
          cid: cid.toString(),
        })
      }
      request.signal.throwIfAborted()
      await client.pin.add(cid, {
        recursive: false,
        signal: request.signal,
        searchParams: new URLSearchParams({ offline: 'true' }),
      })
      return cid
    } catch (error) {
      throw translate(error, signal)
    } finally {
      request.done()
    }
  }

  return {
    async add(input: AsyncIterable<Uint8Array>, { signal, onProgress, maxBytes }: AddParameters = {}) {
      assertOpen()
      signal?.throwIfAborted()
      let size = 0
      // kubo-rpc-client swallows a failing source (it aborts the request instead); keep its error.
      let sourceError: unknown
      const metered = meterSource(input, {
        signal,
        maxBytes,
        onProgress: (bytes) => {
          size = bytes
          onProgress?.(bytes)
        },
      })
      const content = (async function* () {
        try {
          yield* metered
        } catch (error) {
          sourceError = error
          throw error
        }
      })()
      const request = track(signal)
      let cid: CID
      try {
        // One request, pin included: Kubo pins under its GC lock, so a GC cannot collect the blocks
        // between the add and the pin. An aborted request never completes its multipart body, so Kubo
        // stores no file and pins nothing.
        const added = await client.add(content, {
          ...ADD_OPTIONS,
          signal: request.signal,
          searchParams: new URLSearchParams({ 'max-file-links': String(MAX_FILE_LINKS) }),
        })
        cid = added.cid
        if (sourceError !== undefined || signal?.aborted) {
          // The source failed but the server still saw a complete body: drop what it imported.
          await client.pin.rm(cid, { recursive: true }).catch(() => undefined)
          throw sourceError ?? signal?.reason
        }
      } catch (error) {
        if (signal?.aborted) throw signal.reason
        if (sourceError !== undefined) throw sourceError
        throw translate(error, signal)
      } finally {
        request.done()
      }
      if (
        cid.version !== 1 ||
        (cid.code !== raw.code && cid.code !== dagPb.code) ||
        cid.multihash.code !== SHA2_256
      ) {
        // A server that ignored the import parameters: its CID is not one this node hands out.
        await client.pin.rm(cid, { recursive: true }).catch(() => undefined)
        throw new InvalidBlockError({
          reason: 'the IPFS node did not import as CIDv1 with raw leaves and sha2-256',
          cid: cid.toString(),
        })
      }
      return { cid, size } satisfies AddReturnType
    },

    async *cat(cid: CID, { signal, offset, length }: CatParameters = {}) {
      assertOpen()
      const content = await openContent(source, cid, signal)
      const { start, end } = resolveRange(content.size, offset, length)
      yield* readContent(source, content, start, end, signal)
    },

    async stat(cid: CID, { signal }: SignalParameters = {}): Promise<StatReturnType> {
      assertOpen()
      const content = await openContent(source, cid, signal)
      return { size: content.size, blocks: await countBlocks(source, content, signal) }
    },

    async has(cid: CID, { signal }: SignalParameters = {}) {
      assertOpen()
      const request = track(signal, blockTimeoutMs + 1_000)
      try {
        await client.block.stat(cid, readOptions(request.signal))
        return true
      } catch (error) {
        const translated = translate(error, signal, cid)
        if (translated instanceof BlockNotFoundError) return false
        throw translated
      } finally {
        request.done()
      }
    },

    async putBlock(bytes: Uint8Array, { codec, signal }: PutBlockParameters) {
      assertOpen()
      if (codec !== 'dag-cbor') throw new InvalidBlockError({ reason: `unsupported codec ${String(codec)}` })
      validateDagCbor(bytes)
      const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
      return storeBlock(cid, bytes, signal)
    },

    async putBlockWithCid(cid: CID, bytes: Uint8Array, { signal }: SignalParameters = {}) {
      assertOpen()
      if (cid.version !== 1 || cid.code !== dagCbor.code) {
        throw new InvalidBlockError({
          reason: 'only CIDv1 DAG-CBOR blocks are accepted',
          cid: cid.toString(),
        })
      }
      if (cid.multihash.code !== SHA2_256 || cid.multihash.size !== 32) {
        throw new InvalidBlockError({ reason: 'only sha2-256 CIDs are accepted', cid: cid.toString() })
      }
      if (bytes.byteLength > MAX_DAG_CBOR_BYTES) throw new TooLargeError({ limit: MAX_DAG_CBOR_BYTES })
      const digest = await sha256.digest(bytes)
      if (!sameBytes(digest.digest, cid.multihash.digest)) throw new CidMismatchError({ cid: cid.toString() })
      validateDagCbor(bytes, cid)
      return storeBlock(cid, bytes, signal)
    },

    async getBlock(cid: CID, { signal }: SignalParameters = {}) {
      return fetchBlock(cid, MAX_BLOCK_BYTES, signal)
    },

    async unpin(cid: CID, { signal }: SignalParameters = {}) {
      assertOpen()
      const request = track(signal)
      try {
        // `recursive=true` removes a recursive pin, or else a direct one.
        await client.pin.rm(cid, { recursive: true, signal: request.signal })
      } catch (error) {
        // Idempotent, as the embedded store's.
        if (/not pinned/i.test(errorMessage(error))) return
        throw translate(error, signal)
      } finally {
        request.done()
      }
    },

    async *pins({ signal }: SignalParameters = {}): AsyncGenerator<Pin> {
      assertOpen()
      for (const type of ['recursive', 'direct'] as const) {
        const request = track(signal)
        try {
          for await (const pin of client.pin.ls({ type, signal: request.signal })) {
            // Kubo keeps neither the content size nor the time of a pin.
            yield { cid: pin.cid, type, size: 0, pinnedAt: 0 }
          }
        } catch (error) {
          throw translate(error, signal)
        } finally {
          request.done()
        }
      }
    },

    async gc({ signal }: SignalParameters = {}): Promise<GcReturnType> {
      assertOpen()
      const request = track(signal)
      let removedBlocks = 0
      try {
        for await (const result of client.repo.gc({ signal: request.signal, quiet: false })) {
          if (result.err) throw result.err
          removedBlocks++
        }
        return { removedBlocks }
      } catch (error) {
        throw translate(error, signal)
      } finally {
        request.done()
      }
    },

    async health({ signal }: SignalParameters = {}): Promise<StoreHealth> {
      if (closed) return { mode: 'kubo', ok: false, error: 'stopped' }
      const started = performance.now()
      const request = track(signal, probeTimeoutMs)
      try {
        const { version } = await client.version({ signal: request.signal })
        return { mode: 'kubo', ok: true, latencyMs: Math.round(performance.now() - started), version }
      } catch (error) {
        return {
          mode: 'kubo',
          ok: false,
          latencyMs: Math.round(performance.now() - started),
          error: isUnreachable(error) || errorName(error) === 'TimeoutError' ? 'unreachable' : 'error',
        }
      } finally {
        request.done()
      }
    },

    async stop() {
      if (closed) return
      closed = true
      for (const controller of inflight) controller.abort(new StoreClosedError())
      inflight.clear()
    },
  }
}

/** Checks that a Kubo RPC API answers (at start, so a wrong URL fails the start, not the first upload). */
export async function probeKubo(store: BlobStore, url: string): Promise<void> {
  const health = await store.health?.()
  if (health && !health.ok) {
    throw new IpfsUnavailableError({
      url: splitCredentials(url).url,
      cause: new Error(health.error ?? 'no answer'),
    })
  }
}
