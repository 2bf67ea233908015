// RLE Lossless (PS3.5 Annex G) is decoded here: no maintained npm package offers a standalone DICOM
// RLE decoder (cornerstone's lives inside @cornerstonejs/dicom-image-loader, dcmjs-codecs' inside its
// WASM transcoder), and the format is a 64-byte header plus PackBits segments.
import { DicomDecodeError } from '../errors.js'
import type { ImageInfo } from '../image-info.js'
import { type DecodedFrame, normalizeSamples } from '../pixels.js'

function failed(details: string, info: ImageInfo): DicomDecodeError {
  return new DicomDecodeError('Cannot decode the RLE frame', {
    code: 'DICOM_DECODE_FAILED',
    details,
    transferSyntaxUid: info.transferSyntaxUid,
  })
}

/** Decodes one PackBits segment (G.3.1) into `out`; returns how many bytes it produced. */
export function decodePackBits(segment: Uint8Array, out: Uint8Array): number {
  let i = 0
  let o = 0
  while (i < segment.length && o < out.length) {
    const header = segment[i++] ?? 0
    if (header < 128) {
      const count = Math.min(header + 1, out.length - o, segment.length - i)
      out.set(segment.subarray(i, i + count), o)
      i += header + 1
      o += count
    } else if (header > 128) {
      const count = Math.min(257 - header, out.length - o)
      if (i >= segment.length) break
      out.fill(segment[i++] ?? 0, o, o + count)
      o += count
    }
    // 128 (−128) is a no-op.
  }
  return o
}

/** Decodes one RLE Lossless frame into interleaved sample values. */
export function decodeRleFrame(frame: Uint8Array, info: ImageInfo): DecodedFrame {
  if (frame.length < 64) throw failed(`frame of ${frame.length} bytes has no 64-byte RLE header`, info)
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const segmentCount = view.getUint32(0, true)
  const bytesPerSample = info.bitsAllocated / 8
  if (!Number.isInteger(bytesPerSample))
    throw failed(`BitsAllocated ${info.bitsAllocated} is not RLE-encodable`, info)
  const { rows, columns, samplesPerPixel } = info
  if (segmentCount !== samplesPerPixel * bytesPerSample || segmentCount > 15) {
    throw failed(`${segmentCount} segments, expected ${samplesPerPixel * bytesPerSample}`, info)
  }
  const offsets: number[] = []
  for (let s = 0; s < segmentCount; s++) offsets.push(view.getUint32(4 + s * 4, true))
  offsets.push(frame.length)
  const pixelCount = rows * columns
  const raw = new Uint32Array(pixelCount * samplesPerPixel)
  const plane = new Uint8Array(pixelCount)
  for (let s = 0; s < segmentCount; s++) {
    const start = offsets[s] ?? 0
    const end = offsets[s + 1] ?? frame.length
    if (start < 64 || start > end || end > frame.length)
      throw failed(`segment ${s + 1} offsets ${start}..${end} are invalid`, info)
    plane.fill(0)
    const produced = decodePackBits(frame.subarray(start, end), plane)
    if (produced < pixelCount) throw failed(`segment ${s + 1} gives ${produced} of ${pixelCount} bytes`, info)
    // Segments go sample by sample, most significant byte first (G.2).
    const sample = Math.floor(s / bytesPerSample)
    const byteShift = 8 * (bytesPerSample - 1 - (s % bytesPerSample))
    for (let p = 0; p < pixelCount; p++) {
      const index = p * samplesPerPixel + sample
      raw[index] = ((raw[index] ?? 0) + (plane[p] ?? 0) * 2 ** byteShift) >>> 0
    }
  }
  return {
    pixels: normalizeSamples(raw, info, info.highBit + 1 - info.bitsStored),
    rows,
    columns,
    samplesPerPixel,
    photometricInterpretation: info.photometricInterpretation,
  }
}
