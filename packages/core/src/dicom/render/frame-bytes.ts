import type { DecodedFrame } from './pixels.js'

/**
 * The decoded frame as uncompressed Pixel Data bytes (Explicit VR Little Endian layout, colour by
 * pixel), e.g. for a WADO-RS frame request answered uncompressed. 1-bit frames are packed again.
 * Note `decoded.photometricInterpretation` may differ from the stored one (see {@link DecodedFrame}).
 */
export function decodedFrameBytes(decoded: DecodedFrame, bitsAllocated: number): Uint8Array {
  const { pixels } = decoded
  if (bitsAllocated === 1) {
    const out = new Uint8Array(Math.ceil(pixels.length / 8))
    for (let i = 0; i < pixels.length; i++) if (pixels[i]) out[i >> 3] = (out[i >> 3] ?? 0) | (1 << (i & 7))
    return out
  }
  const bytesPerSample = bitsAllocated / 8
  const out = new Uint8Array(pixels.length * bytesPerSample)
  const view = new DataView(out.buffer)
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i] ?? 0
    if (bytesPerSample === 1) view.setUint8(i, v & 0xff)
    else if (bytesPerSample === 2) view.setUint16(i * 2, v & 0xffff, true)
    else view.setUint32(i * 4, v >>> 0, true)
  }
  return out
}
