import { Inflate } from 'fflate'
import { InvalidFormatError } from '../records/errors.js'
import { assertSafeRelativePath } from '../records/manifest.js'
import { crc32 } from './crc32.js'
import { MediaError } from './errors.js'
import type { RandomAccessSource } from './random-access.js'

/*
 * Why this shape: fflate (already core's inflater: small, dependency-free, isomorphic, streaming) does the
 * DEFLATE, which is the dangerous part, with its output counted as it is produced. Its unzip API, though,
 * hides what a hostile-input reader has to see before inflating anything — the general-purpose flags
 * (encryption), ZIP64 markers, local header offsets (overlapping entries: the "non-recursive" zip bomb),
 * Unix mode bits (symlinks) — and wants the whole archive in memory. So the directory (a few fixed-layout
 * records, APPNOTE 4.3.12 / 4.3.16) is read here, from a random-access source, and each entry is inflated
 * lazily when opened. adm-zip / node-stream-zip / yauzl are Node-only; core must also run in the browser.
 */

/** Defaults: a 300-slice CT or a DVD export fits; a zip bomb does not. */
export const ZIP_LIMITS = {
  maxEntries: 20_000,
  maxEntryBytes: 1024 ** 3,
  maxTotalBytes: 8 * 1024 ** 3,
  /** Largest central directory read into memory. */
  maxDirectoryBytes: 64 * 1024 * 1024,
}

export type ZipEntry = {
  /** Relative `/`-separated path inside the archive (checked like a manifest path); never a file-system path. */
  path: string
  /** Uncompressed size as declared; `open()` refuses to produce more or less. */
  size: number
  compressedSize: number
  method: 'stored' | 'deflate'
  /** Streams the entry's bytes, inflating as it goes; checks size and CRC-32 at the end. */
  open(options?: { signal?: AbortSignal | undefined }): AsyncIterable<Uint8Array>
}

export type ReadZipParameters = {
  source: RandomAccessSource
  /** The archive's name, for error messages only. */
  name?: string | undefined
  maxEntries?: number | undefined
  maxEntryBytes?: number | undefined
  maxTotalBytes?: number | undefined
  signal?: AbortSignal | undefined
}

export type ReadZipReturnType = {
  /** Files, in directory order. Directories, `__MACOSX/` and dot files are left out. */
  entries: ZipEntry[]
  /** Names left out on purpose (`__MACOSX/…`, dot files), for a caller that wants to say so. */
  skipped: string[]
}

const EOCD = 0x06054b50
const ZIP64_LOCATOR = 0x07064b50
const CENTRAL = 0x02014b50
const LOCAL = 0x04034b50
const READ_SLICE = 256 * 1024
/** Compressed input is fed in slices this small so one push cannot overshoot a cap by more than ~4 MiB. */
const INFLATE_SLICE = 4096
const utf8 = new TextDecoder('utf-8', { fatal: true })
const latin1 = new TextDecoder('latin1')

/**
 * Lists a ZIP archive's files without inflating anything, refusing (with a {@link MediaError} naming the
 * archive and entry) whatever is unsafe or ambiguous: too many entries, declared sizes past the caps,
 * unsafe names, duplicates, encryption, ZIP64, multi-disk, methods other than stored/deflate, symlinks,
 * nested ZIPs, local headers that disagree with the directory or overlap.
 */
