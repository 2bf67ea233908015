import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  ciphertextLength,
  DEFAULT_CHUNK_SIZE,
  DecryptionError,
  decryptStream,
  encryptStream,
  generateDek,
  InvalidKeyError,
  InvalidParameterError,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  plaintextLength,
  STREAM_HEADER_LENGTH,
  type StreamProgress,
} from './index.js'

const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts))
async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return parts
}
function split(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b)
  const pieces: Uint8Array[] = []
  let last = 0
  for (const p of points) {
    pieces.push(data.subarray(last, p))
    last = p
  }
  pieces.push(data.subarray(last))
  return pieces
}
function* oneByteAtATime(data: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < data.length; i++) yield data.subarray(i, i + 1)
}
async function* slowly(pieces: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) {
    await new Promise((resolve) => setImmediate(resolve))
    yield piece
  }
}
const random = (length: number) =>
  new Uint8Array(Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(length))))

describe('encryptStream', () => {
  test('sizes around chunk boundaries round-trip, and lengths match ciphertextLength', async () => {
    const dek = generateDek()
    const cs = MIN_CHUNK_SIZE
    for (const size of [0, 1, 15, 16, cs - 1, cs, cs + 1, 2 * cs, 3 * cs + 5]) {
      const plaintext = random(size)
      const parts = await collect(encryptStream([plaintext], { dek, chunkSize: cs }))
      const ciphertext = concat(parts)
      expect(ciphertext.length, `size ${size}`).toBe(ciphertextLength(size, cs))
      expect(plaintextLength(ciphertext.length, cs)).toBe(size)
      expect(parts[0]!.length).toBe(STREAM_HEADER_LENGTH)
      expect(concat(await collect(decryptStream([ciphertext], { dek })))).toEqual(plaintext)
    }
  })

  test('empty plaintext is a header and one empty final chunk', async () => {
    const dek = generateDek()
    const ciphertext = concat(await collect(encryptStream([], { dek })))
    expect(ciphertext.length).toBe(STREAM_HEADER_LENGTH + 16)
    const parts = await collect(decryptStream([ciphertext], { dek }))
    expect(concat(parts).length).toBe(0)
  })

  test('input and ciphertext may arrive one byte at a time, from async sources', async () => {
    const dek = generateDek()
    const plaintext = random(2 * MIN_CHUNK_SIZE + 77)
    const ciphertext = concat(
      await collect(encryptStream(oneByteAtATime(plaintext), { dek, chunkSize: MIN_CHUNK_SIZE })),
    )
    expect(concat(await collect(decryptStream(oneByteAtATime(ciphertext), { dek })))).toEqual(plaintext)
    const viaAsync = concat(
      await collect(encryptStream(slowly(split(plaintext, [1, 4000, 4097, 9000])), { dek })),
    )
    expect(concat(await collect(decryptStream(slowly(split(viaAsync, [3, 41, 42, 5000])), { dek })))).toEqual(
      plaintext,
    )
  })

  test('property: round trip for random sizes, chunk sizes and splits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 3 * 5000 }),
        fc.constantFrom(MIN_CHUNK_SIZE, 4097, 5000),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (plaintext, chunkSize, cutsIn, cutsOut) => {
          const dek = generateDek()
          const ciphertext = concat(
            await collect(encryptStream(split(plaintext, cutsIn), { dek, chunkSize })),
          )
          expect(ciphertext.length).toBe(ciphertextLength(plaintext.length, chunkSize))
          const decrypted = concat(await collect(decryptStream(split(ciphertext, cutsOut), { dek })))
          expect(decrypted).toEqual(plaintext)
        },
      ),
      { numRuns: 60 },
    )
  })

  test('the same plaintext and DEK give different ciphertexts (fresh salt per stream)', async () => {
    const dek = generateDek()
    const plaintext = random(100)
    const a = concat(await collect(encryptStream([plaintext], { dek })))
    const b = concat(await collect(encryptStream([plaintext], { dek })))
    expect(a.subarray(9, 41)).not.toEqual(b.subarray(9, 41))
    expect(a.subarray(41)).not.toEqual(b.subarray(41))
  })

  test('header records the chunk size; default is 256 KiB', async () => {
    const dek = generateDek()
    const [header] = await collect(encryptStream([], { dek }))
    expect(Buffer.from(header!.subarray(0, 4)).toString('latin1')).toBe('PCMS')
    expect(header![4]).toBe(1)
    expect(Buffer.from(header!).readUInt32BE(5)).toBe(DEFAULT_CHUNK_SIZE)
  })

  test('wiping the DEK right after the call does not change what is encrypted', async () => {
    const dek = generateDek()
    const copy = dek.slice()
    const stream = encryptStream([random(10)], { dek })
    dek.fill(0)
    const ciphertext = concat(await collect(stream))
    await expect(collect(decryptStream([ciphertext], { dek: copy }))).resolves.toBeDefined()
  })

  test('onProgress reports monotonic totals ending at the full lengths', async () => {
    const dek = generateDek()
    const plaintext = random(3 * MIN_CHUNK_SIZE + 10)
    const seen: StreamProgress[] = []
    const ciphertext = concat(
      await collect(
        encryptStream([plaintext], { dek, chunkSize: MIN_CHUNK_SIZE, onProgress: (p) => seen.push(p) }),
      ),
    )
    expect(seen.length).toBe(4)
    expect(seen.at(-1)).toEqual({ plaintextBytes: plaintext.length, ciphertextBytes: ciphertext.length })
    const back: StreamProgress[] = []
    await collect(decryptStream([ciphertext], { dek, onProgress: (p) => back.push(p) }))
    expect(back.at(-1)).toEqual({ plaintextBytes: plaintext.length, ciphertextBytes: ciphertext.length })
    for (const list of [seen, back]) {
      for (let i = 1; i < list.length; i++)
        expect(list[i]!.plaintextBytes).toBeGreaterThan(list[i - 1]!.plaintextBytes)
    }
  })

  test('an aborted signal stops encryption and decryption', async () => {
    const dek = generateDek()
    const aborted = AbortSignal.abort()
    await expect(collect(encryptStream([random(10)], { dek, signal: aborted }))).rejects.toThrow(/abort/i)
    const controller = new AbortController()
    const plaintext = random(10 * MIN_CHUNK_SIZE)
    const parts: Uint8Array[] = []
    const run = async () => {
      for await (const part of encryptStream(split(plaintext, [100, 9000, 20000]), {
        dek,
        chunkSize: MIN_CHUNK_SIZE,
        signal: controller.signal,
      })) {
        parts.push(part)
        if (parts.length === 3) controller.abort()
      }
    }
    await expect(run()).rejects.toThrow(/abort/i)
    expect(parts.length).toBe(3)
    const ciphertext = concat(await collect(encryptStream([plaintext], { dek })))
    await expect(collect(decryptStream([ciphertext], { dek, signal: aborted }))).rejects.toThrow(/abort/i)
  })

  test('parameters are checked when the stream is created', () => {
    const dek = generateDek()
    for (const chunkSize of [0, MIN_CHUNK_SIZE - 1, MAX_CHUNK_SIZE + 1, 4096.5, Number.NaN]) {
      expect(() => encryptStream([], { dek, chunkSize })).toThrow(InvalidParameterError)
    }
    for (const bad of [new Uint8Array(16), new Uint8Array(33), 'key' as unknown as Uint8Array]) {
      expect(() => encryptStream([], { dek: bad })).toThrow(InvalidKeyError)
      expect(() => decryptStream([], { dek: bad })).toThrow(InvalidKeyError)
    }
    expect(() => decryptStream([], { dek, maxChunkSize: 100 })).toThrow(InvalidParameterError)
  })

  test('a source yielding something other than bytes is refused', async () => {
    const dek = generateDek()
    const bad = ['text'] as unknown as Uint8Array[]
    await expect(collect(encryptStream(bad, { dek }))).rejects.toThrow(InvalidParameterError)
    await expect(collect(decryptStream(bad, { dek }))).rejects.toThrow(InvalidParameterError)
  })

  test('ciphertextLength / plaintextLength agree and reject impossible lengths', () => {
    for (const cs of [MIN_CHUNK_SIZE, DEFAULT_CHUNK_SIZE]) {
      for (const n of [0, 1, cs - 1, cs, cs + 1, 10 * cs, 10 * cs + 3]) {
        expect(plaintextLength(ciphertextLength(n, cs), cs)).toBe(n)
      }
    }
    expect(ciphertextLength(0)).toBe(57)
    expect(ciphertextLength(DEFAULT_CHUNK_SIZE)).toBe(41 + DEFAULT_CHUNK_SIZE + 32)
    expect(() => ciphertextLength(-1)).toThrow(InvalidParameterError)
    expect(() => plaintextLength(56)).toThrow(InvalidParameterError)
    // header + one full chunk + 5 bytes: the final chunk would be shorter than a tag
    expect(() => plaintextLength(41 + MIN_CHUNK_SIZE + 16 + 5, MIN_CHUNK_SIZE)).toThrow(InvalidParameterError)
  })

  test('decrypting a stream encrypted with another DEK names chunk 0', async () => {
    const ciphertext = concat(await collect(encryptStream([random(10)], { dek: generateDek() })))
    const error = await collect(decryptStream([ciphertext], { dek: generateDek() })).catch((e) => e)
    expect(error).toBeInstanceOf(DecryptionError)
    expect(error.shortMessage).toBe('Authentication failed for final chunk 0')
  })
})
