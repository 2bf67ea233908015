// The in-house sequential DCT decoder against libjpeg-turbo (8-bit) on streams made by dcmtk's IJG
// encoder and by jpegtran (restart markers); 12-bit accuracy is checked in decode-frame.test.ts.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { extractFrames } from '../extract-frames.js'
import { decodeWithLibjpegTurbo } from './codecs.js'
import { decodeJpegDct, readJpegFrameHeader } from './jpeg-dct.js'

const fixtures = join(import.meta.dirname, '../../../../../../fixtures/dicom/valid')
const work = mkdtempSync(join(tmpdir(), 'pcmims-dct-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

function xaBaselineFrame(): Uint8Array {
  const native = join(work, 'xa.dcm')
  const baseline = join(work, 'xa-jb.dcm')
  execFileSync('dcmdjpeg', [join(fixtures, 'XA_angio_jpegll.dcm'), native])
  execFileSync('dcmcjpeg', ['+eb', native, baseline])
  return extractFrames(new Uint8Array(readFileSync(baseline))).frames[0] as Uint8Array
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)))
  return max
}

describe('decodeJpegDct', () => {
  it('decodes an 8-bit baseline stream within 1 level of libjpeg-turbo', async () => {
    const frame = xaBaselineFrame()
    const ours = decodeJpegDct(frame)
    const reference = await decodeWithLibjpegTurbo(frame)
    expect([ours.width, ours.height, ours.precision, ours.componentCount]).toEqual([512, 512, 8, 1])
    expect(maxAbsDiff(ours.samples, reference.bytes)).toBeLessThanOrEqual(1)
  })

  it('follows restart markers (jpegtran -restart 1)', async () => {
    const input = join(work, 'plain.jpg')
    writeFileSync(input, xaBaselineFrame())
    const restarted = new Uint8Array(execFileSync('jpegtran', ['-restart', '1', input]))
    expect(restarted.some((b, i) => b === 0xff && restarted[i + 1] === 0xdd)).toBe(true)
    const ours = decodeJpegDct(restarted)
    const reference = await decodeWithLibjpegTurbo(restarted)
    expect(maxAbsDiff(ours.samples, reference.bytes)).toBeLessThanOrEqual(1)
  })

  it('decodes interleaved colour with its sampling factors (YCbCr out, no conversion)', async () => {
    const rgb = join(work, 'rgb.dcm')
    const ybr = join(work, 'rgb-422.dcm')
    execFileSync('dcmdrle', [join(fixtures, 'SC_rgb_rle.dcm'), rgb])
    execFileSync('dcmcjpeg', ['+eb', '+s2', '+q', '100', rgb, ybr])
    const frame = extractFrames(new Uint8Array(readFileSync(ybr))).frames[0] as Uint8Array
    expect(readJpegFrameHeader(frame)).toMatchObject({
      marker: 0xc0,
      precision: 8,
      width: 100,
      height: 100,
      componentCount: 3,
    })
    const ours = decodeJpegDct(frame)
    // Luma has no subsampling: it must match libjpeg's Y exactly (within IDCT rounding).
    const original = extractFrames(new Uint8Array(readFileSync(rgb))).frames[0] as Uint8Array
    let maxLumaError = 0
    for (let p = 0; p < 100 * 100; p++) {
      const y =
        0.299 * (original[p * 3] ?? 0) +
        0.587 * (original[p * 3 + 1] ?? 0) +
        0.114 * (original[p * 3 + 2] ?? 0)
      maxLumaError = Math.max(maxLumaError, Math.abs((ours.samples[p * 3] ?? 0) - y))
    }
    expect(maxLumaError).toBeLessThan(8)
  })

  it('refuses progressive JPEG with DICOM_UNSUPPORTED_TRANSFER_SYNTAX', () => {
    const native = join(work, 'xa2.dcm')
    const progressive = join(work, 'xa-progressive.dcm')
    execFileSync('dcmdjpeg', [join(fixtures, 'XA_angio_jpegll.dcm'), native])
    execFileSync('dcmcjpeg', ['+ep', native, progressive])
    const bytes = new Uint8Array(readFileSync(progressive))
    // The progressive transfer syntax (retired 1.2.840.10008.1.2.4.55) has no decoder at all...
    expect(() => extractFrames(bytes)).toThrow(
      expect.objectContaining({ code: 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX' }),
    )
    // ...and the DCT decoder names the process if handed such a stream.
    const start = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xd8 && bytes[i + 2] === 0xff)
    expect(() => decodeJpegDct(bytes.subarray(start))).toThrow(
      expect.objectContaining({ code: 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX' }),
    )
  })

  it('fails cleanly on garbage', () => {
    expect(() => decodeJpegDct(new Uint8Array([1, 2, 3]))).toThrow(
      expect.objectContaining({ code: 'DICOM_DECODE_FAILED' }),
    )
    expect(() => decodeJpegDct(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]))).toThrow(
      expect.objectContaining({ code: 'DICOM_DECODE_FAILED' }),
    )
  })
})