export async function readZip(params: ReadZipParameters): Promise<ReadZipReturnType> {
  const { source, signal } = params
  const name = params.name
  const maxEntries = params.maxEntries ?? ZIP_LIMITS.maxEntries
  const maxEntryBytes = params.maxEntryBytes ?? ZIP_LIMITS.maxEntryBytes
  const maxTotalBytes = params.maxTotalBytes ?? ZIP_LIMITS.maxTotalBytes
  const fail = (code: ConstructorParameters<typeof MediaError>[0], problem: string, entry?: string) =>
    new MediaError(code, problem, { source: name, entry })

  if (source.size < 22) throw fail('ZIP_CORRUPT', 'not a ZIP archive (too short)')
  const tailLength = Math.min(source.size, 22 + 0xffff)
  const tailStart = source.size - tailLength
  const tail = await source.read(tailStart, tailLength, { signal })
  const tailView = view(tail)
  let eocd = -1
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tailView.getUint32(i, true) === EOCD && i + 22 + tailView.getUint16(i + 20, true) <= tail.length) {
      eocd = i
      break
    }
  }
  if (eocd < 0) throw fail('ZIP_CORRUPT', 'not a ZIP archive (no end of central directory record)')
  if (eocd >= 20 && tailView.getUint32(eocd - 20, true) === ZIP64_LOCATOR)
    throw fail('ZIP_UNSUPPORTED', 'ZIP64 archives are not supported; split the archive or upload the folder')
  const disk = tailView.getUint16(eocd + 4, true)
  const cdDisk = tailView.getUint16(eocd + 6, true)
  const entriesOnDisk = tailView.getUint16(eocd + 8, true)
  const entryCount = tailView.getUint16(eocd + 10, true)
  const cdSize = tailView.getUint32(eocd + 12, true)
  const cdOffset = tailView.getUint32(eocd + 16, true)
  if (entryCount === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff)
    throw fail('ZIP_UNSUPPORTED', 'ZIP64 archives are not supported; split the archive or upload the folder')
  if (disk !== 0 || cdDisk !== 0 || entriesOnDisk !== entryCount)
    throw fail('ZIP_UNSUPPORTED', 'multi-part (spanned) archives are not supported')
  if (entryCount > maxEntries)
    throw fail('ZIP_TOO_MANY_ENTRIES', `${entryCount} entries, more than the ${maxEntries} allowed`)
  const eocdOffset = tailStart + eocd
  if (cdOffset + cdSize > eocdOffset) throw fail('ZIP_CORRUPT', 'central directory runs past its end record')
  if (cdSize > ZIP_LIMITS.maxDirectoryBytes)
    throw fail('ZIP_TOO_MANY_ENTRIES', `central directory of ${cdSize} bytes is too large`)

  const cd = await source.read(cdOffset, cdSize, { signal })
  const cdView = view(cd)
  type Listed = {
    path: string
    nameBytes: Uint8Array
    method: 0 | 8
    crc: number
    size: number
    compressedSize: number
    localOffset: number
  }
  const listed: Listed[] = []
  const skipped: string[] = []
  const seen = new Set<string>()
  let total = 0
  let at = 0
  for (let index = 0; index < entryCount; index++) {
    if (at + 46 > cd.length || cdView.getUint32(at, true) !== CENTRAL)
      throw fail('ZIP_CORRUPT', `central directory record ${index + 1} is damaged`)
    const madeBy = cdView.getUint16(at + 4, true)
    const flags = cdView.getUint16(at + 8, true)
    const method = cdView.getUint16(at + 10, true)
    const crc = cdView.getUint32(at + 16, true)
    const compressedSize = cdView.getUint32(at + 20, true)
    const size = cdView.getUint32(at + 24, true)
    const nameLength = cdView.getUint16(at + 28, true)
    const extraLength = cdView.getUint16(at + 30, true)
    const commentLength = cdView.getUint16(at + 32, true)
    const startDisk = cdView.getUint16(at + 34, true)
    const externalAttributes = cdView.getUint32(at + 38, true)
    const localOffset = cdView.getUint32(at + 42, true)
    const next = at + 46 + nameLength + extraLength + commentLength
    if (next > cd.length) throw fail('ZIP_CORRUPT', `central directory record ${index + 1} is damaged`)
    const nameBytes = cd.subarray(at + 46, at + 46 + nameLength)
    at = next

    let path: string
    try {
      path = flags & 0x800 ? utf8.decode(nameBytes) : latin1.decode(nameBytes)
    } catch {
      throw fail('ZIP_CORRUPT', `entry ${index + 1} has a name that is not valid UTF-8`)
    }
    const isDirectory = path.endsWith('/')
    const bare = isDirectory ? path.slice(0, -1) : path
    try {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
      if (/[\u0000-\u001f\u007f]/.test(bare)) throw new InvalidFormatError('control character')
      assertSafeRelativePath(bare)
    } catch (error) {
      if (!(error instanceof InvalidFormatError)) throw error
      throw fail(
        'ZIP_UNSAFE_PATH',
        'unsafe entry name (absolute, drive, "..", backslash or control character)',
        JSON.stringify(path.slice(0, 200)),
      )
    }
    if (seen.has(path)) throw fail('ZIP_DUPLICATE_ENTRY', 'the same name appears twice', path)
    seen.add(path)
    if (isDirectory) continue
    const segments = bare.split('/')
    if (segments[0] === '__MACOSX' || segments.some((s) => s.startsWith('.'))) {
      skipped.push(path)
      continue
    }
    if (flags & 0x1 || flags & 0x40 || method === 99)
      throw fail(
        'ZIP_ENCRYPTED',
        'encrypted entries are not supported; unpack the archive with its password first',
        path,
      )
    if (size === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff)
      throw fail('ZIP_UNSUPPORTED', 'ZIP64 entries are not supported', path)
    if (startDisk !== 0)
      throw fail('ZIP_UNSUPPORTED', 'multi-part (spanned) archives are not supported', path)
    if (madeBy >> 8 === 3 && ((externalAttributes >>> 16) & 0o170000) === 0o120000)
      throw fail('ZIP_UNSUPPORTED', 'symbolic links are not supported', path)
    if (method !== 0 && method !== 8)
      throw fail(
        'ZIP_UNSUPPORTED',
        `compression method ${method} is not supported (only stored and deflate)`,
        path,
      )
    if (bare.toLowerCase().endsWith('.zip'))
      throw fail(
        'ZIP_NESTED',
        'a ZIP inside a ZIP is not supported; unpack it and upload the inner archive',
        path,
      )
    if (size > maxEntryBytes)
      throw fail(
        'ZIP_ENTRY_TOO_LARGE',
        `declares ${size} bytes, more than the ${maxEntryBytes} allowed`,
        path,
      )
    if (method === 0 && compressedSize !== size)
      throw fail('ZIP_CORRUPT', 'stored entry with a compressed size different from its size', path)
    total += size
    if (total > maxTotalBytes)
      throw fail('ZIP_TOO_LARGE', `entries declare more than the ${maxTotalBytes} bytes allowed in total`)
    listed.push({ path, nameBytes, method, crc, size, compressedSize, localOffset })
  }

  // Local headers: their names must match the directory's and their data must not overlap another's
  // (overlapping entries let a few kilobytes claim terabytes).
  const located: Array<Listed & { dataStart: number; dataEnd: number }> = []
  for (const entry of listed) {
    signal?.throwIfAborted()
    if (entry.localOffset + 30 > cdOffset)
      throw fail('ZIP_CORRUPT', 'local header is outside the archive data', entry.path)
    const header = await source.read(entry.localOffset, 30, { signal })
    const headerView = view(header)
    if (headerView.getUint32(0, true) !== LOCAL)
      throw fail('ZIP_CORRUPT', 'local header is missing', entry.path)
    const nameLength = headerView.getUint16(26, true)
    const extraLength = headerView.getUint16(28, true)
    const dataStart = entry.localOffset + 30 + nameLength + extraLength
    const dataEnd = dataStart + entry.compressedSize
    if (dataEnd > cdOffset)
      throw fail('ZIP_CORRUPT', 'entry data runs into the central directory', entry.path)
    const localName = await source.read(entry.localOffset + 30, nameLength, { signal })
    if (!equal(localName, entry.nameBytes))
      throw fail('ZIP_CORRUPT', 'local header names another file than the central directory', entry.path)
    located.push({ ...entry, dataStart, dataEnd })
  }
  const byOffset = [...located].sort((a, b) => a.localOffset - b.localOffset)
  for (let i = 1; i < byOffset.length; i++) {
    if (byOffset[i]!.localOffset < byOffset[i - 1]!.dataEnd)
      throw fail('ZIP_CORRUPT', 'entries overlap (a zip bomb or a damaged archive)', byOffset[i]!.path)
  }

  const entries = located.map(
    (entry): ZipEntry => ({
      path: entry.path,
      size: entry.size,
      compressedSize: entry.compressedSize,
      method: entry.method === 0 ? 'stored' : 'deflate',
      open: (options) => openEntry(source, entry, name, maxEntryBytes, options?.signal ?? signal),
    }),
  )
  return { entries, skipped }
}

