// Decoded sample VALUES (before any windowing) against the uncompressed originals: the lossless
// twins shipped as fixtures, and variants made at test time by dcmtk (dcmcrle, dcmcjpeg, dcmcjpls,
// dcmconv) and GDCM (gdcmconv --j2k), so every lossless codec path is checked for exact equality.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeFrame } from './decode-frame.js'
import { extractFrames } from './extract-frames.js'
import type { DecodedFrame } from './pixels.js'
import { TransferSyntax } from './transfer-syntax.js'

const fixtures = join(import.meta.dirname, '../../../../../fixtures/dicom/valid')
const work = mkdtempSync(join(tmpdir(), 'pcmims-decode-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

function fixture(name: string): string {
  return join(fixtures, name)
}

/** Runs a dcmtk/GDCM converter `tool args… input output` and returns the output path. */
function convert(tool: string, args: string[], input: string, name: string): string {
  const output = join(work, name)
  execFileSync(tool, [...args, input, output], { stdio: 'pipe' })
  return output
}

async function decodeAll(path: string): Promise<{ decoded: DecodedFrame[]; transferSyntaxUid: string }> {
  const { imageInfo, frames } = extractFrames(new Uint8Array(readFileSync(path)))
  const decoded: DecodedFrame[] = []
  for (const frame of frames) decoded.push(await decodeFrame(frame, imageInfo))
  return { decoded, transferSyntaxUid: imageInfo.transferSyntaxUid }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let max = 0
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)))
  return max
}

describe('lossless fixtures decode to the values of their uncompressed twin', () => {
  it.each([
    ['MR_small_RLE.dcm', TransferSyntax.RleLossless],
    ['MR_small_jp2klossless.dcm', TransferSyntax.Jpeg2000Lossless],
    ['MR_small_bigendian.dcm', TransferSyntax.ExplicitVRBigEndian],
    ['MR_small_implicit.dcm', TransferSyntax.ImplicitVRLittleEndian],
  ])('%s', async (name, uid) => {
    const reference = await decodeAll(fixture('MR_small.dcm'))
    const twin = await decodeAll(fixture(name))
    expect(twin.transferSyntaxUid).toBe(uid)
    const [a] = reference.decoded
    const [b] = twin.decoded
    expect(b?.pixels).toBeInstanceOf(Int16Array)
    expect(Array.from(b?.pixels ?? [])).toEqual(Array.from(a?.pixels ?? []))
    // Something that can fail: MR_small has negative-free but varied values.
    expect(new Set(a?.pixels).size).toBeGreaterThan(100)
  })
})

describe('codec paths against dcmtk/GDCM-made variants', () => {
  const ct = fixture('CT_small.dcm')
  const rgb = convert('dcmdrle', [], fixture('SC_rgb_rle.dcm'), 'rgb-native.dcm')

  it.each([
    ['RLE', 'dcmcrle', []],
    ['JPEG lossless SV1', 'dcmcjpeg', ['+e1']],
    ['JPEG lossless SV6 (process 14)', 'dcmcjpeg', ['+el', '+sv', '6']],
    ['JPEG-LS lossless', 'dcmcjpls', ['+el']],
    ['JPEG 2000 lossless', 'gdcmconv', ['--j2k']],
    ['explicit big endian', 'dcmconv', ['+tb']],
    ['implicit little endian', 'dcmconv', ['+ti']],
    ['deflated explicit little endian', 'dcmconv', ['+td']],
  ] as const)('signed 16-bit CT as %s', async (label, tool, args) => {
    const reference = await decodeAll(ct)
    const variant = await decodeAll(convert(tool, [...args], ct, `ct-${label.replace(/\W+/g, '-')}.dcm`))
    const [a] = reference.decoded
    const [b] = variant.decoded
    expect(a?.pixels).toBeInstanceOf(Int16Array)
    expect(new Set(a?.pixels).size).toBeGreaterThan(100)
    expect(maxAbsDiff(b?.pixels ?? [], a?.pixels ?? [])).toBe(0)
  })

  it.each([
    ['RLE fixture', undefined, []],
    ['JPEG lossless SV1', 'dcmcjpeg', ['+e1']],
    ['JPEG-LS, not interleaved', 'dcmcjpls', ['+in']],
    ['JPEG-LS, line interleaved', 'dcmcjpls', ['+il']],
    ['JPEG-LS, sample interleaved', 'dcmcjpls', ['+is']],
    ['JPEG 2000 lossless', 'gdcmconv', ['--j2k']],
    ['planar configuration 1', 'gdcmconv', ['--planar-configuration', '1']],
  ] as const)('8-bit RGB as %s', async (label, tool, args) => {
    const reference = await decodeAll(rgb)
    const path = tool
      ? convert(tool, [...args], rgb, `rgb-${label.replace(/\W+/g, '-')}.dcm`)
      : fixture('SC_rgb_rle.dcm')
    const variant = await decodeAll(path)
    const [a] = reference.decoded
    const [b] = variant.decoded
    expect(b?.samplesPerPixel).toBe(3)
    expect(b?.photometricInterpretation).toBe('RGB')
    expect(maxAbsDiff(b?.pixels ?? [], a?.pixels ?? [])).toBe(0)
  })

  it('all 4 frames of the JPEG lossless XA (broken Basic Offset Table) equal dcmdjpeg’s', async () => {
    const source = fixture('XA_angio_jpegll.dcm')
    const ours = await decodeAll(source)
    const reference = await decodeAll(convert('dcmdjpeg', [], source, 'xa-native.dcm'))
    expect(ours.decoded).toHaveLength(4)
    expect(reference.decoded).toHaveLength(4)
    ours.decoded.forEach((frame, i) => {
      expect(maxAbsDiff(frame.pixels, reference.decoded[i]?.pixels ?? [])).toBe(0)
    })
    // The frames really differ from each other (a wrong split would repeat one).
    expect(maxAbsDiff(ours.decoded[0]?.pixels ?? [], ours.decoded[3]?.pixels ?? [])).toBeGreaterThan(0)
  })
})

