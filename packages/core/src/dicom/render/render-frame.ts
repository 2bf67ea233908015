import { DicomDecodeError } from './errors.js'
import type { ImageInfo, VoiWindow } from './image-info.js'
import type { DecodedFrame, PixelArray } from './pixels.js'
import type { RenderedImage } from './rendered-image.js'
import { fitInside, resizeImage } from './resize.js'

export type RenderFrameOptions = {
  /** VOI window centre; with `windowWidth` it overrides the dataset's window. */
  windowCenter?: number | undefined
  windowWidth?: number | undefined
  /** VOI LUT function for the window; defaults to the dataset's (0028,1056), else LINEAR. */
  voiLutFunction?: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' | undefined
  /** Inverts the grey output (on top of MONOCHROME1's own inversion). */
  invert?: boolean | undefined
  /** Scales the result to fit inside this box (a number is a square), keeping the aspect ratio. */
  size?: number | { width: number; height: number } | undefined
}

export type RenderFrameReturnType = RenderedImage & {
  /** The VOI window applied to a grey image (after the modality LUT), undefined for colour. */
  window?: VoiWindow | undefined
}

function minMax(pixels: PixelArray): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i] ?? 0
    if (v < min) min = v
    if (v > max) max = v
  }
  return { min, max }
}

/**
 * The VOI LUT functions of PS3.3 C.11.2.1.2 mapping a modality value to 0..255 (not yet rounded).
 * LINEAR is the standard's default: the window is [c − 0.5 − (w−1)/2, c − 0.5 + (w−1)/2].
 */
export function voiFunction(
  window: VoiWindow,
  fn: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID',
): (x: number) => number {
  const { center: c, width: w } = window
  if (fn === 'SIGMOID') return (x) => 255 / (1 + Math.exp((-4 * (x - c)) / w))
  if (fn === 'LINEAR_EXACT') {
    return (x) => (x <= c - w / 2 ? 0 : x > c + w / 2 ? 255 : ((x - c) / w + 0.5) * 255)
  }
  const width = Math.max(1, w)
  const lower = c - 0.5 - (width - 1) / 2
  const upper = c - 0.5 + (width - 1) / 2
  return (x) => (x <= lower ? 0 : x > upper ? 255 : ((x - (c - 0.5)) / (width - 1) + 0.5) * 255)
}

function renderGrey(
  decoded: DecodedFrame,
  info: ImageInfo,
  options: RenderFrameOptions,
): { data: Uint8Array; window: VoiWindow } {
  const { pixels } = decoded
  const slope = info.rescaleSlope
  const intercept = info.rescaleIntercept
  const range = minMax(pixels)
  let window: VoiWindow | undefined
  if (options.windowCenter !== undefined && options.windowWidth !== undefined) {
    window = { center: options.windowCenter, width: options.windowWidth }
  } else {
    window = info.windows[0]
  }
  if (!window) {
    // No window anywhere: span the frame's modality values (dcmtk's min-max window).
    const a = range.min * slope + intercept
    const b = range.max * slope + intercept
    const low = Math.min(a, b)
    const high = Math.max(a, b)
    window = { center: (low + high) / 2 + 0.5, width: high - low + 1 }
  }
  const fn = options.voiLutFunction ?? info.voiLutFunction
  const voi = voiFunction(window, fn)
  const inverted = (info.photometricInterpretation === 'MONOCHROME1') !== (options.invert === true)
  const map = (raw: number) => {
    const y = voi(raw * slope + intercept)
    // Invert before truncating, and truncate as dcmtk does; the epsilon keeps exact integers (an
    // identity window) whole.
    return Math.min(255, Math.floor((inverted ? 255 - y : y) + 1e-7))
  }
  const out = new Uint8Array(pixels.length)
  const span = range.max - range.min
  if (span <= 1 << 20) {
    // One evaluation per distinct stored value, then a table lookup per pixel.
    const lut = new Uint8Array(span + 1)
    for (let v = 0; v <= span; v++) lut[v] = map(range.min + v)
    const base = range.min
    for (let i = 0; i < pixels.length; i++) out[i] = lut[(pixels[i] ?? 0) - base] ?? 0
  } else {
    for (let i = 0; i < pixels.length; i++) out[i] = map(pixels[i] ?? 0)
  }
  return { data: out, window }
}

const clamp8 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v))

