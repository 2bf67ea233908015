// Renders frame 1 of every valid fixture with pixels and compares it with an independent decoder:
// dcmtk's dcmj2pnm (IJG libjpeg 8/12/16-bit, its own RLE), and for JPEG 2000, which dcmtk cannot
// read, GDCM's gdcmconv --raw (Debian's libopenjp2 build) followed by dcmj2pnm.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeFrame } from './decode-frame.js'
import { extractFrames } from './extract-frames.js'
import { type RenderFrameOptions, renderFrame } from './render-frame.js'
import { TransferSyntax } from './transfer-syntax.js'

const fixtures = join(import.meta.dirname, '../../../../../fixtures/dicom/valid')
const work = mkdtempSync(join(tmpdir(), 'pcmims-render-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

function parsePnm(bytes: Uint8Array): { width: number; height: number; channels: 1 | 3; data: Uint8Array } {
  let position = 0
  const tokens: string[] = []
  while (tokens.length < 4) {
    while (position < bytes.length && /\s/.test(String.fromCharCode(bytes[position] ?? 0))) position++
    if (bytes[position] === 0x23) {
      while (position < bytes.length && bytes[position] !== 0x0a) position++
      continue
    }
    let token = ''
    while (position < bytes.length && !/\s/.test(String.fromCharCode(bytes[position] ?? 0))) {
      token += String.fromCharCode(bytes[position] ?? 0)
      position++
    }
    tokens.push(token)
  }
  position++ // the single whitespace after maxval
  const [magic, w, h, max] = tokens
  if ((magic !== 'P5' && magic !== 'P6') || max !== '255')
    throw new Error(`unexpected PNM header ${tokens.join(' ')}`)
  const width = Number(w)
  const height = Number(h)
  const channels = magic === 'P5' ? 1 : 3
  return { width, height, channels, data: bytes.subarray(position, position + width * height * channels) }
}

/** `dataset`: the file's first window (+Wi 1); `minmax`: dcmtk's min-max window (+Wm). */
type WindowChoice = 'dataset' | 'minmax' | { center: number; width: number } | undefined

function referenceRender(
  path: string,
  window: WindowChoice,
  extra: string[] = [],
): ReturnType<typeof parsePnm> {
  let input = path
  const file = path.split('/').pop() ?? 'image'
  const ts = execFileSync('dcmdump', ['-q', '+P', '0002,0010', input]).toString()
  if (ts.includes('JPEG2000')) {
    const raw = join(work, `${file}.raw.dcm`)
    execFileSync('gdcmconv', ['--raw', input, raw])
    input = raw
  }
  const out = join(work, `${file}.pnm`)
  const args = ['+F', '1', '+op', '+cp']
  if (window === 'dataset') args.push('+Wi', '1')
  else if (window === 'minmax') args.push('+Wm')
  else if (window) args.push('+Ww', String(window.center), String(window.width))
  execFileSync('dcmj2pnm', [...args, ...extra, input, out], { stdio: 'pipe' })
  return parsePnm(new Uint8Array(readFileSync(out)))
}

type Case = { file: string; maxDiff: number; minPsnr?: number }
// Tolerances, in 8-bit output levels. Lossless and uncompressed: 0 — the same stored values through
// the same VOI LUT (this module truncates as dcmtk does). Lossy: ≤ 2 levels and PSNR ≥ 50 dB, since
// decoders may differ in IDCT rounding and chroma upsampling (measured: 0 for JPEG baseline and
// JPEG 2000, max 1 on 0.6 % of the samples for 12-bit JPEG).
const cases: Case[] = [
  { file: 'CT_small.dcm', maxDiff: 0 },
  { file: 'MR_small.dcm', maxDiff: 0 },
  { file: 'MR_small_implicit.dcm', maxDiff: 0 },
  { file: 'MR_small_bigendian.dcm', maxDiff: 0 },
  { file: 'MR_small_RLE.dcm', maxDiff: 0 },
  { file: 'MR_small_jp2klossless.dcm', maxDiff: 0 },
  { file: 'SC_rgb_rle.dcm', maxDiff: 0 },
  { file: 'XA_angio_jpegll.dcm', maxDiff: 0 },
  { file: 'liver_1frame.dcm', maxDiff: 0 },
  { file: 'SC_rgb_jpeg_dcmtk.dcm', maxDiff: 2, minPsnr: 50 },
  { file: 'JPEG-lossy.dcm', maxDiff: 2, minPsnr: 50 },
  { file: 'JPEG2000.dcm', maxDiff: 2, minPsnr: 50 },
]

function compare(a: Uint8Array, b: Uint8Array): { maxDiff: number; psnr: number; differing: number } {
  let maxDiff = 0
  let sum = 0
  let differing = 0
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] ?? 0) - (b[i] ?? 0))
    if (d > maxDiff) maxDiff = d
    if (d > 0) differing++
    sum += d * d
  }
  const mse = sum / a.length
  return {
    maxDiff,
    psnr: mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse),
    differing,
  }
}

