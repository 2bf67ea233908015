import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import { NextToLast } from 'blockstore-fs/sharding'
import { FsDatastore } from 'datastore-fs'
import type { Key } from 'interface-datastore'
import type { CID } from 'multiformats/cid'

// blockstore-fs and datastore-fs write through `steno` (temp file + rename) without any fsync, so after a
// power loss a block can be missing or, worse, present with the wrong length, and Helia skips writing a
// block it believes it has. These subclasses keep the libraries' layouts and readers and replace the
// write path with the classic durable sequence: write a unique temp file, fdatasync it, rename it into
// place. A visible block file is therefore always complete; the rename itself becomes durable when the
// directory is fsynced, which the blockstore batches per upload (`syncBlocks`) and the datastore does
// per write (pins are written once per upload).

type Bytes = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>
type AbortOptions = { signal?: AbortSignal | undefined }

let tempCounter = 0

/** fsyncs a directory so that entries created, renamed or removed in it survive a crash. */
export async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Creates `directory` (and parents); fsyncs the parent of every directory it had to create. */
async function ensureDirectory(directory: string): Promise<void> {
  const firstCreated = await mkdir(directory, { recursive: true })
  if (firstCreated === undefined) return
  // mkdir -p created firstCreated and everything below it down to `directory`.
  const created: string[] = []
  for (let dir = directory; ; dir = path.dirname(dir)) {
    created.push(dir)
    if (dir === firstCreated || dir === path.dirname(dir)) break
  }
  for (const dir of created) await fsyncDirectory(path.dirname(dir))
}

/**
 * Makes sure `directory` exists and that its entry (and those of any parents up to `root`) is durable.
 * Done once per directory per process: even a directory that already existed may have been created by
 * a process killed before it fsynced the parent.
 */
function ensureDirectoryOnce(
  directory: string,
  root: string,
  done: Map<string, Promise<void>>,
): Promise<void> {
  let ready = done.get(directory)
  if (ready === undefined) {
    ready = (async () => {
      await mkdir(directory, { recursive: true })
      for (let dir = directory; dir !== root && dir.startsWith(root); dir = path.dirname(dir)) {
        await fsyncDirectory(path.dirname(dir))
      }
    })()
    done.set(directory, ready)
    ready.catch(() => done.delete(directory))
  }
  return ready
}

type WriteContext = { root: string; tempFiles: Set<string>; directories: Map<string, Promise<void>> }

/** Writes `file` atomically and durably except for the final directory fsync. */
async function writeFileDurably(
  file: string,
  contents: Bytes,
  { root, tempFiles, directories }: WriteContext,
  options?: AbortOptions,
): Promise<void> {
  options?.signal?.throwIfAborted()
  const dir = path.dirname(file)
  await ensureDirectoryOnce(dir, root, directories)
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${++tempCounter}.tmp`)
  tempFiles.add(temp)
  try {
    const handle = await open(temp, 'wx', 0o644)
    try {
      await handle.writeFile(contents, options?.signal ? { signal: options.signal } : {})
      await handle.datasync()
    } finally {
      await handle.close()
    }
    await rename(temp, file)
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  } finally {
    tempFiles.delete(temp)
  }
}

/** Removes temp files left by writes a crash interrupted; skips the ones in progress. */
async function removeStaleTempFiles(root: string, inProgress: Set<string>): Promise<number> {
  let removed = 0
  const visit = async (dir: string, depth: number): Promise<void> => {
    let entries: import('node:fs').Dirent[]
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory() && depth < 8) await visit(full, depth + 1)
      else if (
        entry.isFile() &&
        entry.name.startsWith('.') &&
        entry.name.endsWith('.tmp') &&
        !inProgress.has(full)
      ) {
        await unlink(full).catch(() => {})
        removed++
      }
    }
  }
  await visit(root, 0)
  return removed
}

/**
 * `FsBlockstore` whose writes are fsynced before they become visible, and which reads a block in one
 * read instead of 64 KiB stream pieces (blocks are at most a couple of MiB).
 */
export class DurableFsBlockstore extends FsBlockstore {
  readonly #sharding: NextToLast
  readonly #write: WriteContext

  constructor(location: string) {
    const sharding = new NextToLast()
    super(location, { shardingStrategy: sharding, putManyConcurrency: 8, getManyConcurrency: 8 })
    this.#sharding = sharding
    this.#write = { root: this.path, tempFiles: new Set(), directories: new Map() }
  }

  override async open(): Promise<void> {
    await ensureDirectory(this.path)
    await super.open()
  }

  override async put(key: CID, value: Bytes, options?: AbortOptions): Promise<CID> {
    await writeFileDurably(this.#pathOf(key), value, this.#write, options)
    return key
  }

  override async *get(key: CID, options?: AbortOptions): AsyncGenerator<Uint8Array> {
    options?.signal?.throwIfAborted()
    try {
      yield await readFile(this.#pathOf(key), options?.signal ? { signal: options.signal } : {})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      // interface-store's NotFoundError is recognised by name.
      throw Object.assign(new Error(`block not found: ${key}`, { cause: error }), { name: 'NotFoundError' })
    }
  }

  /** Makes the directory entries of these blocks durable (their contents already are). */
  async syncBlocks(cids: Iterable<CID>, options?: AbortOptions): Promise<void> {
    const dirs = new Set<string>()
    for (const cid of cids) dirs.add(path.dirname(this.#pathOf(cid)))
    const queue = [...dirs]
    // A few at a time: each is a journal commit on most filesystems and they overlap well.
    const worker = async (): Promise<void> => {
      for (let dir = queue.pop(); dir !== undefined; dir = queue.pop()) {
        options?.signal?.throwIfAborted()
        await fsyncDirectory(dir)
      }
    }
    await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker))
  }

  /** Where the block for `cid` lives; blocks are keyed by multihash, as in blockstore-fs. */
  blockPath(cid: CID): string {
    return this.#pathOf(cid)
  }

  removeStaleTempFiles(): Promise<number> {
    return removeStaleTempFiles(this.path, this.#write.tempFiles)
  }

  #pathOf(cid: CID): string {
    const { dir, file } = this.#sharding.encode(cid)
    return path.join(this.path, dir, file)
  }
}

/** `FsDatastore` whose puts and deletes are durable when they resolve. */
export class DurableFsDatastore extends FsDatastore {
  readonly #write: WriteContext

  constructor(location: string) {
    super(location)
    this.#write = { root: this.path, tempFiles: new Set(), directories: new Map() }
  }

  override async open(): Promise<void> {
    await ensureDirectory(this.path)
    await super.open()
  }

  override async put(key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    const { file } = this._encode(key)
    await writeFileDurably(file, value, this.#write, options)
    await fsyncDirectory(path.dirname(file))
    return key
  }

  override async delete(key: Key, options?: AbortOptions): Promise<void> {
    options?.signal?.throwIfAborted()
    const { file } = this._encode(key)
    try {
      await unlink(file)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      throw error
    }
    await fsyncDirectory(path.dirname(file))
  }

  removeStaleTempFiles(): Promise<number> {
    return removeStaleTempFiles(this.path, this.#write.tempFiles)
  }
}