function renderColour(decoded: DecodedFrame, info: ImageInfo): Uint8Array {
  const { pixels, rows, columns } = decoded
  const count = rows * columns
  const out = new Uint8Array(count * 3)
  const photometric = decoded.photometricInterpretation
  if (photometric === 'PALETTE COLOR') {
    const palette = info.palette
    if (!palette) {
      throw new DicomDecodeError('Cannot render PALETTE COLOR', {
        code: 'DICOM_UNSUPPORTED_IMAGE',
        details: 'the palette lookup tables are missing or segmented',
      })
    }
    const last = palette.red.length - 1
    for (let p = 0; p < count; p++) {
      const index = Math.min(last, Math.max(0, (pixels[p] ?? 0) - palette.firstMapped))
      out[p * 3] = palette.red[index] ?? 0
      out[p * 3 + 1] = palette.green[Math.min(index, palette.green.length - 1)] ?? 0
      out[p * 3 + 2] = palette.blue[Math.min(index, palette.blue.length - 1)] ?? 0
    }
    return out
  }
  // Bring samples of more than 8 bits down to 8 before any colour transform.
  const bits = Math.max(8, info.bitsStored)
  const scale = bits > 8 ? 255 / (2 ** bits - 1) : 1
  const s = (i: number) => (pixels[i] ?? 0) * scale
  if (photometric === 'YBR_FULL' || photometric === 'YBR_FULL_422') {
    for (let p = 0; p < count; p++) {
      const y = s(p * 3)
      const cb = s(p * 3 + 1) - 128
      const cr = s(p * 3 + 2) - 128
      out[p * 3] = clamp8(y + 1.402 * cr)
      out[p * 3 + 1] = clamp8(y - 0.344136 * cb - 0.714136 * cr)
      out[p * 3 + 2] = clamp8(y + 1.772 * cb)
    }
    return out
  }
  if (photometric === 'YBR_PARTIAL_422' || photometric === 'YBR_PARTIAL_420') {
    for (let p = 0; p < count; p++) {
      const y = 1.1644 * (s(p * 3) - 16)
      const cb = s(p * 3 + 1) - 128
      const cr = s(p * 3 + 2) - 128
      out[p * 3] = clamp8(y + 1.596 * cr)
      out[p * 3 + 1] = clamp8(y - 0.3917 * cb - 0.813 * cr)
      out[p * 3 + 2] = clamp8(y + 2.0173 * cb)
    }
    return out
  }
  // RGB, and YBR_ICT/YBR_RCT whose transform the JPEG 2000 decoder already undid.
  for (let i = 0; i < count * 3; i++) out[i] = clamp8(s(i))
  return out
}

/**
 * Renders a decoded frame to 8 bits: for grey images the modality LUT (rescale slope/intercept),
 * the VOI window (options, else the dataset's first window, else the frame's min/max) through the
 * VOI LUT function, and MONOCHROME1 inversion; colour images are converted to RGB (YBR_FULL,
 * YBR_FULL_422, YBR_PARTIAL, PALETTE COLOR).
 *
 * @throws DicomDecodeError `DICOM_UNSUPPORTED_IMAGE` for a photometric interpretation it cannot show.
 */
export function renderFrame(
  decoded: DecodedFrame,
  imageInfo: ImageInfo,
  options: RenderFrameOptions = {},
): RenderFrameReturnType {
  const { rows, columns } = decoded
  const photometric = decoded.photometricInterpretation
  let image: RenderFrameReturnType
  if (photometric === 'PALETTE COLOR' || decoded.samplesPerPixel === 3) {
    if (decoded.samplesPerPixel !== 3 && photometric !== 'PALETTE COLOR') {
      throw new DicomDecodeError('Cannot render this image', {
        code: 'DICOM_UNSUPPORTED_IMAGE',
        details: `${photometric} with ${decoded.samplesPerPixel} samples per pixel`,
      })
    }
    image = { width: columns, height: rows, channels: 3, data: renderColour(decoded, imageInfo) }
  } else if (decoded.samplesPerPixel === 1) {
    const grey = renderGrey(decoded, imageInfo, options)
    image = { width: columns, height: rows, channels: 1, data: grey.data, window: grey.window }
  } else {
    throw new DicomDecodeError('Cannot render this image', {
      code: 'DICOM_UNSUPPORTED_IMAGE',
      details: `${photometric} with ${decoded.samplesPerPixel} samples per pixel`,
    })
  }
  if (options.size !== undefined) {
    const box =
      typeof options.size === 'number' ? { width: options.size, height: options.size } : options.size
    const resized = resizeImage(image, fitInside(image.width, image.height, box))
    image = { ...resized, window: image.window }
  }
  return image
}
