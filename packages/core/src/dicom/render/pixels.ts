import type { ImageInfo } from './image-info.js'

/** Decoded sample values, one element per sample. */
export type PixelArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array

/** A decoded frame: sample values interleaved by pixel (R,G,B,R,G,B… for colour). */
export type DecodedFrame = {
  pixels: PixelArray
  rows: number
  columns: number
  samplesPerPixel: number
  /**
   * Colour space of `pixels`. Usually the dataset's, but JPEG codecs return RGB for YCbCr streams,
   * JPEG 2000 undoes its component transform (YBR_ICT/YBR_RCT → RGB) and native YBR_FULL_422 is
   * upsampled to YBR_FULL.
   */
  photometricInterpretation: string
}

/** An empty typed array sized and signed for the image's samples. */
export function createPixelArray(
  info: Pick<ImageInfo, 'bitsAllocated' | 'pixelRepresentation'>,
  length: number,
): PixelArray {
  const signed = info.pixelRepresentation === 1
  if (info.bitsAllocated <= 8) return signed ? new Int8Array(length) : new Uint8Array(length)
  if (info.bitsAllocated <= 16) return signed ? new Int16Array(length) : new Uint16Array(length)
  return signed ? new Int32Array(length) : new Uint32Array(length)
}

/**
 * Keeps the BitsStored bits that end at HighBit (`shift` = HighBit + 1 − BitsStored) of each raw
 * sample and sign-extends them when PixelRepresentation is 1, so bits above HighBit (overlays,
 * garbage) never reach the values.
 */
export function storeSamples(
  target: PixelArray,
  index: number,
  raw: number,
  bitsStored: number,
  shift: number,
  signed: boolean,
): void {
  let value = bitsStored >= 32 ? raw >>> shift : (raw >>> shift) & ((2 ** bitsStored - 1) >>> 0)
  if (signed && bitsStored < 32 && value >= 2 ** (bitsStored - 1)) value -= 2 ** bitsStored
  else if (signed && bitsStored >= 32) value |= 0
  target[index] = value
}

/** Copies raw unsigned sample patterns into a correctly typed array, masking and sign-extending. */
export function normalizeSamples(
  raw: ArrayLike<number>,
  info: Pick<ImageInfo, 'bitsAllocated' | 'bitsStored' | 'pixelRepresentation'>,
  shift = 0,
): PixelArray {
  const out = createPixelArray(info, raw.length)
  const signed = info.pixelRepresentation === 1
  const { bitsStored } = info
  if (bitsStored >= 32) {
    for (let i = 0; i < raw.length; i++) storeSamples(out, i, raw[i] ?? 0, bitsStored, shift, signed)
    return out
  }
  const mask = 2 ** bitsStored - 1
  const half = 2 ** (bitsStored - 1)
  const full = 2 ** bitsStored
  for (let i = 0; i < raw.length; i++) {
    const value = ((raw[i] ?? 0) >>> shift) & mask
    out[i] = signed && value >= half ? value - full : value
  }
  return out
}
