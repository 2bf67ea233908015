import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decode as decodePng } from 'fast-png'
import jpeg from 'jpeg-js'
import { describe, expect, it } from 'vitest'
import { decodeFrame } from './decode-frame.js'
import { encodeJpeg, encodePng } from './encode.js'
import { extractFrames } from './extract-frames.js'
import { decodedFrameBytes } from './frame-bytes.js'
import { renderDicom } from './render-dicom.js'
import type { RenderedImage } from './rendered-image.js'
import { resizeImage, thumbnail } from './resize.js'

const fixtures = join(import.meta.dirname, '../../../../../fixtures/dicom/valid')
const read = (name: string) => new Uint8Array(readFileSync(join(fixtures, name)))

describe('thumbnail and resizeImage', () => {
  it('averages areas when downscaling', () => {
    const image: RenderedImage = {
      width: 4,
      height: 2,
      channels: 1,
      data: new Uint8Array([0, 100, 200, 200, 100, 200, 0, 0]),
    }
    const half = resizeImage(image, { width: 2, height: 1 })
    expect(Array.from(half.data)).toEqual([100, 100])
    const third = resizeImage(
      { width: 3, height: 1, channels: 1, data: new Uint8Array([0, 90, 180]) },
      { width: 2, height: 1 },
    )
    // Output pixel 0 covers source 0..1.5: (0·1 + 90·0.5) / 1.5 = 30.
    expect(Array.from(third.data)).toEqual([30, 150])
  })

  it('keeps the aspect ratio and never upscales', () => {
    const image: RenderedImage = {
      width: 1024,
      height: 256,
      channels: 3,
      data: new Uint8Array(1024 * 256 * 3).fill(7),
    }
    const small = thumbnail(image, 128)
    expect([small.width, small.height, small.channels]).toEqual([128, 32, 3])
    expect(small.data.every((v) => v === 7)).toBe(true)
    expect(thumbnail(small, 500)).toBe(small)
  })
})

describe('encodePng / encodeJpeg', () => {
  it('PNG round-trips grey and RGB exactly', async () => {
    for (const name of ['MR_small.dcm', 'SC_rgb_rle.dcm']) {
      const image = await renderDicom(read(name))
      const png = encodePng(image)
      expect(Array.from(png.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]) // "PNG"
      const back = decodePng(png)
      expect([back.width, back.height, back.channels]).toEqual([image.width, image.height, image.channels])
      expect(Array.from(back.data)).toEqual(Array.from(image.data))
    }
  })

  it('JPEG decodes back close to the image', async () => {
    const image = await renderDicom(read('CT_small.dcm'))
    const bytes = encodeJpeg(image, 95)
    expect(bytes).toBeInstanceOf(Uint8Array)
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8])
    const back = jpeg.decode(bytes, { useTArray: true })
    let sum = 0
    for (let p = 0; p < image.width * image.height; p++)
      sum += Math.abs((back.data[p * 4] ?? 0) - (image.data[p] ?? 0))
    expect(sum / (image.width * image.height)).toBeLessThan(3)
  })
})

describe('renderDicom', () => {
  it('renders a chosen frame and checks its number', async () => {
    const xa = read('XA_angio_jpegll.dcm')
    const first = await renderDicom(xa, { frame: 1 })
    const last = await renderDicom(xa, { frame: 4, size: 64 })
    expect([last.width, last.height]).toEqual([64, 64])
    expect(first.data.length).toBe(512 * 512)
    await expect(renderDicom(xa, { frame: 5 })).rejects.toMatchObject({ code: 'DICOM_FRAME_OUT_OF_RANGE' })
  })
})

describe('decodedFrameBytes', () => {
  it('gives back the native bytes of an uncompressed frame', async () => {
    for (const name of ['MR_small.dcm', 'liver_1frame.dcm', 'SC_rgb_rle.dcm']) {
      const { imageInfo, frames } = extractFrames(read(name))
      const decoded = await decodeFrame(frames[0] as Uint8Array, imageInfo)
      const native = name === 'SC_rgb_rle.dcm' ? undefined : (frames[0] as Uint8Array)
      const bytes = decodedFrameBytes(decoded, imageInfo.bitsAllocated)
      if (native) expect(Array.from(bytes)).toEqual(Array.from(native))
      else expect(bytes.length).toBe(100 * 100 * 3)
    }
  })
})
