import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'

export const MiB = 1024 * 1024

/** Creates a temp directory; call the returned cleanup afterwards. */
export async function tempDirectory(): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pcmims-storage-'))
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

/** Yields `bytes` in irregular pieces, as a network upload would arrive. */
export async function* chunked(
  bytes: Uint8Array,
  sizes = [65_536, 1, 300_001, 7, 1_048_577],
): AsyncGenerator<Uint8Array> {
  let offset = 0
  for (let i = 0; offset < bytes.byteLength; i++) {
    const size = sizes[i % sizes.length]!
    yield bytes.subarray(offset, offset + size)
    offset += size
    await Promise.resolve()
  }
}

export async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const pieces: Uint8Array[] = []
  for await (const piece of source) pieces.push(piece)
  return new Uint8Array(Buffer.concat(pieces))
}

export function random(size: number): Uint8Array {
  return new Uint8Array(randomBytes(size))
}

/** Block files (`*.data`) currently under `<store>/blocks`. */
export async function blockFiles(directory: string): Promise<string[]> {
  const entries = await readdir(path.join(directory, 'blocks'), { recursive: true })
  return entries.filter((name) => name.endsWith('.data')).sort()
}

export async function toArray<T>(source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of source) items.push(item)
  return items
}
