import { concatBytes } from '@pcmims/core'

export type MultipartPart = { contentType: string; body: Uint8Array; location?: string | undefined }

export type MultipartRelated = { contentType: string; body: Uint8Array }

/**
 * A `multipart/related` body (RFC 2387) as PS3.18 8.7.3.3 answers retrieves with: a random boundary,
 * each part with its own Content-Type (and Content-Location when known), CRLF line ends.
 */
export function multipartRelated(type: string, parts: MultipartPart[]): MultipartRelated {
  const boundary = `pcmims-${crypto.randomUUID()}`
  const encoder = new TextEncoder()
  const chunks: Uint8Array[] = []
  for (const part of parts) {
    const location = part.location ? `Content-Location: ${part.location}\r\n` : ''
    chunks.push(
      encoder.encode(
        `--${boundary}\r\nContent-Type: ${part.contentType}\r\n${location}Content-Length: ${part.body.length}\r\n\r\n`,
      ),
      part.body,
      encoder.encode('\r\n'),
    )
  }
  chunks.push(encoder.encode(`--${boundary}--\r\n`))
  return {
    contentType: `multipart/related; type="${type}"; boundary=${boundary}`,
    body: concatBytes(...chunks),
  }
}
