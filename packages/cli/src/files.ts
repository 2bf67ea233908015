import { createReadStream } from 'node:fs'
import { open, readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, join, relative, sep } from 'node:path'
import {
  DICOMDIR_LIMITS,
  MediaError,
  type RandomAccessSource,
  readDicomdir,
  readPlainImageInfo,
  readZip,
  resolveDicomdirReferences,
  sniffPlainImage,
  type UploadFile,
  type ZipEntry,
} from '@pcmims/core'
import { UsageError } from './io.js'

const MEDIA_TYPES: Record<string, string> = {
  dcm: 'application/dicom',
  dicom: 'application/dicom',
  pdf: 'application/pdf',
  json: 'application/json',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  txt: 'text/plain',
  xml: 'application/xml',
}

/** JPEG frame headers follow the EXIF/ICC segments, which stay well inside this. */
const IMAGE_HEAD_BYTES = 1024 * 1024

async function readHead(path: string, length: number): Promise<Uint8Array> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(length)
    const { bytesRead } = await handle.read(buffer, 0, length, 0)
    return new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead)
  } finally {
    await handle.close()
  }
}

/**
 * The content decides, never the name: DICOM Part 10 files carry "DICM" after a 128-byte preamble,
 * PNG and JPEG their magic (and must have a sound header within the pixel cap). A file named like an
 * image that is not one is refused rather than stored under a wrong media type.
 */
async function mediaType(path: string, label: string): Promise<string> {
  const head = await readHead(path, 132)
  if (head.length === 132 && Buffer.from(head.subarray(128, 132)).toString('latin1') === 'DICM')
    return 'application/dicom'
  const ext = basename(path).split('.').pop()?.toLowerCase() ?? ''
  const byName = MEDIA_TYPES[ext] ?? 'application/octet-stream'
  if (sniffPlainImage(head) || byName.startsWith('image/'))
    return readPlainImageInfo(await readHead(path, IMAGE_HEAD_BYTES), { fileName: label }).mediaType
  return byName
}

/** Files and folders (recursively, sorted) → upload entries with record-relative, `/`-separated paths. */
export async function collectFiles(paths: string[]): Promise<UploadFile[]> {
  if (paths.length === 0) throw new UsageError('Give at least one file or folder')
  const out: UploadFile[] = []
  const seen = new Set<string>()
  for (const path of paths) {
    let info: Awaited<ReturnType<typeof stat>>
    try {
      info = await stat(path)
    } catch {
      throw new UsageError(`No such file or folder: ${path}`)
    }
    const entries: Array<{ full: string; name: string }> = []
    if (info.isDirectory()) {
      for (const full of await walk(path))
        entries.push({ full, name: relative(path, full).split(sep).join('/') })
    } else if (info.isFile()) {
      entries.push({ full: path, name: basename(path) })
    } else {
      throw new UsageError(`Not a file or folder: ${path}`)
    }
    for (const entry of entries) {
      if (seen.has(entry.name))
        throw new UsageError(`Two files would have the same name in the record: ${entry.name}`)
      seen.add(entry.name)
      const size = (await stat(entry.full)).size
      out.push({
        path: entry.name,
        mediaType: await mediaType(entry.full, entry.name),
        size,
        open: () => createReadStream(entry.full, { highWaterMark: 1024 * 1024 }),
      })
    }
  }
  if (out.length === 0) throw new UsageError('No files found')
  return out
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = []
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))
  for (const entry of entries) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await walk(full)))
    else if (entry.isFile()) out.push(full)
  }
  return out
}

/** A file on disk as random-access bytes: each read opens, reads and closes (no handle outlives a call). */
export function fileRandomAccess(path: string, size: number): RandomAccessSource {
  return {
    size,
    async read(offset, length, options) {
      options?.signal?.throwIfAborted()
      const handle = await open(path, 'r')
      try {
        const buffer = Buffer.alloc(length)
        const { bytesRead } = await handle.read(buffer, 0, length, offset)
        if (bytesRead !== length)
          throw new MediaError('ZIP_CORRUPT', 'the file changed while it was read', { source: path })
        return new Uint8Array(buffer.buffer, buffer.byteOffset, length)
      } finally {
        await handle.close()
      }
    },
  }
}

export type CollectedDicom = {
  files: UploadFile[]
  /** What was read from where, and what was left out, for the uploader to see. */
  notes: string[]
}

const isDicomdirName = (name: string) => name.toUpperCase() === 'DICOMDIR'

/**
 * `--dicom` inputs: DICOM files, folders (recursively), ZIP archives (one level; entries named
 * `archive.zip!path/in/zip`) and DICOMDIR media (the DICOMDIR file, or a folder holding one). A
 * DICOMDIR is the medium's index: only the files it references are taken, found relative to its folder
 * (a CD also carries viewers and autorun files, which are not DICOM); a referenced file that is missing
 * is an error naming it. Everything is listed and checked here; the bytes are read (and ZIP entries
 * inflated, under caps) by the upload before anything is stored.
 */
