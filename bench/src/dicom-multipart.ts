import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'

export type StowFile = { path: string; size: number }

export type StowBody = {
  contentType: string
  contentLength: number
  /** A fresh stream of the body each call: parts read from disk one at a time, never all in memory. */
  open(): Readable
}

/**
 * A STOW-RS request body (PS3.18 10.5: multipart/related; type="application/dicom") over files on disk,
 * with its length known before the first byte so the request is not chunked.
 */
export function stowMultipart(
  files: StowFile[],
  boundary = `pcmims-bench-${randomBytes(12).toString('hex')}`,
) {
  const head = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`)
  const crlf = Buffer.from('\r\n')
  const close = Buffer.from(`--${boundary}--\r\n`)
  const contentLength = files.reduce((n, f) => n + head.length + f.size + crlf.length, 0) + close.length
  async function* parts(): AsyncGenerator<Buffer> {
    for (const file of files) {
      yield head
      let read = 0
      for await (const chunk of createReadStream(file.path, { highWaterMark: 1024 * 1024 })) {
        read += (chunk as Buffer).length
        yield chunk as Buffer
      }
      // A file that changed size since it was measured would make the declared length a lie.
      if (read !== file.size) throw new Error(`${file.path}: read ${read} bytes, expected ${file.size}`)
      yield crlf
    }
    yield close
  }
  return {
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
    contentLength,
    open: () => Readable.from(parts(), { objectMode: false }),
  } satisfies StowBody
}
