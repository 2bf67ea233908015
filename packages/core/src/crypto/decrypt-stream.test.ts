import fc from 'fast-check'
import { beforeAll, describe, expect, test } from 'vitest'
import { DecryptionError, decryptStream, encryptStream, generateDek, MIN_CHUNK_SIZE } from './index.js'

const CS = MIN_CHUNK_SIZE
const SEALED = CS + 16
const HEADER = 41
const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts))
async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return parts
}
async function encrypt(plaintext: Uint8Array, dek: Uint8Array): Promise<Uint8Array> {
  return concat(await collect(encryptStream([plaintext], { dek, chunkSize: CS })))
}
async function decryptError(ciphertext: Uint8Array, dek: Uint8Array): Promise<DecryptionError> {
  const error = await collect(decryptStream([ciphertext], { dek })).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error, 'decryption should have failed').toBeInstanceOf(DecryptionError)
  return error as DecryptionError
}
const chunk = (ciphertext: Uint8Array, i: number) =>
  ciphertext.subarray(HEADER + i * SEALED, HEADER + (i + 1) * SEALED)

// Three full chunks (0, 1, 2) and a 100-byte final chunk (3).
let dek: Uint8Array
let plaintext: Uint8Array
let ciphertext: Uint8Array
beforeAll(async () => {
  dek = generateDek()
  plaintext = globalThis.crypto.getRandomValues(new Uint8Array(3 * CS + 100))
  ciphertext = await encrypt(plaintext, dek)
  expect(ciphertext.length).toBe(HEADER + 3 * SEALED + 100 + 16)
})

