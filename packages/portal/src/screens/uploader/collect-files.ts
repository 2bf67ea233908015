import {
  blobRandomAccess,
  DICOMDIR_LIMITS,
  MediaError,
  readDicomdir,
  readZip,
  resolveDicomdirReferences,
  type UploadFile,
  type ZipEntry,
} from '@pcmims/core'

/** A file the user picked or dropped, with its path relative to what was picked (a folder's name first). */
export type PickedFile = { path: string; file: File }

/** From an `<input type="file">`: a folder input gives each file's path inside the folder. */
export function filesFromInput(list: FileList | null): PickedFile[] {
  return [...(list ?? [])].map((file) => ({ path: file.webkitRelativePath || file.name, file }))
}

/**
 * From a drop: folders are walked (FileSystemDirectoryEntry), files taken as they are. The entries must be
 * taken from the DataTransfer during the drop event itself, so this is called there and awaited after.
 */
export function filesFromDrop(data: DataTransfer): Promise<PickedFile[]> {
  const entries: FileSystemEntry[] = []
  const loose: File[] = []
  for (const item of [...data.items]) {
    if (item.kind !== 'file') continue
    const entry = item.webkitGetAsEntry?.()
    if (entry) entries.push(entry)
    else {
      const file = item.getAsFile()
      if (file) loose.push(file)
    }
  }
  return (async () => {
    const out: PickedFile[] = loose.map((file) => ({ path: file.name, file }))
    for (const entry of entries) out.push(...(await walkEntry(entry, '')))
    return out
  })()
}

async function walkEntry(entry: FileSystemEntry, prefix: string): Promise<PickedFile[]> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, reject),
    )
    return [{ path, file }]
  }
  if (!entry.isDirectory) return []
  const reader = (entry as FileSystemDirectoryEntry).createReader()
  const children: FileSystemEntry[] = []
  // readEntries answers in batches (100 in Chromium) until it answers an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    )
    if (batch.length === 0) break
    children.push(...batch)
  }
  children.sort((a, b) => a.name.localeCompare(b.name))
  const out: PickedFile[] = []
  for (const child of children) out.push(...(await walkEntry(child, path)))
  return out
}

const baseName = (path: string) => path.split('/').pop() ?? path
const isDicomdirName = (path: string) => baseName(path).toUpperCase() === 'DICOMDIR'
/** Finder and Explorer metadata, never DICOM (as core's ZIP reader leaves them out). */
const isHidden = (path: string) =>
  path.split('/').some((part) => part.startsWith('.') || part === '__MACOSX') ||
  baseName(path) === 'Thumbs.db'

async function isZip(file: File): Promise<boolean> {
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer())
  return (
    head.length === 4 &&
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))
  )
}

export function fileUpload(path: string, file: Blob, mediaType = 'application/dicom'): UploadFile {
  return {
    path,
    mediaType,
    size: file.size,
    open: () => streamChunks(file),
  }
}

async function* streamChunks(blob: Blob): AsyncIterable<Uint8Array> {
  const reader = blob.stream().getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    reader.releaseLock()
  }
}

export type CollectedDicom = {
  /** Each labelled with where it came from (`folder/IM1`, `export.zip!DIR/IM1`), for the uploader only. */
  files: UploadFile[]
  /** What was read from where and what was left out. */
  notes: string[]
}

/**
 * The DICOM inputs as the CLI takes them: loose files, folders, ZIP archives (one level) and DICOMDIR media
 * (only the files the DICOMDIR references, when a folder holds one). Hidden and system files are left out.
 */
export async function collectDicom(picked: PickedFile[], signal?: AbortSignal): Promise<CollectedDicom> {
  const out: CollectedDicom = { files: [], notes: [] }
  const seen = new Set<string>()
  const add = (file: UploadFile) => {
    if (seen.has(file.path)) return
    seen.add(file.path)
    out.files.push(file)
  }
  const visible = picked.filter((p) => !isHidden(p.path))
  const hidden = picked.length - visible.length
  if (hidden > 0) out.notes.push(`${hidden} hidden or system ${hidden === 1 ? 'file' : 'files'} left out`)

  // A DICOMDIR governs the files under its folder: only those it references are taken.
  const media = visible.filter((p) => isDicomdirName(p.path))
  const governed = new Set<PickedFile>()
  for (const dicomdir of media) {
    const prefix = dicomdir.path.slice(0, dicomdir.path.length - baseName(dicomdir.path).length)
    if (dicomdir.file.size > DICOMDIR_LIMITS.maxBytes)
      throw new MediaError('DICOMDIR_TOO_LARGE', `larger than ${DICOMDIR_LIMITS.maxBytes} bytes`, {
        source: dicomdir.path,
      })
    const references = readDicomdir(new Uint8Array(await dicomdir.file.arrayBuffer()), {
      fileName: dicomdir.path,
    })
    const onMedium = new Map<string, PickedFile>()
    for (const p of visible) {
      if (p.path.startsWith(prefix)) {
        governed.add(p)
        if (p !== dicomdir) onMedium.set(p.path.slice(prefix.length), p)
      }
    }
    const resolved = resolveDicomdirReferences({ references, files: onMedium, fileName: dicomdir.path })
    for (const { file } of resolved) add(fileUpload(file.path, file.file))
    const left = onMedium.size - resolved.length
    out.notes.push(
      `${dicomdir.path}: ${resolved.length} referenced files${left > 0 ? `; ${left} other files on the medium left out` : ''}`,
    )
  }
  for (const p of visible) {
    signal?.throwIfAborted()
    if (governed.has(p)) continue
    if (await isZip(p.file)) await collectZip(p, add, out.notes, signal)
    else add(fileUpload(p.path, p.file))
  }
  return out
}

async function collectZip(
  zip: PickedFile,
  add: (file: UploadFile) => void,
  notes: string[],
  signal?: AbortSignal,
): Promise<void> {
  const { entries, skipped } = await readZip({ source: blobRandomAccess(zip.file), name: zip.path, signal })
  const label = (entry: string) => `${zip.path}!${entry}`
  const media = entries.filter((e) => isDicomdirName(e.path))
  const governed = new Set<ZipEntry>()
  for (const dicomdir of media) {
    const prefix = dicomdir.path.slice(0, dicomdir.path.length - baseName(dicomdir.path).length)
    if (dicomdir.size > DICOMDIR_LIMITS.maxBytes)
      throw new MediaError('DICOMDIR_TOO_LARGE', `larger than ${DICOMDIR_LIMITS.maxBytes} bytes`, {
        source: zip.path,
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
    for (const { file } of resolved) add(zipUpload(label(file.path), file))
    notes.push(`${label(dicomdir.path)}: ${resolved.length} referenced files`)
  }
  let taken = 0
  for (const entry of entries) {
    if (governed.has(entry)) continue
    add(zipUpload(label(entry.path), entry))
    taken++
  }
  if (taken > 0 || media.length === 0)
    notes.push(
      `${zip.path}: ${taken} ${taken === 1 ? 'file' : 'files'}${skipped.length ? `; ${skipped.length} left out (__MACOSX, dot files)` : ''}`,
    )
}

function zipUpload(path: string, entry: ZipEntry): UploadFile {
  return { path, mediaType: 'application/dicom', size: entry.size, open: () => entry.open() }
}

async function readEntry(entry: ZipEntry): Promise<Uint8Array> {
  return readAllBytes(entry.open())
}

export async function readAllBytes(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let total = 0
  for await (const chunk of chunks) {
    parts.push(chunk)
    total += chunk.length
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
