import { randomBytes } from 'node:crypto'

export type MultipartPart = { headers: Record<string, string>; body: Uint8Array }

/**
 * A multipart/related parser on bytes, for checking DICOMweb answers: boundary and `type` from the
 * Content-Type, headers per part (lower-cased names), bodies exact. Throws on a body without its closing
 * delimiter.
 */
export function parseMultipartRelated(
  contentType: string,
  body: Uint8Array,
): { type: string | undefined; parts: MultipartPart[] } {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1]
  const type = /type="([^"]+)"/.exec(contentType)?.[1]
  if (!boundary) throw new Error(`no boundary in ${contentType}`)
  const text = Buffer.from(body).toString('latin1')
  const delimiter = `--${boundary}`
  const parts: MultipartPart[] = []
  let at = text.indexOf(delimiter)
  while (at >= 0) {
    const start = at + delimiter.length
    if (text.startsWith('--', start)) return { type, parts }
    const headerEnd = text.indexOf('\r\n\r\n', start)
    const headers: Record<string, string> = {}
    for (const line of text.slice(start + 2, headerEnd).split('\r\n')) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    const next = text.indexOf(`\r\n${delimiter}`, headerEnd + 4)
    if (next < 0) throw new Error('truncated multipart body: no closing delimiter')
    parts.push({ headers, body: body.slice(headerEnd + 4, next) })
    at = next + 2
  }
  throw new Error('no closing delimiter')
}

/** A STOW-RS request body: each file a part of `multipart/related; type="application/dicom"`. */
export function stowBody(files: readonly Uint8Array[]): {
  contentType: string
  body: Uint8Array<ArrayBuffer>
} {
  const boundary = `pcmims-${randomBytes(12).toString('hex')}`
  const chunks: Buffer[] = []
  for (const file of files) {
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
      Buffer.from(file),
      Buffer.from('\r\n'),
    )
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return {
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
    body: new Uint8Array(Buffer.concat(chunks)) as Uint8Array<ArrayBuffer>,
  }
}