describe('decryptStream rejects tampering', () => {
  test('the untouched ciphertext decrypts', async () => {
    expect(concat(await collect(decryptStream([ciphertext], { dek })))).toEqual(plaintext)
  })

  test('flipping a bit in any header byte fails', async () => {
    for (let i = 0; i < HEADER; i++) {
      const tampered = ciphertext.slice()
      tampered[i]! ^= 0x01
      await decryptError(tampered, dek)
    }
  })

  test('flipping a bit in the body or the tag of every chunk fails, naming the chunk', async () => {
    for (let c = 0; c < 4; c++) {
      const start = HEADER + c * SEALED
      const bodyLength = c < 3 ? CS : 100
      const positions = [
        0,
        1,
        bodyLength >> 1,
        bodyLength - 1,
        ...Array.from({ length: 16 }, (_, t) => bodyLength + t),
      ]
      for (const p of positions) {
        const tampered = ciphertext.slice()
        tampered[start + p]! ^= 0x80
        const error = await decryptError(tampered, dek)
        expect(error.shortMessage).toBe(`Authentication failed for ${c === 3 ? 'final ' : ''}chunk ${c}`)
      }
    }
  })

  test('output is released only for chunks that authenticated', async () => {
    const tampered = ciphertext.slice()
    tampered[HEADER + 2 * SEALED + 10]! ^= 1
    const released: Uint8Array[] = []
    await expect(
      (async () => {
        for await (const part of decryptStream([tampered], { dek })) released.push(part)
      })(),
    ).rejects.toThrow('Authentication failed for chunk 2')
    expect(released.length).toBe(2)
    expect(concat(released)).toEqual(plaintext.subarray(0, 2 * CS))
  })

  test('dropping the final chunk fails as truncation', async () => {
    const error = await decryptError(ciphertext.subarray(0, HEADER + 3 * SEALED), dek)
    expect(error.shortMessage).toBe('Truncated stream: final chunk missing')
  })

  test('dropping the empty final chunk of an exact multiple fails as truncation', async () => {
    const exact = await encrypt(plaintext.subarray(0, 2 * CS), dek)
    expect(exact.length).toBe(HEADER + 2 * SEALED + 16)
    const error = await decryptError(exact.subarray(0, exact.length - 16), dek)
    expect(error.shortMessage).toBe('Truncated stream: final chunk missing')
  })

  test('dropping any number of trailing bytes fails', async () => {
    for (const cut of [1, 15, 16, 17, 100, 116, 117, SEALED, SEALED + 116]) {
      await decryptError(ciphertext.subarray(0, ciphertext.length - cut), dek)
    }
  })

  test('everything after the header dropped, a partial header, or nothing at all fails', async () => {
    expect((await decryptError(ciphertext.subarray(0, HEADER), dek)).shortMessage).toBe(
      'Truncated stream: final chunk missing',
    )
    expect((await decryptError(ciphertext.subarray(0, 40), dek)).shortMessage).toBe(
      'Truncated stream: incomplete header',
    )
    expect((await decryptError(new Uint8Array(0), dek)).shortMessage).toBe(
      'Truncated stream: incomplete header',
    )
  })

  test('swapping, duplicating or dropping a middle chunk fails', async () => {
    const header = ciphertext.subarray(0, HEADER)
    const final = ciphertext.subarray(HEADER + 3 * SEALED)
    const [c0, c1, c2] = [chunk(ciphertext, 0), chunk(ciphertext, 1), chunk(ciphertext, 2)]
    const variants = [
      [header, c1, c0, c2, final],
      [header, c0, c2, c1, final],
      [header, c0, c1, c1, c2, final],
      [header, c0, c0, c1, c2, final],
      [header, c0, c2, final],
      [header, c1, c2, final],
    ]
    for (const parts of variants) await decryptError(concat(parts), dek)
  })

  test('appending anything after the final chunk fails', async () => {
    const final = ciphertext.subarray(HEADER + 3 * SEALED)
    for (const extra of [
      new Uint8Array(1),
      new Uint8Array(16),
      final,
      chunk(ciphertext, 0),
      new Uint8Array(SEALED),
    ]) {
      await decryptError(concat([ciphertext, extra]), dek)
    }
  })

  test('the final chunk of one stream cannot end another (same DEK, different salt)', async () => {
    const other = await encrypt(plaintext, dek)
    const spliced = concat([ciphertext.subarray(0, HEADER + 3 * SEALED), other.subarray(HEADER + 3 * SEALED)])
    expect((await decryptError(spliced, dek)).shortMessage).toBe('Authentication failed for final chunk 3')
    const otherHeader = concat([other.subarray(0, HEADER), ciphertext.subarray(HEADER)])
    expect((await decryptError(otherHeader, dek)).shortMessage).toBe('Authentication failed for chunk 0')
  })

  test('a non-final chunk re-labelled as final (by truncating its stream) fails', async () => {
    // The stream now ends with chunk 2's bytes, which were sealed with final = 0.
    const short = concat([ciphertext.subarray(0, HEADER + 2 * SEALED), chunk(ciphertext, 2).subarray(0, 116)])
    await decryptError(short, dek)
  })

  test('header checks: magic, version, chunk size range and maxChunkSize', async () => {
    const withHeader = (edit: (h: Buffer) => void) => {
      const copy = Buffer.from(ciphertext)
      edit(copy)
      return new Uint8Array(copy)
    }
    expect(
      (
        await decryptError(
          withHeader((h) => h.write('XCMS', 0, 'latin1')),
          dek,
        )
      ).shortMessage,
    ).toBe('Bad header: not a PCMIMS encrypted stream')
    expect(
      (
        await decryptError(
          withHeader((h) => h.writeUInt8(2, 4)),
          dek,
        )
      ).shortMessage,
    ).toBe('Bad header: unsupported format version')
    for (const size of [0, CS - 1, 16 * 1024 * 1024 + 1, 0xffffffff]) {
      expect(
        (
          await decryptError(
            withHeader((h) => h.writeUInt32BE(size, 5)),
            dek,
          )
        ).shortMessage,
      ).toBe('Bad header: chunk size out of range')
    }
    const big = concat(await collect(encryptStream([plaintext], { dek, chunkSize: 1024 * 1024 })))
    await expect(collect(decryptStream([big], { dek, maxChunkSize: 64 * 1024 }))).rejects.toThrow(
      'Bad header: chunk size out of range',
    )
    expect(concat(await collect(decryptStream([big], { dek, maxChunkSize: 1024 * 1024 })))).toEqual(plaintext)
  })

  test('property: any single-byte change fails', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: ciphertext.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (i, x) => {
          const tampered = ciphertext.slice()
          tampered[i]! ^= x
          await decryptError(tampered, dek)
        },
      ),
      { numRuns: 300 },
    )
  })
})
