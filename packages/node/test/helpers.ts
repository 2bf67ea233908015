import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { UploadFile } from '@pcmims/core'

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/dicom/', import.meta.url))

export async function validFixtures(): Promise<Array<{ name: string; bytes: Uint8Array }>> {
  const dir = join(FIXTURES, 'valid')
  const names = (await readdir(dir)).filter((n) => n.endsWith('.dcm')).sort()
  return Promise.all(
    names.map(async (name) => ({ name, bytes: new Uint8Array(await readFile(join(dir, name))) })),
  )
}

export function memoryFile(path: string, bytes: Uint8Array, mediaType = 'application/dicom'): UploadFile {
  return {
    path,
    mediaType,
    size: bytes.length,
    async *open() {
      // Uneven pieces, as a network or disk would deliver them.
      for (let i = 0; i < bytes.length; i += 7919) yield bytes.subarray(i, i + 7919)
    },
  }
}

export async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of source) chunks.push(chunk)
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}
