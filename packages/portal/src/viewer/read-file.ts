import { type ManifestFile, type OpenedRecord, type PcmimsClient, readRecordFile } from '@pcmims/core'
import { decryptedObjectUrl, revokeDecryptedObjectUrl } from '../session/secrets.js'

/** One record file decrypted in the browser, whole (authenticated chunk by chunk, size and hash checked at the end). */
export async function readFileBytes(
  client: PcmimsClient,
  record: OpenedRecord,
  file: ManifestFile,
  signal?: AbortSignal,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(file.size)
  let offset = 0
  for await (const chunk of readRecordFile(client, { record, file, signal })) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

/** Hands bytes to the browser as a file download; the object URL lives only for the click. */
export function saveBytes(bytes: Uint8Array | Blob, fileName: string, type: string): void {
  const url = decryptedObjectUrl(bytes, type)
  const link = document.createElement('a')
  link.href = url
  link.download = fileName
  link.rel = 'noopener'
  document.body.append(link)
  link.click()
  link.remove()
  // The download has taken its copy once the click is handled; keeping the URL would keep the bytes.
  setTimeout(() => revokeDecryptedObjectUrl(url), 10_000)
}
