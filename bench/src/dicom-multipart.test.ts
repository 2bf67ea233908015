import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spread, stats } from './dicom-ingest.js'
import { stowMultipart } from './dicom-multipart.js'

let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pcmims-bench-multipart-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** The parts of a multipart/related body, as a server splits it (RFC 2046: CRLF belongs to the delimiter). */
function parts(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`\r\n--${boundary}`)
  // The first delimiter has no CRLF before it.
  const text = Buffer.concat([Buffer.from('\r\n'), body])
  const out: Buffer[] = []
  let at = text.indexOf(delimiter)
  while (at >= 0) {
    const after = at + delimiter.length
    if (text.subarray(after, after + 2).toString() === '--') break
    const headerEnd = text.indexOf('\r\n\r\n', after)
    const next = text.indexOf(delimiter, headerEnd + 4)
    expect(text.subarray(after, headerEnd).toString()).toBe('\r\nContent-Type: application/dicom')
    out.push(text.subarray(headerEnd + 4, next))
    at = next
  }
  return out
}

describe('stowMultipart', () => {
  it('declares the length it streams, and each part is one file byte for byte', async () => {
    let n = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3 * 1024 * 1024 }), { maxLength: 4 }),
        async (sizes) => {
          const files = await Promise.all(
            sizes.map(async (size) => {
              const path = join(work, `f${n++}.dcm`)
              const bytes = randomBytes(size)
              await writeFile(path, bytes)
              return { path, size, bytes }
            }),
          )
          const body = stowMultipart(files, 'b0undary')
          expect(body.contentType).toBe('multipart/related; type="application/dicom"; boundary=b0undary')
          const streamed = await collect(body.open())
          expect(streamed.length).toBe(body.contentLength)
          expect(parts(streamed, 'b0undary').map((p) => p.toString('hex'))).toEqual(
            files.map((f) => f.bytes.toString('hex')),
          )
          // A second stream is a fresh one.
          expect((await collect(body.open())).equals(streamed)).toBe(true)
        },
      ),
      { numRuns: 12 },
    )
  })

  it('fails the stream when a file is not the size it was measured at', async () => {
    const path = join(work, 'changed.dcm')
    await writeFile(path, randomBytes(100))
    const body = stowMultipart([{ path, size: 99 }])
    await expect(collect(body.open())).rejects.toThrow(/read 100 bytes, expected 99/)
  })
})

describe('probe helpers', () => {
  it('spreads distinct probe indexes over 1..n-1', () => {
    expect(spread(300, 5)).toEqual([50, 100, 150, 200, 250])
    expect(spread(3, 5)).toEqual([1, 2])
    expect(spread(1, 5)).toEqual([])
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 20 }), (n, count) => {
        const indexes = spread(n, count)
        expect(new Set(indexes).size).toBe(indexes.length)
        for (const i of indexes) expect(i >= 1 && i < n).toBe(true)
        expect(indexes.length).toBeLessThanOrEqual(Math.min(count, n - 1))
      }),
    )
  })

  it('summarises samples: first as measured, lower median, max', () => {
    expect(stats([30, 10, 20, 40])).toEqual({ first: 30, median: 20, max: 40, samples: 4 })
    expect(stats([5])).toEqual({ first: 5, median: 5, max: 5, samples: 1 })
  })
})