async function renderAndCompare(
  path: string,
  options: RenderFrameOptions = {},
  window?: WindowChoice,
  extra: string[] = [],
): Promise<{ maxDiff: number; psnr: number; differing: number }> {
  const bytes = new Uint8Array(readFileSync(path))
  const { imageInfo, frames } = extractFrames(bytes)
  const frame = frames[0]
  if (!frame) throw new Error('no frame')
  const decoded = await decodeFrame(frame, imageInfo)
  const ours = renderFrame(decoded, imageInfo, options)
  const isGrey = ours.channels === 1
  // Defaults on both sides: the dataset's first window, else the frame's min/max.
  const choice = window ?? (isGrey ? (imageInfo.windows.length > 0 ? 'dataset' : 'minmax') : undefined)
  const reference = referenceRender(path, choice, extra)
  expect([reference.width, reference.height, reference.channels]).toEqual([
    ours.width,
    ours.height,
    ours.channels,
  ])
  const result = compare(ours.data, reference.data)
  const name = path.split('/').pop()
  console.log(
    `${name}: ${imageInfo.transferSyntaxUid} ${imageInfo.photometricInterpretation} window ${JSON.stringify(ours.window)}: max |Δ| ${result.maxDiff}, ${result.differing}/${ours.data.length} samples differ, PSNR ${result.psnr.toFixed(1)} dB`,
  )
  return result
}

describe('rendered frame 1 against dcmtk / GDCM', () => {
  it.each(cases)('$file', async ({ file, maxDiff, minPsnr }) => {
    const result = await renderAndCompare(join(fixtures, file))
    expect(result.maxDiff).toBeLessThanOrEqual(maxDiff)
    if (minPsnr !== undefined) expect(result.psnr).toBeGreaterThanOrEqual(minPsnr)
  })

  it('an explicit window with inversion matches dcmj2pnm +Ww +P', async () => {
    const result = await renderAndCompare(
      join(fixtures, 'CT_small.dcm'),
      { windowCenter: 40, windowWidth: 400, invert: true },
      { center: 40, width: 400 },
      ['+P'],
    )
    expect(result.maxDiff).toBe(0)
  })

  it('the SIGMOID VOI LUT function matches dcmj2pnm +Wfs within 1 level', async () => {
    const result = await renderAndCompare(
      join(fixtures, 'MR_small.dcm'),
      { voiLutFunction: 'SIGMOID' },
      'dataset',
      ['+Wfs'],
    )
    expect(result.maxDiff).toBeLessThanOrEqual(1)
  })

  describe('photometric interpretations made by dcmtk', () => {
    const make = (tool: string, args: string[], input: string, name: string) => {
      const output = join(work, name)
      execFileSync(tool, [...args, input, output], { stdio: 'pipe' })
      return output
    }
    const rgbNative = () => make('dcmdrle', [], join(fixtures, 'SC_rgb_rle.dcm'), 'rgb-native.dcm')

    it('MONOCHROME1 is shown inverted, as dcmtk does', async () => {
      const copy = make('dcmconv', [], join(fixtures, 'MR_small.dcm'), 'mono1.dcm')
      execFileSync('dcmodify', ['-nb', '-m', '(0028,0004)=MONOCHROME1', copy], { stdio: 'pipe' })
      const normal = await renderAndCompare(join(fixtures, 'MR_small.dcm'))
      const inverted = await renderAndCompare(copy)
      expect(normal.maxDiff).toBe(0)
      expect(inverted.maxDiff).toBe(0)
    })

    it('PALETTE COLOR (dcmquant)', async () => {
      const path = make('dcmquant', ['+pc', '64'], rgbNative(), 'palette.dcm')
      expect(execFileSync('dcmdump', ['-q', '+P', '0028,0004', path]).toString()).toContain('PALETTE COLOR')
      expect((await renderAndCompare(path)).maxDiff).toBe(0)
    })

    // dcmtk's YCbCr → RGB centres chroma at 127.5 and truncates; this module uses PS3.3's 128 and
    // rounds, so up to 2 levels apart.
    it('native YBR_FULL (dcmdjpeg +cn)', async () => {
      const path = make('dcmdjpeg', ['+cn'], join(fixtures, 'SC_rgb_jpeg_dcmtk.dcm'), 'ybr-full.dcm')
      expect(execFileSync('dcmdump', ['-q', '+P', '0028,0004', path]).toString()).toContain('YBR_FULL')
      expect((await renderAndCompare(path)).maxDiff).toBeLessThanOrEqual(2)
    })

    it('JPEG baseline YBR_FULL_422 (4:2:2 chroma subsampling)', async () => {
      const path = make('dcmcjpeg', ['+eb', '+s2'], rgbNative(), 'ybr422.dcm')
      const result = await renderAndCompare(path)
      expect(result.maxDiff).toBeLessThanOrEqual(2)
      expect(result.psnr).toBeGreaterThanOrEqual(50)
    })

    it('12-bit JPEG extended made by IJG from the XA frames', async () => {
      const native = make('dcmdjpeg', [], join(fixtures, 'XA_angio_jpegll.dcm'), 'xa-native.dcm')
      const path = make('dcmcjpeg', ['+ee', '+bt'], native, 'xa-12bit.dcm')
      const result = await renderAndCompare(path)
      expect(result.maxDiff).toBeLessThanOrEqual(2)
      expect(result.psnr).toBeGreaterThanOrEqual(50)
    })
  })

  it('knows the transfer syntax of every case', () => {
    const seen = new Set(
      cases.map(
        (c) =>
          extractFrames(new Uint8Array(readFileSync(join(fixtures, c.file)))).imageInfo.transferSyntaxUid,
      ),
    )
    for (const uid of [
      TransferSyntax.ImplicitVRLittleEndian,
      TransferSyntax.ExplicitVRLittleEndian,
      TransferSyntax.ExplicitVRBigEndian,
      TransferSyntax.RleLossless,
      TransferSyntax.JpegBaseline,
      TransferSyntax.JpegExtended,
      TransferSyntax.JpegLosslessSv1,
      TransferSyntax.Jpeg2000Lossless,
      TransferSyntax.Jpeg2000,
    ]) {
      expect(seen.has(uid)).toBe(true)
    }
  })
})
