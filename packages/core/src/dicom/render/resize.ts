import type { RenderedImage } from './rendered-image.js'

/** The largest size with the image's aspect ratio that fits in `box` (at least 1×1). */
export function fitInside(
  width: number,
  height: number,
  box: { width: number; height: number },
): { width: number; height: number } {
  const scale = Math.min(box.width / width, box.height / height)
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) }
}

// For each output index, the source indices it covers and the share of each (area weights).
function coverage(
  sourceLength: number,
  targetLength: number,
): { start: Int32Array; weights: Float64Array[] } {
  const scale = sourceLength / targetLength
  const start = new Int32Array(targetLength)
  const weights: Float64Array[] = []
  for (let i = 0; i < targetLength; i++) {
    const from = i * scale
    const to = Math.min(sourceLength, (i + 1) * scale)
    const first = Math.floor(from)
    const last = Math.min(sourceLength - 1, Math.ceil(to) - 1)
    const w = new Float64Array(last - first + 1)
    for (let s = first; s <= last; s++) w[s - first] = (Math.min(to, s + 1) - Math.max(from, s)) / (to - from)
    start[i] = first
    weights.push(w)
  }
  return { start, weights }
}

/**
 * Resamples by area averaging: each output pixel is the mean of the source area it covers, so
 * downscaling does not alias (and upscaling repeats pixels).
 */
export function resizeImage(image: RenderedImage, size: { width: number; height: number }): RenderedImage {
  const { width, height, channels, data } = image
  const targetWidth = Math.max(1, Math.round(size.width))
  const targetHeight = Math.max(1, Math.round(size.height))
  if (targetWidth === width && targetHeight === height) return image
  const horizontal = coverage(width, targetWidth)
  const vertical = coverage(height, targetHeight)
  // Horizontal pass into floats, then vertical pass with rounding.
  const mid = new Float64Array(targetWidth * height * channels)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < targetWidth; x++) {
      const first = horizontal.start[x] ?? 0
      const w = horizontal.weights[x] as Float64Array
      for (let c = 0; c < channels; c++) {
        let sum = 0
        for (let k = 0; k < w.length; k++)
          sum += (w[k] ?? 0) * (data[(y * width + first + k) * channels + c] ?? 0)
        mid[(y * targetWidth + x) * channels + c] = sum
      }
    }
  }
  const out = new Uint8Array(targetWidth * targetHeight * channels)
  for (let y = 0; y < targetHeight; y++) {
    const first = vertical.start[y] ?? 0
    const w = vertical.weights[y] as Float64Array
    for (let x = 0; x < targetWidth; x++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0
        for (let k = 0; k < w.length; k++)
          sum += (w[k] ?? 0) * (mid[((first + k) * targetWidth + x) * channels + c] ?? 0)
        out[(y * targetWidth + x) * channels + c] = Math.min(255, Math.max(0, Math.round(sum)))
      }
    }
  }
  return { width: targetWidth, height: targetHeight, channels, data: out }
}

/** Downscales (never upscales) so the longer side is at most `maxSize`, by area averaging. */
export function thumbnail(image: RenderedImage, maxSize: number): RenderedImage {
  if (!Number.isFinite(maxSize) || maxSize < 1) throw new RangeError('maxSize must be at least 1')
  if (image.width <= maxSize && image.height <= maxSize) return image
  return resizeImage(image, fitInside(image.width, image.height, { width: maxSize, height: maxSize }))
}