describe('lossy syntaxes against an independent decoder, in stored-value units', () => {
  it('JPEG-LS near-lossless (NEAR 2) stays within 2 of the original', async () => {
    // dcmcjpls does near-lossless for unsigned samples only: use the RGB fixture.
    const rgb = convert('dcmdrle', [], fixture('SC_rgb_rle.dcm'), 'rgb-for-near.dcm')
    const variant = await decodeAll(convert('dcmcjpls', ['+en'], rgb, 'rgb-jls-near.dcm'))
    expect(variant.transferSyntaxUid).toBe(TransferSyntax.JpegLsNearLossless)
    const reference = await decodeAll(rgb)
    const diff = maxAbsDiff(variant.decoded[0]?.pixels ?? [], reference.decoded[0]?.pixels ?? [])
    expect(diff).toBeGreaterThan(0)
    expect(diff).toBeLessThanOrEqual(2)
  })

  it('12-bit JPEG extended (process 4) is within 1 of IJG libjpeg-12 (dcmdjpeg)', async () => {
    const source = fixture('JPEG-lossy.dcm')
    const ours = await decodeAll(source)
    const reference = await decodeAll(convert('dcmdjpeg', [], source, 'jpeg-lossy-native.dcm'))
    const a = ours.decoded[0]?.pixels ?? []
    const b = reference.decoded[0]?.pixels ?? []
    const diff = maxAbsDiff(a, b)
    let differing = 0
    let max = 0
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) differing++
      max = Math.max(max, a[i] ?? 0)
    }
    console.log(`JPEG-lossy.dcm 12-bit: max |Δ| ${diff}, ${differing}/${a.length} samples differ`)
    expect(max).toBeGreaterThan(255) // really 12-bit values
    expect(diff).toBeLessThanOrEqual(1)
  })

  it('JPEG 2000 lossy equals GDCM’s decode', async () => {
    const source = fixture('JPEG2000.dcm')
    const ours = await decodeAll(source)
    const reference = await decodeAll(convert('gdcmconv', ['--raw'], source, 'j2k-native.dcm'))
    expect(maxAbsDiff(ours.decoded[0]?.pixels ?? [], reference.decoded[0]?.pixels ?? [])).toBe(0)
  })

  it('8-bit JPEG baseline colour equals dcmdjpeg’s RGB', async () => {
    const source = fixture('SC_rgb_jpeg_dcmtk.dcm')
    const ours = await decodeAll(source)
    const reference = await decodeAll(convert('dcmdjpeg', [], source, 'rgb-jpeg-native.dcm'))
    expect(ours.decoded[0]?.photometricInterpretation).toBe('RGB')
    expect(maxAbsDiff(ours.decoded[0]?.pixels ?? [], reference.decoded[0]?.pixels ?? [])).toBeLessThanOrEqual(
      1,
    )
  })
})

describe('errors', () => {
  it('rejects a syntax without a decoder with DICOM_UNSUPPORTED_TRANSFER_SYNTAX', async () => {
    const { imageInfo, frames } = extractFrames(new Uint8Array(readFileSync(fixture('MR_small.dcm'))))
    const frame = frames[0] as Uint8Array
    await expect(
      decodeFrame(frame, { ...imageInfo, transferSyntaxUid: '1.2.840.10008.1.2.4.100' }),
    ).rejects.toMatchObject({
      name: 'DicomDecodeError',
      code: 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX',
    })
  })

  it('rejects a damaged compressed frame with DICOM_DECODE_FAILED', async () => {
    const { imageInfo, frames } = extractFrames(
      new Uint8Array(readFileSync(fixture('MR_small_jp2klossless.dcm'))),
    )
    const frame = (frames[0] as Uint8Array).slice(0, 40)
    await expect(decodeFrame(frame, imageInfo)).rejects.toMatchObject({ code: 'DICOM_DECODE_FAILED' })
    const rle = extractFrames(new Uint8Array(readFileSync(fixture('MR_small_RLE.dcm'))))
    await expect(
      decodeFrame((rle.frames[0] as Uint8Array).slice(0, 200), rle.imageInfo),
    ).rejects.toMatchObject({
      code: 'DICOM_DECODE_FAILED',
    })
  })

  it('honours an aborted signal', async () => {
    const { imageInfo, frames } = extractFrames(new Uint8Array(readFileSync(fixture('MR_small.dcm'))))
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await expect(
      decodeFrame(frames[0] as Uint8Array, imageInfo, { signal: controller.signal }),
    ).rejects.toThrow('stop')
  })
})
