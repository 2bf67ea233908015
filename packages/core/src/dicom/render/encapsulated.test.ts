import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { groupFragmentsIntoFrames, readEncapsulatedItems } from './encapsulated.js'

/** Builds encapsulated Pixel Data items: BOT, fragments, sequence delimiter (PS3.5 A.4). */
function encapsulate(fragments: Uint8Array[], bot: number[] = [], delimiter = true): Uint8Array {
  const parts: number[] = []
  const item = (value: ArrayLike<number>, tag = [0xfe, 0xff, 0x00, 0xe0]) => {
    parts.push(...tag)
    const n = value.length
    parts.push(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff)
    for (let i = 0; i < n; i++) parts.push(value[i] ?? 0)
  }
  const table: number[] = []
  for (const offset of bot)
    table.push(offset & 0xff, (offset >> 8) & 0xff, (offset >> 16) & 0xff, (offset >>> 24) & 0xff)
  item(table)
  for (const f of fragments) item(f)
  if (delimiter) item([], [0xfe, 0xff, 0xdd, 0xe0])
  return new Uint8Array(parts)
}

const bytes = (...values: number[]) => new Uint8Array(values)
const jpeg = (marker: number) => bytes(0xff, 0xd8, marker, marker)
const offsetsOf = (fragments: Uint8Array[]) => {
  const out: number[] = []
  let offset = 0
  for (const f of fragments) {
    out.push(offset)
    offset += 8 + f.length
  }
  return out
}

describe('readEncapsulatedItems', () => {
  it('reads the Basic Offset Table and the fragments with their item offsets', () => {
    const fragments = [bytes(1, 2), bytes(3, 4, 5, 6), bytes(7, 8)]
    const items = readEncapsulatedItems(encapsulate(fragments, [0, 10]), 0)
    expect(items.basicOffsetTable).toEqual([0, 10])
    expect(items.fragments.map((f) => f.offset)).toEqual([0, 10, 22])
    expect(items.fragments.map((f) => Array.from(f.bytes))).toEqual(fragments.map((f) => Array.from(f)))
  })

  it('rejects a fragment that runs past the end', () => {
    const data = encapsulate([bytes(1, 2, 3, 4)], [], false).slice(0, -2)
    expect(() => readEncapsulatedItems(data, 0)).toThrow(
      expect.objectContaining({ code: 'DICOM_PIXEL_DATA_TRUNCATED' }),
    )
  })

  it('rejects data that does not start with an item', () => {
    expect(() => readEncapsulatedItems(bytes(1, 2, 3, 4, 5, 6, 7, 8), 0)).toThrow(
      expect.objectContaining({ code: 'DICOM_DECODE_FAILED' }),
    )
  })

  it('rejects an item header cut in the middle', () => {
    const data = encapsulate([bytes(1, 2)], [], false)
    expect(() => readEncapsulatedItems(new Uint8Array([...data, 0xfe, 0xff]), 0)).toThrow(
      expect.objectContaining({ code: 'DICOM_PIXEL_DATA_TRUNCATED' }),
    )
  })
})

describe('groupFragmentsIntoFrames', () => {
  const group = (fragments: Uint8Array[], numberOfFrames: number, bot: number[] = [], eot?: number[]) =>
    groupFragmentsIntoFrames(readEncapsulatedItems(encapsulate(fragments, bot), 0), {
      numberOfFrames,
      encoding: 'jpeg-baseline',
      extendedOffsetTable: eot,
    }).map((f) => Array.from(f))

  it('joins multi-fragment frames by the Basic Offset Table', () => {
    const fragments = [jpeg(1), bytes(9, 9), jpeg(2)]
    expect(group(fragments, 2, [0, 22])).toEqual([
      [0xff, 0xd8, 1, 1, 9, 9],
      [0xff, 0xd8, 2, 2],
    ])
  })

  it('prefers the Extended Offset Table', () => {
    const fragments = [jpeg(1), jpeg(2), jpeg(3)]
    // EOT says frame 2 starts at the third fragment, no BOT.
    expect(group(fragments, 2, [], [0, 24])).toEqual([
      [0xff, 0xd8, 1, 1, 0xff, 0xd8, 2, 2],
      [0xff, 0xd8, 3, 3],
    ])
  })

  it('ignores a Basic Offset Table that does not point at items (as in XA_angio_jpegll.dcm)', () => {
    const fragments = [jpeg(1), jpeg(2)]
    expect(group(fragments, 2, [0, 13])).toEqual([Array.from(jpeg(1)), Array.from(jpeg(2))])
  })

  it('without an offset table: one frame takes every fragment', () => {
    expect(group([bytes(1), bytes(2), bytes(3)], 1)).toEqual([[1, 2, 3]])
  })

  it('without an offset table: splits at JPEG SOI markers when counts differ', () => {
    expect(group([jpeg(1), bytes(5), jpeg(2), bytes(6), bytes(7)], 2)).toEqual([
      [0xff, 0xd8, 1, 1, 5],
      [0xff, 0xd8, 2, 2, 6, 7],
    ])
  })

  it('fails clearly when frames cannot be found', () => {
    expect(() => group([bytes(1), bytes(2), bytes(3)], 2)).toThrow(
      expect.objectContaining({ code: 'DICOM_DECODE_FAILED' }),
    )
  })

  it('round-trips any split of any frames through a Basic Offset Table', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.uint8Array({ minLength: 1, maxLength: 9 }), { minLength: 1, maxLength: 4 }), {
          minLength: 1,
          maxLength: 6,
        }),
        (frames) => {
          const fragments = frames.flat()
          const all = offsetsOf(fragments)
          const bot: number[] = []
          let index = 0
          for (const frame of frames) {
            bot.push(all[index] ?? 0)
            index += frame.length
          }
          const expected = frames.map((frame) => frame.flatMap((f) => Array.from(f)))
          expect(group(fragments, frames.length, bot)).toEqual(expected)
        },
      ),
    )
  })
})
