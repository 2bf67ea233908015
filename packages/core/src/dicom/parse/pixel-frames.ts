import type { DicomParseWarning, Fragment, ScannedElement } from './scan-dataset.js'

/*
 * Frames of encapsulated pixel data (PS3.5 A.4). dcmjs trusts the Basic Offset Table and fails on the
 * many real files whose table is wrong (XA_angio_jpegll.dcm: every offset off by the odd fragment
 * padding that was never written). Here the table is used only when it matches the fragments found.
 */

/** Where each frame's fragments are: `frames[i]` lists fragments (offsets into the scanned buffer). */
export type FrameLayout = { frames: Fragment[][]; usedOffsetTable: boolean }

export function layoutFrames(
  bytes: Uint8Array,
  element: ScannedElement,
  numberOfFrames: number,
  warnings: DicomParseWarning[],
): FrameLayout {
  const fragments = element.fragments ?? []
  if (fragments.length === 0) return { frames: [], usedOffsetTable: false }
  const table = readOffsetTable(bytes, element.offsetTable)
  if (table.length > 0) {
    const grouped = groupByOffsets(fragments, table)
    if (grouped) return { frames: grouped, usedOffsetTable: true }
    warnings.push({
      code: 'OFFSET_TABLE_IGNORED',
      message: 'the Basic Offset Table does not match the fragments; frames were found from the fragments',
      tag: '(7FE0,0010)',
    })
  }
  if (numberOfFrames <= 1) return { frames: [fragments], usedOffsetTable: false }
  if (fragments.length === numberOfFrames)
    return { frames: fragments.map((f) => [f]), usedOffsetTable: false }
  const byMarker = splitAtCodestreamStarts(bytes, fragments)
  if (byMarker.length === numberOfFrames) return { frames: byMarker, usedOffsetTable: false }
  warnings.push({
    code: 'FRAGMENTS_AS_FRAMES',
    message: `${fragments.length} fragments for ${numberOfFrames} frames and no usable offset table: each fragment is taken as a frame`,
    tag: '(7FE0,0010)',
  })
  return { frames: fragments.map((f) => [f]), usedOffsetTable: false }
}

function readOffsetTable(bytes: Uint8Array, table: Fragment | undefined): number[] {
  if (!table || table.length === 0) return []
  const view = new DataView(bytes.buffer, bytes.byteOffset + table.offset, table.length)
  const offsets: number[] = []
  for (let i = 0; i < table.length; i += 4) offsets.push(view.getUint32(i, true))
  return offsets
}

/** Offsets are from the first fragment item's tag; each must land on a fragment item. */
function groupByOffsets(fragments: Fragment[], offsets: number[]): Fragment[][] | undefined {
  const base = fragments[0]!.offset - 8
  const indexByStart = new Map<number, number>()
  fragments.forEach((f, i) => {
    indexByStart.set(f.offset - 8 - base, i)
  })
  if (offsets[0] !== 0) return undefined
  const starts: number[] = []
  for (const offset of offsets) {
    const index = indexByStart.get(offset)
    if (index === undefined) return undefined
    if (starts.length > 0 && index <= starts[starts.length - 1]!) return undefined
    starts.push(index)
  }
  return starts.map((start, i) => fragments.slice(start, starts[i + 1] ?? fragments.length))
}

/** A new frame starts at a fragment that begins a JPEG / JPEG-LS (SOI), JPEG 2000 (SOC) or JP2 codestream. */
function splitAtCodestreamStarts(bytes: Uint8Array, fragments: Fragment[]): Fragment[][] {
  const frames: Fragment[][] = []
  for (const fragment of fragments) {
    const at = fragment.offset
    const b = (i: number) => (fragment.length > i ? bytes[at + i] : undefined)
    const starts =
      (b(0) === 0xff && b(1) === 0xd8) ||
      (b(0) === 0xff && b(1) === 0x4f && b(2) === 0xff && b(3) === 0x51) ||
      (b(0) === 0 && b(1) === 0 && b(2) === 0 && b(3) === 0x0c && b(4) === 0x6a && b(5) === 0x50)
    if (starts || frames.length === 0) frames.push([fragment])
    else frames[frames.length - 1]!.push(fragment)
  }
  return frames
}

/** Copies a frame's fragments into one buffer. */
export function frameBytes(bytes: Uint8Array, frame: Fragment[]): ArrayBuffer {
  const total = frame.reduce((sum, f) => sum + f.length, 0)
  const out = new Uint8Array(total)
  let at = 0
  for (const f of frame) {
    out.set(bytes.subarray(f.offset, f.offset + f.length), at)
    at += f.length
  }
  return out.buffer
}
