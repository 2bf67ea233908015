import { DicomDecodeError } from '../errors.js'
import { nativeFrameBits } from '../extract-frames.js'
import type { ImageInfo } from '../image-info.js'
import { type DecodedFrame, normalizeSamples } from '../pixels.js'

/** Reorders colour-by-plane samples (RRR…GGG…BBB…) into colour-by-pixel order. */
export function interleavePlanes<T extends { length: number; [i: number]: number }>(
  planar: T,
  pixelCount: number,
  samplesPerPixel: number,
  create: (length: number) => T,
): T {
  const out = create(planar.length)
  for (let s = 0; s < samplesPerPixel; s++) {
    const base = s * pixelCount
    for (let p = 0; p < pixelCount; p++) out[p * samplesPerPixel + s] = planar[base + p] ?? 0
  }
  return out
}

/**
 * Decodes one native (uncompressed) frame: 1/8/16/32-bit, either byte order, either planar
 * configuration, YBR_FULL_422 upsampled to YBR_FULL.
 */
export function decodeNativeFrame(frame: Uint8Array, info: ImageInfo, littleEndian: boolean): DecodedFrame {
  const frameBits = nativeFrameBits(info)
  if (frame.length * 8 < frameBits) {
    throw new DicomDecodeError('Pixel Data is truncated', {
      code: 'DICOM_PIXEL_DATA_TRUNCATED',
      details: `frame has ${frame.length} bytes, ${Math.ceil(frameBits / 8)} needed`,
      transferSyntaxUid: info.transferSyntaxUid,
    })
  }
  const { rows, columns, bitsAllocated } = info
  const pixelCount = rows * columns
  const is422 = info.photometricInterpretation === 'YBR_FULL_422' && info.samplesPerPixel === 3
  const storedSamples = frameBits / bitsAllocated
  const raw = new Uint32Array(storedSamples)
  if (bitsAllocated === 1) {
    for (let i = 0; i < storedSamples; i++) raw[i] = ((frame[i >> 3] ?? 0) >> (i & 7)) & 1
  } else if (bitsAllocated === 8) {
    raw.set(frame.subarray(0, storedSamples))
  } else {
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
    if (bitsAllocated === 16)
      for (let i = 0; i < storedSamples; i++) raw[i] = view.getUint16(i * 2, littleEndian)
    else for (let i = 0; i < storedSamples; i++) raw[i] = view.getUint32(i * 4, littleEndian)
  }
  const shift = info.highBit + 1 - info.bitsStored
  let samples: Uint32Array = raw
  if (is422) {
    // Y1 Y2 Cb Cr per pair of pixels (PS3.3 C.7.6.3.1.2): repeat the chroma for both pixels.
    samples = new Uint32Array(pixelCount * 3)
    for (let row = 0; row < rows; row++) {
      for (let col = 0; col < columns; col++) {
        const pixel = row * columns + col
        const pairStart = (row * columns + (col & ~1)) * 2
        samples[pixel * 3] = raw[pairStart + (col & 1)] ?? 0
        samples[pixel * 3 + 1] = raw[pairStart + 2] ?? 0
        samples[pixel * 3 + 2] = raw[pairStart + 3] ?? 0
      }
    }
  } else if (info.planarConfiguration === 1 && info.samplesPerPixel > 1) {
    samples = interleavePlanes(raw, pixelCount, info.samplesPerPixel, (n) => new Uint32Array(n))
  }
  return {
    pixels: normalizeSamples(samples, info, shift),
    rows,
    columns,
    samplesPerPixel: info.samplesPerPixel,
    photometricInterpretation: is422 ? 'YBR_FULL' : info.photometricInterpretation,
  }
}
