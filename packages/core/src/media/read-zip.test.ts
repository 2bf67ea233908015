import { readFile } from 'node:fs/promises'
import fc from 'fast-check'
import { deflateSync, zipSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import { MediaError } from './errors.js'
import { bytesRandomAccess } from './random-access.js'
import { readZip, type ZipEntry } from './read-zip.js'

const FIXTURES = new URL('../../../../fixtures/dicom/valid/', import.meta.url)

async function readAll(entry: ZipEntry): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of entry.open()) chunks.push(chunk)
  return Buffer.concat(chunks)
}

const list = (bytes: Uint8Array, options: Partial<Parameters<typeof readZip>[0]> = {}) =>
  readZip({ source: bytesRandomAccess(bytes), name: 'study.zip', ...options })

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'ok'
  } catch (error) {
    if (error instanceof MediaError) return error.code
    throw error
  }
}

/** Sets the UTF-8 flag on every entry so names with any character survive fflate's writer as written. */
function withName(zip: Uint8Array, from: string, to: string): Uint8Array {
  // Same length: patch the bytes of both the local header and the central directory in place.
  const out = zip.slice()
  const a = new TextEncoder().encode(from)
  const b = new TextEncoder().encode(to)
  expect(a.length).toBe(b.length)
  for (let i = 0; i + a.length <= out.length; i++) {
    if (a.every((byte, j) => out[i + j] === byte)) out.set(b, i)
  }
  return out
}

