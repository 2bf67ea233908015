import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type NodeClient, NodeRequestError } from './node-client.js'
import type { PcmimsClient } from './pcmims-client.js'
import { uploadBlobResumable } from './upload-blob-resumable.js'

type Fault = 'drop-before' | 'drop-after' | 'keep-half' | 'server-error' | undefined

/**
 * A tus server in memory behind `NodeClient.raw`, with faults injected per PATCH: the connection drops
 * before the node saw the chunk or after it kept it (the answer lost), the node keeps part of a chunk
 * (as servers that store partial bodies do), or it fails with a 503.
 */
function fakeNode(faults: Fault[] = []) {
  const uploads = new Map<string, { length: number; data: number[] }>()
  const calls: string[] = []
  let patches = 0
  const headers = (h: Record<string, string>) => new Response(null, { status: 204, headers: h })
  const node: Pick<NodeClient, 'url' | 'raw'> = {
    url: 'http://node.test',
    async raw(method, path, params = {}) {
      const h = params.headers ?? {}
      calls.push(`${method} ${h['upload-offset'] ?? ''}`.trim())
      if (h['tus-resumable'] !== '1.0.0') throw new NodeRequestError(412, 'version', 'TUS_VERSION')
      if (method === 'POST') {
        const id = `u${uploads.size}`
        uploads.set(id, { length: Number(h['upload-length']), data: [] })
        return new Response(null, { status: 201, headers: { location: `/api/v1/uploads/${id}` } })
      }
      const upload = uploads.get(path.split('/').at(-1) ?? '')
      if (!upload) throw new NodeRequestError(404, 'gone', 'NOT_FOUND')
      const state = () => {
        const out: Record<string, string> = { 'upload-offset': String(upload.data.length) }
        if (upload.data.length === upload.length) {
          out['pcmims-blob-cid'] = `cid-${checksum(upload.data)}`
          out['pcmims-blob-size'] = String(upload.length)
        }
        return out
      }
      if (method === 'HEAD') return headers(state())
      const offset = Number(h['upload-offset'])
      const body = params.body as Uint8Array
      const fault = faults[patches++]
      if (fault === 'drop-before') throw new NodeRequestError(0, 'unreachable', 'NODE_UNREACHABLE')
      if (fault === 'server-error') throw new NodeRequestError(503, 'busy', 'STORE_CLOSED')
      if (offset !== upload.data.length) throw new NodeRequestError(409, 'offset', 'OFFSET_MISMATCH')
      const kept = fault === 'keep-half' ? body.subarray(0, body.length >> 1) : body
      upload.data.push(...kept)
      if (fault === 'drop-after' || fault === 'keep-half') throw new TypeError('fetch failed')
      return headers(state())
    },
  }
  return { client: { node } as unknown as PcmimsClient, calls, uploads }
}

function checksum(data: ArrayLike<number>): number {
  let h = 0
  for (let i = 0; i < data.length; i++) h = (h * 31 + (data[i] as number)) >>> 0
  return h
}

const content = (n: number) => new Uint8Array(n).map((_, i) => (i * 13 + 5) % 256)

describe('uploadBlobResumable', () => {
  it('uploads in chunks and returns the blob the node made', async () => {
    const { client, calls } = fakeNode()
    const bytes = content(25)
    const progress: number[] = []
    const result = await uploadBlobResumable(client, {
      source: bytes,
      chunkBytes: 10,
      onProgress: (p) => progress.push(p.bytes),
    })
    expect(result).toEqual({ cid: `cid-${checksum(bytes)}`, size: 25 })
    expect(calls).toEqual(['POST', 'PATCH 0', 'PATCH 10', 'PATCH 20'])
    expect(progress).toEqual([10, 20, 25])
  })

  it('restarts a function source only where the node says the upload is', async () => {
    const { client, calls } = fakeNode([undefined, 'keep-half', 'drop-before'])
    const bytes = content(40)
    const opened: number[] = []
    const result = await uploadBlobResumable(client, {
      source: async function* (offset) {
        opened.push(offset)
        for (let i = offset; i < bytes.length; i += 3) yield bytes.subarray(i, i + 3)
      },
      size: 40,
      chunkBytes: 10,
      retryDelayMs: 1,
    })
    expect(result.cid).toBe(`cid-${checksum(bytes)}`)
    expect(calls).toEqual([
      'POST',
      'PATCH 0',
      'PATCH 10',
      'HEAD',
      'PATCH 15',
      'HEAD',
      'PATCH 15',
      'PATCH 25',
      'PATCH 35',
    ])
    // The half-kept chunk moved the offset into the middle of what was read: read again from there.
    expect(opened).toEqual([0, 15])
  })

  it('gives up after the retries, with the last error', async () => {
    const { client } = fakeNode(Array(10).fill('server-error'))
    await expect(
      uploadBlobResumable(client, { source: content(10), chunkBytes: 5, retries: 2, retryDelayMs: 1 }),
    ).rejects.toMatchObject({ status: 503 })
  })

  it('stops at once when aborted, and on answers that no retry mends', async () => {
    const stop = new AbortController()
    const { client } = fakeNode()
    await expect(
      uploadBlobResumable(client, {
        source: content(30),
        chunkBytes: 10,
        signal: stop.signal,
        onProgress: () => stop.abort(),
      }),
    ).rejects.toThrow()
    const gone = fakeNode()
    await expect(
      uploadBlobResumable(gone.client, { source: content(10), upload: '/api/v1/uploads/nope' }),
    ).rejects.toMatchObject({ status: 404 })
    await expect(uploadBlobResumable(gone.client, { source: async function* () {} })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
    })
    await expect(
      uploadBlobResumable(gone.client, {
        source: async function* () {
          yield new Uint8Array(3)
        },
        size: 10,
      }),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' })
  })

  it('resumes an upload created earlier', async () => {
    const { client, uploads, calls } = fakeNode()
    const bytes = content(30)
    let created: string | undefined
    await expect(
      uploadBlobResumable(client, {
        source: bytes,
        chunkBytes: 10,
        retries: 0,
        onCreated: (at) => {
          created = at
        },
        onProgress: ({ bytes: at }) => {
          if (at === 20) throw new Error('client crashed')
        },
      }),
    ).rejects.toThrow('client crashed')
    expect(uploads.get('u0')?.data).toHaveLength(20)
    calls.length = 0
    const result = await uploadBlobResumable(client, { source: new Blob([bytes]), upload: created })
    expect(result.cid).toBe(`cid-${checksum(bytes)}`)
    expect(calls).toEqual(['HEAD', 'PATCH 20'])
  })

  it('any pattern of faults ends with exactly the bytes of the source (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 64 }),
        fc.array(
          fc.constantFrom<Fault>('drop-before', 'drop-after', 'keep-half', 'server-error', undefined),
          {
            maxLength: 30,
          },
        ),
        async (size, chunkBytes, faults) => {
          const { client } = fakeNode(faults)
          const bytes = content(size)
          const result = await uploadBlobResumable(client, {
            source: async function* (offset) {
              for (let i = offset; i < size; i += 7) yield bytes.slice(i, i + 7)
            },
            size,
            chunkBytes,
            retries: 40,
            retryDelayMs: 0,
          })
          return result.cid === `cid-${checksum(bytes)}` && result.size === size
        },
      ),
      { numRuns: 200 },
    )
  })
})
