import { concatBytes } from '@pcmims/core'

export type MultipartPart = { contentType: string; body: Uint8Array; location?: string | undefined }

export type MultipartRelated = { contentType: string; body: Uint8Array }

const encoder = new TextEncoder()

function newBoundary(): string {
  return `pcmims-${crypto.randomUUID()}`
}

function partHeader(boundary: string, contentType: string, location?: string, length?: number): Uint8Array {
  const lines = [`--${boundary}`, `Content-Type: ${contentType}`]
  if (location) lines.push(`Content-Location: ${location}`)
  if (length !== undefined) lines.push(`Content-Length: ${length}`)
  return encoder.encode(`${lines.join('\r\n')}\r\n\r\n`)
}

/**
 * A `multipart/related` body (RFC 2387) as PS3.18 8.7.3.3 answers retrieves with: a random boundary,
 * each part with its own Content-Type (and Content-Location when known), CRLF line ends.
 */
export function multipartRelated(type: string, parts: MultipartPart[]): MultipartRelated {
  const boundary = newBoundary()
  const chunks: Uint8Array[] = []
  for (const part of parts) {
    chunks.push(
      partHeader(boundary, part.contentType, part.location, part.body.length),
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

/** One part of a streamed answer: its body is produced only when the reader gets to it. */
export type StreamedPart = {
  contentType: string
  location?: string | undefined
  body: () => AsyncIterable<Uint8Array> | Promise<Uint8Array>
}

/**
 * A `multipart/related` body produced part by part as the client reads it (pull-driven, so a slow
 * client holds at most one chunk in memory, not the study). An error after the first byte ends the
 * stream without the closing delimiter, which a client reads as a truncated answer, never a whole one.
 */
export function multipartRelatedStream(
  type: string,
  parts: AsyncIterable<StreamedPart> | Iterable<StreamedPart>,
  signal?: AbortSignal,
): { contentType: string; body: ReadableStream<Uint8Array> } {
  const boundary = newBoundary()
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for await (const part of parts) {
      signal?.throwIfAborted()
      yield partHeader(boundary, part.contentType, part.location)
      const body = part.body()
      if (body instanceof Promise) yield await body
      else yield* body
      yield encoder.encode('\r\n')
    }
    yield encoder.encode(`--${boundary}--\r\n`)
  }
  const iterator = chunks()
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next()
        if (next.done) controller.close()
        else controller.enqueue(next.value)
      } catch (error) {
        controller.error(error)
      }
    },
    async cancel() {
      await iterator.return(undefined)
    },
  })
  return { contentType: `multipart/related; type="${type}"; boundary=${boundary}`, body }
}
