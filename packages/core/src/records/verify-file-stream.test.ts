import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { IntegrityError } from './errors.js'
import { verifyFileStream } from './verify-file-stream.js'

async function drain(source: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0
  for await (const chunk of source) n += chunk.length
  return n
}

async function* pieces(bytes: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

describe('verifyFileStream', () => {
  const bytes = new Uint8Array(100).map((_, i) => i)
  const expected = { size: bytes.length, sha256: sha256(bytes), label: 'a/b.dcm' }

  it('passes the bytes through and reports progress', async () => {
    const seen: number[] = []
    expect(
      await drain(verifyFileStream(pieces(bytes), { ...expected, onProgress: (n) => seen.push(n) })),
    ).toBe(100)
    expect(seen.at(-1)).toBe(100)
  })

  it('refuses a longer, a shorter and a different stream, naming the label', async () => {
    const longer = new Uint8Array(101)
    longer.set(bytes)
    const changed = bytes.slice()
    changed[50] = 0xff
    for (const [source, message] of [
      [longer, /longer/],
      [bytes.subarray(0, 99), /shorter/],
      [changed, /SHA-256/],
    ] as const) {
      const error = await drain(verifyFileStream(pieces(source), expected)).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(IntegrityError)
      expect((error as IntegrityError).shortMessage).toMatch(message)
      expect((error as IntegrityError).details).toBe('a/b.dcm')
    }
  })
})