describe('readZip', () => {
  it('lists and inflates real DICOM files byte-identical, stored or deflated, skipping directories and junk', async () => {
    const ct = new Uint8Array(await readFile(new URL('CT_small.dcm', FIXTURES)))
    const mr = new Uint8Array(await readFile(new URL('MR_small.dcm', FIXTURES)))
    const zip = zipSync({
      export: {},
      'export/CT_small.dcm': [ct, { level: 9 }],
      'export/MR_small.dcm': [mr, { level: 0 }],
      '__MACOSX/export/._CT_small.dcm': new Uint8Array([1, 2, 3]),
      'export/.DS_Store': new Uint8Array([4]),
    })
    const { entries, skipped } = await list(zip)
    expect(entries.map((e) => [e.path, e.method, e.size])).toEqual([
      ['export/CT_small.dcm', 'deflate', ct.length],
      ['export/MR_small.dcm', 'stored', mr.length],
    ])
    expect(skipped).toEqual(['__MACOSX/export/._CT_small.dcm', 'export/.DS_Store'])
    expect(Buffer.compare(await readAll(entries[0]!), ct)).toBe(0)
    expect(Buffer.compare(await readAll(entries[1]!), mr)).toBe(0)
    // Opening twice reads twice (lazy, nothing cached).
    expect((await readAll(entries[0]!)).length).toBe(ct.length)
  })

  it('refuses traversal, absolute, drive and backslash names before inflating anything', async () => {
    const base = zipSync({ 'aaaa/bb.dcm': new Uint8Array([1]) })
    for (const bad of [
      '../b.dcm',
      '/aaa/bb.dcm',
      'C:/aa/bb.dcm',
      'aaa\\bb.dcm',
      'aaaa//b.dcm',
      'aaaa/./b.dcm',
    ]) {
      const padded = bad.padEnd('aaaa/bb.dcm'.length, 'x').slice(0, 'aaaa/bb.dcm'.length)
      const zip = withName(base, 'aaaa/bb.dcm', padded)
      const error = await list(zip).catch((e) => e)
      expect(error, padded).toBeInstanceOf(MediaError)
      expect(error.code, padded).toBe('ZIP_UNSAFE_PATH')
      expect(error.message).toContain('study.zip')
    }
  })

  it('refuses a zip bomb: by declared size, by the total, and while inflating when the size lies', async () => {
    const zeros = new Uint8Array(8 * 1024 * 1024)
    const bomb = zipSync({ 'a.dcm': [zeros, { level: 1 }] })
    expect(bomb.length).toBeLessThan(100_000)
    const declared = await list(bomb, { maxEntryBytes: 1024 * 1024 }).catch((e) => e)
    expect(declared.code).toBe('ZIP_ENTRY_TOO_LARGE')
    expect(declared.message).toBe('study.zip!a.dcm: declares 8388608 bytes, more than the 1048576 allowed')
    const two = zipSync({ 'a.dcm': [zeros, { level: 1 }], 'b.dcm': [zeros, { level: 1 }] })
    expect(await codeOf(list(two, { maxTotalBytes: 12 * 1024 * 1024 }))).toBe('ZIP_TOO_LARGE')
    // The directory lies (declares 1000 bytes): inflation stops at the declared size.
    const lying = bomb.slice()
    const v = new DataView(lying.buffer)
    for (let i = 0; i + 4 <= lying.length; i++) {
      if (v.getUint32(i, true) === 0x02014b50) v.setUint32(i + 24, 1000, true)
    }
    const { entries } = await list(lying)
    const error = await readAll(entries[0]!).catch((e) => e)
    expect(error).toBeInstanceOf(MediaError)
    expect(error.code).toBe('ZIP_ENTRY_TOO_LARGE')
  })

  it('refuses overlapping entries (the non-recursive zip bomb)', async () => {
    const zip = zipSync({ 'a.dcm': new Uint8Array(100), 'b.dcm': new Uint8Array(100) })
    const v = new DataView(zip.buffer)
    let second = -1
    let seen = 0
    for (let i = 0; i + 4 <= zip.length; i++) {
      if (v.getUint32(i, true) === 0x02014b50 && ++seen === 2) second = i
    }
    v.setUint32(second + 42, 0, true) // b.dcm's local header offset → a.dcm's
    expect(await codeOf(list(zip))).toBe('ZIP_CORRUPT')
  })

  it('refuses encrypted entries, ZIP64, unknown methods, nested ZIPs, duplicates and too many entries', async () => {
    const flagged = (mutate: (v: DataView, cd: number) => void) => {
      const zip = zipSync({ 'a.dcm': new Uint8Array([1, 2, 3]) })
      const v = new DataView(zip.buffer)
      for (let i = 0; i + 4 <= zip.length; i++) if (v.getUint32(i, true) === 0x02014b50) mutate(v, i)
      return zip
    }
    expect(await codeOf(list(flagged((v, cd) => v.setUint16(cd + 8, 1, true))))).toBe('ZIP_ENCRYPTED')
    expect(await codeOf(list(flagged((v, cd) => v.setUint16(cd + 10, 99, true))))).toBe('ZIP_ENCRYPTED')
    expect(await codeOf(list(flagged((v, cd) => v.setUint16(cd + 10, 12, true))))).toBe('ZIP_UNSUPPORTED')
    expect(await codeOf(list(flagged((v, cd) => v.setUint32(cd + 24, 0xffffffff, true))))).toBe(
      'ZIP_UNSUPPORTED',
    )
    const symlink = flagged((v, cd) => {
      v.setUint16(cd + 4, 0x031e, true)
      v.setUint32(cd + 38, 0o120777 << 16, true)
    })
    expect(await codeOf(list(symlink))).toBe('ZIP_UNSUPPORTED')
    const nested = await list(zipSync({ 'inner.zip': zipSync({ 'a.dcm': new Uint8Array(1) }) })).catch(
      (e) => e,
    )
    expect(nested.code).toBe('ZIP_NESTED')
    expect(nested.entry).toBe('inner.zip')
    const dup = withName(
      zipSync({ 'a.dcm': new Uint8Array(1), 'b.dcm': new Uint8Array(1) }),
      'b.dcm',
      'a.dcm',
    )
    expect(await codeOf(list(dup))).toBe('ZIP_DUPLICATE_ENTRY')
    const many = zipSync(
      Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}.dcm`, new Uint8Array(1)])),
    )
    expect(await codeOf(list(many, { maxEntries: 10 }))).toBe('ZIP_TOO_MANY_ENTRIES')
    expect(await codeOf(list(new TextEncoder().encode('not a zip at all, just some text here')))).toBe(
      'ZIP_CORRUPT',
    )
  })

  it('refuses a ZIP64 archive clearly', async () => {
    const zip = zipSync({ 'a.dcm': new Uint8Array(1) })
    const eocd = zip.length - 22
    // A ZIP64 end-of-central-directory locator right before the end record.
    const locator = new Uint8Array(20)
    new DataView(locator.buffer).setUint32(0, 0x07064b50, true)
    const z64 = Buffer.concat([zip.subarray(0, eocd), locator, zip.subarray(eocd)])
    const error = await list(z64).catch((e) => e)
    expect(error.code).toBe('ZIP_UNSUPPORTED')
    expect(error.message).toContain('ZIP64')
  })

  it('detects damaged data by CRC-32 and truncated deflate streams', async () => {
    const payload = new TextEncoder().encode('DICOM '.repeat(2000))
    const zip = zipSync({ 'a.dcm': [payload, { level: 0 }] })
    const i = Buffer.from(zip).indexOf('DICOM DICOM')
    zip[i + 3] = zip[i + 3]! ^ 0xff
    const { entries } = await list(zip)
    const error = await readAll(entries[0]!).catch((e) => e)
    expect(error.code).toBe('ZIP_BAD_DATA')
    expect(deflateSync(payload).length).toBeLessThan(payload.length)
  })

  it('property: any mutation of a real archive gives entries or a MediaError, never another throw, never a hang', async () => {
    const mr = new Uint8Array(await readFile(new URL('MR_small.dcm', FIXTURES)))
    const seed = zipSync({
      'DICOM/IM1': [mr, { level: 6 }],
      'DICOM/IM2': [mr.subarray(0, 3000), { level: 0 }],
    })
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat(seed.length - 1), byte: fc.integer({ min: 0, max: 255 }) }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.option(fc.nat(seed.length), { nil: undefined }),
        async (mutations, cut) => {
          const bytes = seed.slice(0, cut ?? seed.length)
          for (const m of mutations) if (m.at < bytes.length) bytes[m.at] = m.byte
          const started = performance.now()
          try {
            const { entries } = await list(bytes, { maxEntryBytes: 4 * 1024 * 1024 })
            for (const entry of entries) {
              const out = await readAll(entry)
              expect(out.length).toBe(entry.size)
            }
          } catch (error) {
            if (!(error instanceof MediaError)) throw error
          }
          expect(performance.now() - started).toBeLessThan(2000)
        },
      ),
      { numRuns: 400 },
    )
  })

  it('property: random bytes are refused with a MediaError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        expect(await codeOf(list(bytes))).not.toBe('ok')
      }),
      { numRuns: 300 },
    )
  })
})
