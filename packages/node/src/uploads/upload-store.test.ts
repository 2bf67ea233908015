import { createHash } from 'node:crypto'
import { appendFile, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NotFoundError } from '../http/errors.js'
import {
  OffsetMismatchError,
  UploadExpiredError,
  UploadInterruptedError,
  UploadLengthExceededError,
} from './errors.js'
import { createUploadStore, type UploadStore } from './upload-store.js'

const OWNER = '0x1111111111111111111111111111111111111111'
const OTHER = '0x2222222222222222222222222222222222222222'
const TTL = 60_000

function bytes(length: number, seed = 1): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 31 + seed * 7 + (i >> 9)) % 251)
}

function streamOf(...pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(piece)
      controller.close()
    },
  })
}

/** Sends `pieces`, then breaks like a dropped connection. */
function brokenStream(...pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0
  return new ReadableStream({
    pull(controller) {
      const piece = pieces[i++]
      if (piece) controller.enqueue(piece)
      else controller.error(new Error('socket hang up'))
    },
  })
}

describe('createUploadStore', () => {
  let dir: string
  let t: number
  let imported: Array<{ file: string; sha: string }>
  let store: UploadStore
  const open = () =>
    createUploadStore({
      directory: path.join(dir, 'uploads'),
      ttlMs: TTL,
      now: () => t,
      async importUpload(file) {
        const content = await readFile(file)
        const sha = createHash('sha256').update(content).digest('hex')
        imported.push({ file, sha })
        return { cid: `sha-${sha}`, size: content.byteLength }
      },
    })

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pcmims-uploads-'))
    t = Date.now()
    imported = []
    store = open()
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const dataFile = (id: string) => path.join(dir, 'uploads', `${id}.bin`)
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

  it('appends chunks, imports the whole once complete, and forgets the file', async () => {
    const content = bytes(3_000_000)
    const upload = await store.create({ owner: OWNER, length: content.length })
    expect(upload).toMatchObject({ owner: OWNER, length: 3_000_000, offset: 0 })
    expect(upload.id).toMatch(/^[0-9a-f]{32}$/)
    let offset = 0
    for (const size of [1_000_000, 1_500_000, 500_000]) {
      const piece = content.subarray(offset, offset + size)
      // Pieces of odd sizes, as a socket delivers them.
      const pieces = [piece.subarray(0, 12_345), piece.subarray(12_345, 700_001), piece.subarray(700_001)]
      const after = await store.append(upload.id, OWNER, {
        offset,
        body: streamOf(...pieces),
        contentLength: size,
      })
      offset += size
      expect(after.offset).toBe(offset)
    }
    expect(imported).toHaveLength(1)
    expect(imported[0]?.sha).toBe(sha(content))
    const status = await store.status(upload.id, OWNER)
    expect(status.blob).toEqual({ cid: `sha-${sha(content)}`, size: 3_000_000 })
    await expect(stat(dataFile(upload.id))).rejects.toThrow()
    // The final chunk sent again (its answer was lost) is acknowledged, not imported twice.
    const again = await store.append(upload.id, OWNER, { offset: 3_000_000, body: null, contentLength: 0 })
    expect(again.blob?.cid).toBe(status.blob?.cid)
    expect(imported).toHaveLength(1)
  })

  it('an empty upload is a blob as soon as it is created', async () => {
    const upload = await store.create({ owner: OWNER, length: 0 })
    expect(upload.blob).toEqual({ cid: `sha-${sha(new Uint8Array())}`, size: 0 })
  })

  it('refuses a wrong offset, a chunk past the length, and a body cut short, changing nothing', async () => {
    const content = bytes(100_000)
    const upload = await store.create({ owner: OWNER, length: content.length })
    await store.append(upload.id, OWNER, { offset: 0, body: streamOf(content.subarray(0, 40_000)) })

    await expect(
      store.append(upload.id, OWNER, { offset: 0, body: streamOf(content.subarray(0, 10)) }),
    ).rejects.toBeInstanceOf(OffsetMismatchError)
    await expect(
      store.append(upload.id, OWNER, {
        offset: 40_000,
        body: streamOf(new Uint8Array(60_001)),
        contentLength: 60_001,
      }),
    ).rejects.toBeInstanceOf(UploadLengthExceededError)
    // Without a Content-Length the overflow is seen while reading.
    await expect(
      store.append(upload.id, OWNER, {
        offset: 40_000,
        body: streamOf(new Uint8Array(30_000), new Uint8Array(30_001)),
      }),
    ).rejects.toBeInstanceOf(UploadLengthExceededError)
    await expect(
      store.append(upload.id, OWNER, {
        offset: 40_000,
        body: brokenStream(content.subarray(40_000, 50_000)),
      }),
    ).rejects.toBeInstanceOf(UploadInterruptedError)
    await expect(
      store.append(upload.id, OWNER, {
        offset: 40_000,
        body: streamOf(content.subarray(40_000, 50_000)),
        contentLength: 20_000,
      }),
    ).rejects.toBeInstanceOf(UploadInterruptedError)

    expect((await store.status(upload.id, OWNER)).offset).toBe(40_000)
    expect((await stat(dataFile(upload.id))).size).toBe(40_000)
    await store.append(upload.id, OWNER, { offset: 40_000, body: streamOf(content.subarray(40_000)) })
    expect(imported[0]?.sha).toBe(sha(content))
  })

  it('hides an upload from everyone but its owner', async () => {
    const upload = await store.create({ owner: OWNER, length: 10 })
    await expect(store.status(upload.id, OTHER)).rejects.toBeInstanceOf(NotFoundError)
    await expect(
      store.append(upload.id, OTHER, { offset: 0, body: streamOf(new Uint8Array(10)) }),
    ).rejects.toBeInstanceOf(NotFoundError)
    await expect(store.remove(upload.id, OTHER)).rejects.toBeInstanceOf(NotFoundError)
    // Addresses compare case-insensitively.
    expect((await store.status(upload.id, OWNER.toUpperCase().replace('0X', '0x'))).offset).toBe(0)
    for (const id of ['../../etc/passwd', 'ABCDEF0123456789ABCDEF0123456789', 'x'.repeat(32), '']) {
      await expect(store.status(id, OWNER)).rejects.toBeInstanceOf(NotFoundError)
    }
  })

  it('terminates an upload', async () => {
    const upload = await store.create({ owner: OWNER, length: 10 })
    await store.remove(upload.id, OWNER)
    await expect(store.status(upload.id, OWNER)).rejects.toBeInstanceOf(NotFoundError)
    expect(await readdir(path.join(dir, 'uploads'))).toEqual([])
  })

  it('expires an upload left alone for the time to live; each chunk starts the time again', async () => {
    const upload = await store.create({ owner: OWNER, length: 20 })
    expect(store.expiresAt(upload)).toBe(t + TTL)
    t += TTL - 1
    await store.append(upload.id, OWNER, { offset: 0, body: streamOf(new Uint8Array(5)) })
    t += TTL
    expect((await store.status(upload.id, OWNER)).offset).toBe(5)
    t += 1
    await expect(store.status(upload.id, OWNER)).rejects.toBeInstanceOf(UploadExpiredError)
    await expect(store.status(upload.id, OWNER)).rejects.toBeInstanceOf(NotFoundError)
  })

  it('the sweep removes expired uploads and leftovers of interrupted writes, and keeps the rest', async () => {
    const t0 = t
    const old = await store.create({ owner: OWNER, length: 20 })
    const done = await store.create({ owner: OWNER, length: 0 })
    const writing = await store.create({ owner: OWNER, length: 20 })
    const uploads = path.join(dir, 'uploads')
    const stray = path.join(uploads, `${'a'.repeat(32)}.bin`)
    const temp = path.join(uploads, `.${'b'.repeat(32)}.1.1.tmp`)
    await writeFile(stray, 'no state file')
    await writeFile(temp, '{')
    // Nothing is old yet; leftovers go by their file time.
    expect(await store.sweep()).toBe(0)
    expect(await readdir(uploads)).toHaveLength(7)

    t = t0 + TTL + 5000
    // A long chunk still arriving keeps its upload even though its last acknowledged change is old.
    await utimes(dataFile(writing.id), new Date(t - 1000), new Date(t - 1000))
    const fresh = await store.create({ owner: OWNER, length: 20 })
    expect(await store.sweep()).toBe(2)
    expect((await readdir(uploads)).sort()).toEqual(
      [`${fresh.id}.bin`, `${fresh.id}.json`, `${writing.id}.bin`, `${writing.id}.json`].sort(),
    )
    await expect(store.status(old.id, OWNER)).rejects.toBeInstanceOf(NotFoundError)
    await expect(store.status(done.id, OWNER)).rejects.toBeInstanceOf(NotFoundError)

    t = t0 + 3 * TTL
    expect(await store.sweep()).toBe(2)
    expect(await readdir(uploads)).toEqual([])
  })

  it('after a crash, bytes past the acknowledged offset are cut and the upload goes on', async () => {
    const content = bytes(50_000, 3)
    const upload = await store.create({ owner: OWNER, length: content.length })
    await store.append(upload.id, OWNER, { offset: 0, body: streamOf(content.subarray(0, 20_000)) })
    // A chunk being written when the process died: on disk, never acknowledged.
    await appendFile(dataFile(upload.id), new Uint8Array(7_000).fill(0xee))
    store = open()
    const status = await store.status(upload.id, OWNER)
    expect(status.offset).toBe(20_000)
    expect((await stat(dataFile(upload.id))).size).toBe(20_000)
    await store.append(upload.id, OWNER, { offset: 20_000, body: streamOf(content.subarray(20_000)) })
    expect(imported.map((i) => i.sha)).toEqual([sha(content)])
  })

  it('a complete upload the crash kept from importing is imported when asked about', async () => {
    const content = bytes(1000)
    let failImport = true
    const flaky = createUploadStore({
      directory: path.join(dir, 'uploads'),
      ttlMs: TTL,
      async importUpload(file) {
        if (failImport) throw new Error('blob store down')
        const b = await readFile(file)
        return { cid: `sha-${sha(b)}`, size: b.length }
      },
    })
    const upload = await flaky.create({ owner: OWNER, length: 1000 })
    await expect(flaky.append(upload.id, OWNER, { offset: 0, body: streamOf(content) })).rejects.toThrow(
      'down',
    )
    failImport = false
    const status = await flaky.status(upload.id, OWNER)
    expect(status).toMatchObject({ offset: 1000, blob: { cid: `sha-${sha(content)}`, size: 1000 } })
  })

  it('a newer request takes the upload over from one whose body stalls', async () => {
    const upload = await store.create({ owner: OWNER, length: 100_000 })
    let pulled = 0
    const stalled = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled++ === 0) controller.enqueue(new Uint8Array(30_000))
        // Then nothing: a half-open connection.
        return new Promise(() => {})
      },
    })
    const first = store
      .append(upload.id, OWNER, { offset: 0, body: stalled })
      .catch((error: unknown) => error)
    await new Promise((resolve) => setTimeout(resolve, 50))
    // Someone else cannot take it over, nor even interrupt it.
    let settled = false
    void first.then(() => {
      settled = true
    })
    await expect(store.status(upload.id, OTHER)).rejects.toBeInstanceOf(NotFoundError)
    await expect(store.remove(upload.id, OTHER)).rejects.toBeInstanceOf(NotFoundError)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(settled).toBe(false)
    const status = await store.status(upload.id, OWNER)
    expect(status.offset).toBe(0)
    expect(await first).toBeInstanceOf(UploadInterruptedError)
    expect(
      (await store.append(upload.id, OWNER, { offset: 0, body: streamOf(new Uint8Array(10)) })).offset,
    ).toBe(10)
  })

  it('any pattern of interrupted and whole chunks ends with exactly the bytes sent (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ size: fc.integer({ min: 1, max: 40_000 }), cutAt: fc.option(fc.nat()) }), {
          minLength: 1,
          maxLength: 12,
        }),
        async (steps) => {
          const length = 120_000
          const content = bytes(length, steps.length)
          const upload = await store.create({ owner: OWNER, length })
          let offset = 0
          for (const step of steps) {
            if (offset === length) break
            const piece = content.subarray(offset, offset + step.size)
            if (step.cutAt !== null) {
              const cut = step.cutAt % piece.length
              await expect(
                store.append(upload.id, OWNER, { offset, body: brokenStream(piece.subarray(0, cut)) }),
              ).rejects.toBeInstanceOf(UploadInterruptedError)
            } else {
              offset = (await store.append(upload.id, OWNER, { offset, body: streamOf(piece) })).offset
            }
          }
          if (offset < length) {
            await store.append(upload.id, OWNER, { offset, body: streamOf(content.subarray(offset)) })
          }
          const status = await store.status(upload.id, OWNER)
          return status.blob?.cid === `sha-${sha(content)}`
        },
      ),
      { numRuns: 25 },
    )
  })
})
