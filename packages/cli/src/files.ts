import { createReadStream } from 'node:fs'
import { open, readdir, stat } from 'node:fs/promises'
import { basename, join, relative, sep } from 'node:path'
import type { UploadFile } from '@pcmims/core'
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

/** DICOM Part 10 files carry "DICM" after a 128-byte preamble, whatever their name. */
async function sniff(path: string): Promise<string | undefined> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(132)
    const { bytesRead } = await handle.read(buffer, 0, 132, 0)
    if (bytesRead === 132 && buffer.toString('latin1', 128, 132) === 'DICM') return 'application/dicom'
    return undefined
  } finally {
    await handle.close()
  }
}

async function mediaType(path: string): Promise<string> {
  const sniffed = await sniff(path)
  if (sniffed) return sniffed
  const ext = basename(path).split('.').pop()?.toLowerCase() ?? ''
  return MEDIA_TYPES[ext] ?? 'application/octet-stream'
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
        mediaType: await mediaType(entry.full),
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
