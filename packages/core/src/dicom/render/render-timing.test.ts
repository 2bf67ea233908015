// Decode + render time of one 512×512 frame (or 1024×256: the same pixel count) per transfer syntax. The 16-bit images are CT_small
// scaled to 512×512 by dcmtk's dcmscale and re-encoded by dcmtk/GDCM; the 8-bit ones are
// the 4-frame XA fixture (frame 1 timed). Prints a table; the assertion is only a loose ceiling for a shared CI machine.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeFrame } from './decode-frame.js'
import { extractFrames } from './extract-frames.js'
import { renderFrame } from './render-frame.js'

const fixtures = join(import.meta.dirname, '../../../../../fixtures/dicom/valid')
const work = mkdtempSync(join(tmpdir(), 'pcmims-timing-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

function make(tool: string, args: string[], input: string, name: string): string {
  const output = join(work, name)
  execFileSync(tool, [...args, input, output], { stdio: 'pipe' })
  return output
}

describe('decode + render of a 512×512 frame', () => {
  it('per transfer syntax', async () => {
    const ct512 = make(
      'dcmscale',
      ['+Sxv', '512', '+Syv', '512'],
      join(fixtures, 'CT_small.dcm'),
      'ct512.dcm',
    )
    const xaNative = make('dcmdjpeg', [], join(fixtures, 'XA_angio_jpegll.dcm'), 'xa.dcm')
    const variants: [string, string][] = [
      ['explicit VR little endian, 16-bit', ct512],
      ['implicit VR little endian, 16-bit', make('dcmconv', ['+ti'], ct512, 'ct-ti.dcm')],
      ['explicit VR big endian, 16-bit', make('dcmconv', ['+tb'], ct512, 'ct-tb.dcm')],
      ['RLE lossless, 16-bit', make('dcmcrle', [], ct512, 'ct-rle.dcm')],
      ['JPEG lossless SV1, 16-bit', make('dcmcjpeg', ['+e1'], ct512, 'ct-jll.dcm')],
      ['JPEG-LS lossless, 16-bit', make('dcmcjpls', [], ct512, 'ct-jls.dcm')],
      ['JPEG 2000 lossless, 16-bit', make('gdcmconv', ['--j2k'], ct512, 'ct-j2k.dcm')],
      ['JPEG 2000 lossy, 16-bit (fixture, 1024×256)', join(fixtures, 'JPEG2000.dcm')],
      ['JPEG extended 12-bit (fixture, 1024×256)', join(fixtures, 'JPEG-lossy.dcm')],
      ['JPEG baseline, 8-bit', make('dcmcjpeg', ['+eb'], xaNative, 'xa-jb.dcm')],
      ['JPEG extended 12-bit', make('dcmcjpeg', ['+ee', '+bt'], xaNative, 'xa-je.dcm')],
      ['JPEG lossless SV1, 8-bit (fixture frame 1)', join(fixtures, 'XA_angio_jpegll.dcm')],
      ['explicit VR little endian, 1-bit (SEG fixture)', join(fixtures, 'liver_1frame.dcm')],
    ]
    const lines: string[] = []
    for (const [label, path] of variants) {
      const { imageInfo, frames } = extractFrames(new Uint8Array(readFileSync(path)))
      expect(imageInfo.rows * imageInfo.columns).toBe(512 * 512)
      const frame = frames[0] as Uint8Array
      renderFrame(await decodeFrame(frame, imageInfo), imageInfo) // warm-up: WASM instantiation, JIT
      const times: number[] = []
      for (let i = 0; i < 5; i++) {
        const start = performance.now()
        renderFrame(await decodeFrame(frame, imageInfo), imageInfo)
        times.push(performance.now() - start)
      }
      times.sort((a, b) => a - b)
      const median = times[2] ?? 0
      lines.push(
        `${label.padEnd(48)} ${imageInfo.transferSyntaxUid.padEnd(24)} median ${median.toFixed(1)} ms`,
      )
      expect(median).toBeLessThan(2000)
    }
    console.log(`decode + render, 512×512, frame 1:\n${lines.join('\n')}`)
  })
})
