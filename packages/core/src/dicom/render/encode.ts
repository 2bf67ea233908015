import { encode as encodePngData } from 'fast-png'
import jpeg from 'jpeg-js'
import type { RenderedImage } from './rendered-image.js'

/** Encodes an 8-bit grey or RGB image as PNG (fast-png, pure JS). */
export function encodePng(image: RenderedImage): Uint8Array {
  return encodePngData({
    width: image.width,
    height: image.height,
    data: image.data,
    channels: image.channels,
    depth: 8,
  })
}

/** Encodes an image as baseline JPEG (jpeg-js, pure JS); `quality` 1–100. */
export function encodeJpeg(image: RenderedImage, quality = 90): Uint8Array {
  const { width, height, channels, data } = image
  // jpeg-js takes RGBA.
  const rgba = new Uint8Array(width * height * 4)
  for (let p = 0, q = 0; p < width * height; p++, q += 4) {
    if (channels === 1) {
      const v = data[p] ?? 0
      rgba[q] = v
      rgba[q + 1] = v
      rgba[q + 2] = v
    } else {
      rgba[q] = data[p * 3] ?? 0
      rgba[q + 1] = data[p * 3 + 1] ?? 0
      rgba[q + 2] = data[p * 3 + 2] ?? 0
    }
    rgba[q + 3] = 255
  }
  const encoded = jpeg.encode(
    { width, height, data: rgba },
    Math.min(100, Math.max(1, Math.round(quality))),
  ).data
  // Node gets a Buffer; hand out a plain Uint8Array view either way.
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength)
}