async function* openEntry(
  source: RandomAccessSource,
  entry: { path: string; method: 0 | 8; crc: number; size: number; dataStart: number; dataEnd: number },
  archive: string | undefined,
  maxEntryBytes: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  const fail = (code: 'ZIP_BAD_DATA' | 'ZIP_ENTRY_TOO_LARGE', problem: string, cause?: unknown) =>
    new MediaError(code, problem, { source: archive, entry: entry.path, cause })
  const limit = Math.min(entry.size, maxEntryBytes)
  let produced = 0
  let crc = 0
  let pending: Uint8Array[] = []
  let ended = false
  const inflater =
    entry.method === 8
      ? new Inflate((chunk, final) => {
          if (chunk.length > 0) pending.push(chunk)
          if (final) ended = true
        })
      : undefined
  const count = (chunk: Uint8Array) => {
    produced += chunk.length
    if (produced > limit) throw fail('ZIP_ENTRY_TOO_LARGE', `inflates past its declared ${entry.size} bytes`)
    crc = crc32(chunk, crc)
  }
  for (let offset = entry.dataStart; offset < entry.dataEnd || (offset === entry.dataStart && inflater); ) {
    signal?.throwIfAborted()
    const length = Math.min(READ_SLICE, entry.dataEnd - offset)
    const slice = await source.read(offset, length, { signal })
    offset += length
    const last = offset >= entry.dataEnd
    if (!inflater) {
      count(slice)
      yield slice
      continue
    }
    for (let i = 0; i < slice.length || (i === 0 && slice.length === 0); i += INFLATE_SLICE) {
      const end = Math.min(i + INFLATE_SLICE, slice.length)
      try {
        inflater.push(slice.subarray(i, end), last && end === slice.length)
      } catch (error) {
        throw fail('ZIP_BAD_DATA', 'the compressed data is damaged', error)
      }
      const out = pending
      pending = []
      for (const chunk of out) count(chunk)
      for (const chunk of out) yield chunk
      if (slice.length === 0) break
    }
    if (last) break
  }
  if (inflater && !ended) throw fail('ZIP_BAD_DATA', 'the compressed data ends early')
  if (produced !== entry.size)
    throw fail('ZIP_BAD_DATA', `${produced} bytes where the directory declares ${entry.size}`)
  if (crc !== entry.crc) throw fail('ZIP_BAD_DATA', 'CRC-32 mismatch: the entry is damaged')
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