export async function collectDicomFiles(paths: string[]): Promise<CollectedDicom> {
  if (paths.length === 0) throw new UsageError('Give at least one DICOM file, folder, ZIP or DICOMDIR')
  const out: CollectedDicom = { files: [], notes: [] }
  const seen = new Set<string>()
  const add = (file: UploadFile) => {
    if (seen.has(file.path)) throw new UsageError(`The same file is given twice: ${file.path}`)
    seen.add(file.path)
    out.files.push(file)
  }
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined)
    if (!info) throw new UsageError(`No such file or folder: ${path}`)
    if (info.isDirectory()) await collectFolder(path, add, out.notes)
    else if (!info.isFile()) throw new UsageError(`Not a file or folder: ${path}`)
    else if (isDicomdirName(basename(path))) await collectMedium(dirname(path), path, add, out.notes)
    else if (await isZip(path)) await collectZip(path, info.size, add, out.notes)
    else add(diskFile(path, path, info.size))
  }
  if (out.files.length === 0) throw new UsageError('No DICOM files found')
  return out
}

type Add = (file: UploadFile) => void

async function collectFolder(dir: string, add: Add, notes: string[]): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))
  const dicomdir = entries.find((e) => e.isFile() && isDicomdirName(e.name))
  if (dicomdir) return collectMedium(dir, join(dir, dicomdir.name), add, notes)
  for (const entry of entries) {
    const full = join(dir, entry.name)
    // Like `__MACOSX/` and dot files in a ZIP: Finder and Explorer metadata, never DICOM.
    if (entry.name.startsWith('.')) continue
    if (entry.isDirectory()) await collectFolder(full, add, notes)
    else if (!entry.isFile()) continue
    else if (await isZip(full)) await collectZip(full, (await stat(full)).size, add, notes)
    else add(diskFile(full, full, (await stat(full)).size))
  }
}

async function collectMedium(dir: string, dicomdirPath: string, add: Add, notes: string[]): Promise<void> {
  const size = (await stat(dicomdirPath)).size
  if (size > DICOMDIR_LIMITS.maxBytes)
    throw new MediaError('DICOMDIR_TOO_LARGE', `larger than ${DICOMDIR_LIMITS.maxBytes} bytes`, {
      source: dicomdirPath,
    })
  const references = readDicomdir(new Uint8Array(await readFile(dicomdirPath)), { fileName: dicomdirPath })
  const onMedium = new Map<string, string>()
  for (const full of await walk(dir)) {
    if (full === dicomdirPath) continue
    onMedium.set(relative(dir, full).split(sep).join('/'), full)
  }
  const resolved = resolveDicomdirReferences({ references, files: onMedium, fileName: dicomdirPath })
  for (const { file } of resolved) add(diskFile(file, file, (await stat(file)).size))
  const left = onMedium.size - resolved.length
  notes.push(
    `${dicomdirPath}: ${resolved.length} referenced files${left > 0 ? `; ${left} other files on the medium left out` : ''}`,
  )
}

async function collectZip(path: string, size: number, add: Add, notes: string[]): Promise<void> {
  const name = basename(path)
  const { entries, skipped } = await readZip({ source: fileRandomAccess(path, size), name: path })
  const label = (entry: string) => `${path}!${entry}`
  const media = entries.filter((e) => isDicomdirName(e.path.split('/').pop() ?? ''))
  const governed = new Set<ZipEntry>()
  for (const dicomdir of media) {
    const prefix = dicomdir.path.slice(0, dicomdir.path.length - 'DICOMDIR'.length)
    if (dicomdir.size > DICOMDIR_LIMITS.maxBytes)
      throw new MediaError('DICOMDIR_TOO_LARGE', `larger than ${DICOMDIR_LIMITS.maxBytes} bytes`, {
        source: path,
        entry: dicomdir.path,
      })
    const references = readDicomdir(await readEntry(dicomdir), { fileName: label(dicomdir.path) })
    const onMedium = new Map<string, ZipEntry>()
    for (const entry of entries) {
      if (entry.path.startsWith(prefix)) {
        governed.add(entry)
        if (entry !== dicomdir) onMedium.set(entry.path.slice(prefix.length), entry)
      }
    }
    const resolved = resolveDicomdirReferences({
      references,
      files: onMedium,
      fileName: label(dicomdir.path),
    })
    for (const { file } of resolved) add(zipFile(path, file))
    notes.push(`${label(dicomdir.path)}: ${resolved.length} referenced files`)
  }
  let taken = 0
  for (const entry of entries) {
    if (governed.has(entry)) continue
    add(zipFile(path, entry))
    taken++
  }
  if (taken > 0 || media.length === 0)
    notes.push(
      `${name}: ${taken} files${skipped.length ? `; ${skipped.length} left out (__MACOSX, dot files)` : ''}`,
    )
}

async function readEntry(entry: ZipEntry): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of entry.open()) chunks.push(chunk)
  return Buffer.concat(chunks)
}

function zipFile(archive: string, entry: ZipEntry): UploadFile {
  return {
    path: `${archive}!${entry.path}`,
    mediaType: 'application/dicom',
    size: entry.size,
    open: () => entry.open(),
  }
}

function diskFile(full: string, label: string, size: number): UploadFile {
  return {
    path: label,
    mediaType: 'application/dicom',
    size,
    open: () => createReadStream(full, { highWaterMark: 1024 * 1024 }),
  }
}

/** A local file header, or the end record of an empty archive. */
async function isZip(path: string): Promise<boolean> {
  const head = await readHead(path, 4)
  return (
    head.length === 4 &&
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))
  )
}
