import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DicomParseError } from '../errors.js'
import { extractInstanceMetadata } from '../metadata/extract-instance-metadata.js'
import { parseDicomFile } from './parse-dicom-file.js'
import { zeroPreamble } from './zero-preamble.js'

const run = promisify(execFile)
const FIXTURES = new URL('../../../../../fixtures/dicom/', import.meta.url)
const fixture = (path: string) => readFile(new URL(path, FIXTURES)).then((b) => new Uint8Array(b))

let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pcmims-dicom-parse-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

/** Offset of the dataset in a Part 10 file: after the preamble, `DICM` and the meta group (group length known). */
function datasetOffset(bytes: Uint8Array) {
  return 132 + 12 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(140, true)
}

function parseError(fn: () => unknown): DicomParseError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(DicomParseError)
    return error as DicomParseError
  }
  throw new Error('expected a DicomParseError')
}

describe('valid fixtures', async () => {
  const names = (await readdir(new URL('valid/', FIXTURES))).filter((n) => n.endsWith('.dcm')).sort()

  test('there are fixtures', () => {
    expect(names.length).toBeGreaterThanOrEqual(13)
  })

  test.each(names)('%s parses with the transfer syntax and SOP UIDs dcmdump reports', async (name) => {
    const bytes = await fixture(`valid/${name}`)
    const before = bytes.slice()
    const parsed = parseDicomFile(bytes, { fileName: name })
    expect(bytes).toEqual(before)
    const { stdout } = await run('dcmdump', [
      '-Un',
      '+P',
      '0002,0010',
      '+P',
      '0008,0016',
      '+P',
      '0008,0018',
      new URL(`valid/${name}`, FIXTURES).pathname,
    ])
    const value = (tag: string) => new RegExp(`^\\(${tag}\\) UI \\[([^\\]]*)\\]`, 'm').exec(stdout)?.[1]
    expect(parsed.transferSyntaxUid).toBe(value('0002,0010'))
    expect(parsed.sopClassUid).toBe(value('0008,0016'))
    expect(parsed.sopInstanceUid).toBe(value('0008,0018'))
    expect(parsed.hadPreamble).toBe(true)
    expect(parsed.hadFileMeta).toBe(true)
    expect(parsed.transferSyntaxSource).toBe('file-meta')
  })
})

describe('malformed fixtures: each is accepted or refused with a clear error', async () => {
  const expected: Record<
    string,
    | { accept: true; check: (p: ReturnType<typeof parseDicomFile>) => void }
    | { accept: false; code: string; mentions: string[] }
  > = {
    'MR_truncated.dcm': {
      accept: false,
      code: 'DICOM_TRUNCATED',
      mentions: ['(7FE0,0010)', 'PixelData', '8192 bytes'],
    },
    'rtplan_truncated.dcm': {
      accept: false,
      code: 'DICOM_TRUNCATED',
      mentions: ['(300A,00B0)', 'BeamSequence'],
    },
    'meta_missing_tsyntax.dcm': {
      accept: false,
      code: 'DICOM_NO_TRANSFER_SYNTAX',
      mentions: ['(0002,0010)'],
    },
    // CT_small's dataset with one stray byte in front: no encoding reads it, and guessing the skip is not
    // "unambiguous".
    'no_meta.dcm': { accept: false, code: 'DICOM_NOT_DICOM', mentions: ['no file meta', 'not a dataset'] },
    // Structurally sound; Number of Frames holds "1A", which is not an IS.
    'badVR.dcm': {
      accept: true,
      check: (parsed) => {
        expect(parsed.warnings).toContainEqual(
          expect.objectContaining({ code: 'INVALID_VALUE', tag: '(0028,0008)' }),
        )
        expect(extractInstanceMetadata(parsed).numberOfFrames).toBeUndefined()
        expect(parsed.sopInstanceUid).toBe('1.9.999.999.99.9.9999.9999.20030818153516')
      },
    },
  }
  const names = (await readdir(new URL('malformed/', FIXTURES))).filter((n) => n.endsWith('.dcm')).sort()

  test('every malformed fixture has a decision here', () => {
    expect(names).toEqual(Object.keys(expected).sort())
  })

  test.each(names)('%s', async (name) => {
    const bytes = await fixture(`malformed/${name}`)
    const rule = expected[name]!
    if (rule.accept) {
      rule.check(parseDicomFile(bytes, { fileName: name }))
      return
    }
    const error = parseError(() => parseDicomFile(bytes, { fileName: name }))
    expect(error.code).toBe(rule.code)
    expect(error.message).toContain(name)
    for (const mention of rule.mentions) expect(error.message).toContain(mention)
  })
})

describe('files without preamble or meta', () => {
  test('Part 10 without the preamble: meta read, hadPreamble false', async () => {
    const bytes = (await fixture('valid/CT_small.dcm')).subarray(132)
    const parsed = parseDicomFile(bytes)
    expect(parsed).toMatchObject({ hadPreamble: false, hadFileMeta: true, transferSyntaxSource: 'file-meta' })
    expect(parsed.transferSyntaxUid).toBe('1.2.840.10008.1.2.1')
  })

  test.each([
    ['CT_small.dcm', '1.2.840.10008.1.2.1'],
    ['MR_small_implicit.dcm', '1.2.840.10008.1.2'],
    ['MR_small_bigendian.dcm', '1.2.840.10008.1.2.2'],
  ])('a bare dataset (%s without meta) is read with the sniffed %s, and says so', async (name, ts) => {
    const whole = await fixture(`valid/${name}`)
    const bare = whole.subarray(datasetOffset(whole))
    const parsed = parseDicomFile(bare, { fileName: name })
    expect(parsed).toMatchObject({ hadPreamble: false, hadFileMeta: false, transferSyntaxSource: 'sniffed' })
    expect(parsed.transferSyntaxUid).toBe(ts)
    expect(parsed.meta).toEqual({})
    const reference = parseDicomFile(whole)
    expect(extractInstanceMetadata(parsed)).toEqual({
      ...extractInstanceMetadata(reference),
      transferSyntaxUid: ts,
    })
    expect(new Uint8Array(parsed.dataset['7FE00010']!.Value![0] as ArrayBuffer)).toEqual(
      new Uint8Array(reference.dataset['7FE00010']!.Value![0] as ArrayBuffer),
    )
  })

  test('a bare dataset with compressed pixel data is refused: its transfer syntax cannot be known', async () => {
    const whole = await fixture('valid/JPEG-lossy.dcm')
    const error = parseError(() =>
      parseDicomFile(whole.subarray(datasetOffset(whole)), { fileName: 'x.dcm' }),
    )
    expect(error.code).toBe('DICOM_NO_TRANSFER_SYNTAX')
  })

  test.each([
    ['empty', new Uint8Array(0)],
    ['text', new TextEncoder().encode('%PDF-1.7 this is not a DICOM file at all, just text\n'.repeat(20))],
    ['zeros', new Uint8Array(4096)],
    ['short', new Uint8Array([8, 0, 5, 0])],
  ])('%s input is not DICOM', (_, bytes) => {
    const error = parseError(() => parseDicomFile(bytes, { fileName: 'upload.bin' }))
    expect(error.code).toBe('DICOM_NOT_DICOM')
    expect(error.message).toContain('upload.bin')
  })
})

describe('limits', () => {
  test('inputs over maxBytes are refused before parsing', async () => {
    const bytes = await fixture('valid/CT_small.dcm')
    const error = parseError(() => parseDicomFile(bytes, { maxBytes: 1000, fileName: 'big.dcm' }))
    expect(error.code).toBe('DICOM_TOO_LARGE')
    expect(error.message).toMatch(/big\.dcm: 39206 bytes is more than the limit of 1000/)
  })

  test('a declared length past the end is an error naming the element, not an allocation', async () => {
    const bytes = (await fixture('valid/CT_small.dcm')).slice()
    const parsed = parseDicomFile(bytes)
    expect(parsed.pixelData?.byteLength).toBe(32768)
    // (7FE0,0010) OW: tag, VR, 2 reserved bytes, then the 4-byte length.
    const at = indexOf(bytes, [0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57]) + 8
    new DataView(bytes.buffer).setUint32(at, 0xfffffff0, true)
    const error = parseError(() => parseDicomFile(bytes, { fileName: 'huge-length.dcm' }))
    expect(error.code).toBe('DICOM_TRUNCATED')
    expect(error.message).toContain('declares 4294967280 bytes')
  })

  test('deep nesting is refused', () => {
    // (0040,A730) ContentSequence nested 40 times with undefined lengths, explicit VR little endian.
    const open = [
      0x40, 0x00, 0x30, 0xa7, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff,
      0xff, 0xff,
    ]
    const close = [0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]
    const body = [
      ...Array.from({ length: 40 }, () => open).flat(),
      ...Array.from({ length: 40 }, () => close).flat(),
    ]
    const file = part10('1.2.840.10008.1.2.1', new Uint8Array(body))
    const error = parseError(() => parseDicomFile(file, { fileName: 'deep.dcm' }))
    expect(error.code).toBe('DICOM_TOO_DEEP')
    expect(parseDicomFile(file, { maxDepth: 64 }).dataset['0040A730']?.vr).toBe('SQ')
  })
})

describe('structural checks on hand-made datasets', () => {
  const uid = (text: string) => Array.from(text.length % 2 ? `${text}\0` : text, (c) => c.charCodeAt(0))
  /** An explicit VR little endian element with a 2-byte length. */
  const el = (group: number, element: number, vr: string, value: number[]) => [
    group & 0xff,
    group >> 8,
    element & 0xff,
    element >> 8,
    vr.charCodeAt(0),
    vr.charCodeAt(1),
    value.length & 0xff,
    value.length >> 8,
    ...value,
  ]
  const sop = [...el(0x0008, 0x0016, 'UI', uid('1.2.3')), ...el(0x0008, 0x0018, 'UI', uid('1.2.3.4'))]
  const read = (body: number[]) =>
    parseDicomFile(part10('1.2.840.10008.1.2.1', new Uint8Array(body)), { fileName: 'made.dcm' })

  test('a minimal dataset reads', () => {
    const parsed = read([
      ...sop,
      ...el(
        0x0010,
        0x0010,
        'PN',
        Array.from('Doe^Jane', (c) => c.charCodeAt(0)),
      ),
    ])
    expect(parsed.sopInstanceUid).toBe('1.2.3.4')
    expect(extractInstanceMetadata(parsed).patientName).toBe('Doe^Jane')
  })

  test.each([
    [
      'the same tag twice',
      [...sop, ...el(0x0010, 0x0020, 'LO', [65, 65]), ...el(0x0010, 0x0020, 'LO', [66, 66])],
      'DICOM_DUPLICATE_ELEMENT',
    ],
    ['a US value of 3 bytes', [...sop, ...el(0x0028, 0x0010, 'US', [1, 2, 3])], 'DICOM_BAD_LENGTH'],
    ['Specific Character Set that is not CS', [...el(0x0008, 0x0005, 'US', [1, 0]), ...sop], 'DICOM_BAD_VR'],
    ['a VR of two digits', [...sop, ...el(0x0010, 0x0020, '42', [65, 65])], 'DICOM_BAD_VR'],
    [
      'an item delimiter with a length',
      [
        ...sop,
        0x40,
        0,
        0x30,
        0xa7,
        0x53,
        0x51,
        0,
        0,
        0xff,
        0xff,
        0xff,
        0xff,
        0xfe,
        0xff,
        0,
        0xe0,
        0xff,
        0xff,
        0xff,
        0xff,
        0xfe,
        0xff,
        0x0d,
        0xe0,
        4,
        0,
        0,
        0,
        0xfe,
        0xff,
        0xdd,
        0xe0,
        0,
        0,
        0,
        0,
      ],
      'DICOM_BAD_LENGTH',
    ],
    [
      'an unclosed sequence',
      [...sop, 0x40, 0, 0x30, 0xa7, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff],
      'DICOM_TRUNCATED',
    ],
    [
      'junk where an item must be',
      [...sop, 0x40, 0, 0x30, 0xa7, 0x53, 0x51, 0, 0, 8, 0, 0, 0, 0x10, 0, 0x10, 0, 0x50, 0x4e, 0, 0],
      'DICOM_BAD_SEQUENCE',
    ],
  ])('%s is refused', (_, body, code) => {
    const error = parseError(() => read(body))
    expect(error.code).toBe(code)
    expect(error.message).toMatch(/^made\.dcm: .+\(at byte \d+\)/)
  })

  test.each([
    ['multi-valued (ISO 2022)', 'ISO 2022 IR 6\\ISO 2022 IR 87'],
    ['unknown', 'ISO_IR 999'],
  ])('a %s Specific Character Set is read with the first / default one, with a warning', (_, charset) => {
    const parsed = read([
      ...el(
        0x0008,
        0x0005,
        'CS',
        Array.from(charset.length % 2 ? `${charset} ` : charset, (c) => c.charCodeAt(0)),
      ),
      ...sop,
    ])
    expect(parsed.sopInstanceUid).toBe('1.2.3.4')
    expect(parsed.warnings).toContainEqual(expect.objectContaining({ tag: '(0008,0005)' }))
  })

  test('a transfer syntax that is not a UID is refused', () => {
    const error = parseError(() => parseDicomFile(part10('1.2.840.10008.1.2\\x', new Uint8Array(sop))))
    expect(error.code).toBe('DICOM_BAD_META')
  })

  test('trailing zero padding is accepted with a warning', () => {
    const parsed = read([...sop, 0, 0, 0])
    expect(parsed.warnings.map((w) => w.code)).toContain('TRAILING_PADDING')
  })
})

describe('deflated explicit VR little endian', () => {
  test('a file deflated by dcmconv reads like the original', async () => {
    const source = new URL('valid/CT_small.dcm', FIXTURES).pathname
    const target = join(work, 'ct-deflated.dcm')
    await run('dcmconv', ['+td', source, target])
    const deflated = new Uint8Array(await readFile(target))
    const parsed = parseDicomFile(deflated, { fileName: 'ct-deflated.dcm' })
    const original = parseDicomFile(await fixture('valid/CT_small.dcm'))
    expect(parsed.transferSyntaxUid).toBe('1.2.840.10008.1.2.1.99')
    expect(parsed.meta['00020010']?.Value).toEqual(['1.2.840.10008.1.2.1.99'])
    expect(parsed.inflatedByteLength).toBeGreaterThan(deflated.length)
    const { transferSyntaxUid: _a, ...metadata } = extractInstanceMetadata(parsed)
    const { transferSyntaxUid: _b, ...expectedMetadata } = extractInstanceMetadata(original)
    expect(metadata).toEqual(expectedMetadata)
    expect(new Uint8Array(parsed.dataset['7FE00010']!.Value![0] as ArrayBuffer)).toEqual(
      new Uint8Array(original.dataset['7FE00010']!.Value![0] as ArrayBuffer),
    )
  })

  test('a deflate bomb is refused at the configured cap, quickly and without inflating it all', () => {
    const bomb = deflateBomb(64 * 1024 * 1024)
    expect(bomb.length).toBeLessThan(500_000)
    const started = performance.now()
    const error = parseError(() =>
      parseDicomFile(bomb, { fileName: 'bomb.dcm', maxInflatedBytes: 8 * 1024 * 1024 }),
    )
    expect(error.code).toBe('DICOM_INFLATE_TOO_LARGE')
    expect(error.message).toContain('bomb.dcm')
    expect(performance.now() - started).toBeLessThan(2000)
  })

  test('a deflate bomb larger than the default cap (256 MiB) is refused with bounded memory', () => {
    const bomb = deflateBomb(320 * 1024 * 1024)
    const before = process.memoryUsage()
    const error = parseError(() => parseDicomFile(bomb, { fileName: 'bomb.dcm' }))
    const after = process.memoryUsage()
    expect(error.code).toBe('DICOM_INFLATE_TOO_LARGE')
    // Whatever was inflated before the refusal is at most the cap plus one slice's output.
    expect(after.arrayBuffers + after.heapUsed - before.arrayBuffers - before.heapUsed).toBeLessThan(
      300 * 1024 * 1024,
    )
  })

  test('a corrupt deflate stream is a clear error', () => {
    const file = part10('1.2.840.10008.1.2.1.99', new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5]))
    const error = parseError(() => parseDicomFile(file, { fileName: 'corrupt.dcm' }))
    expect(error.code).toBe('DICOM_BAD_DEFLATE')
  })
})

describe('pixel data', () => {
  test('big endian native pixel data comes out little endian, equal to the little endian file', async () => {
    const le = parseDicomFile(await fixture('valid/MR_small.dcm'))
    const be = parseDicomFile(await fixture('valid/MR_small_bigendian.dcm'))
    expect(new Uint8Array(be.dataset['7FE00010']!.Value![0] as ArrayBuffer)).toEqual(
      new Uint8Array(le.dataset['7FE00010']!.Value![0] as ArrayBuffer),
    )
  })

  test('a wrong offset table is ignored and frames are found from the fragments (XA, 4 frames)', async () => {
    const parsed = parseDicomFile(await fixture('valid/XA_angio_jpegll.dcm'))
    expect(parsed.pixelData).toMatchObject({
      encapsulated: true,
      frameCount: 4,
      fragmentCount: 4,
      usedOffsetTable: false,
    })
    expect(parsed.warnings.map((w) => w.code)).toContain('OFFSET_TABLE_IGNORED')
    for (const frame of parsed.dataset['7FE00010']!.Value as ArrayBuffer[]) {
      const bytes = new Uint8Array(frame)
      expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8])
    }
  })

  test.each([
    ['with an offset table', [], true],
    ['without an offset table', ['-ot'], false],
  ])('frames made of many fragments (dcmcjpeg +fs 8) %s', async (_, extra, usesTable) => {
    const source = new URL('valid/XA_angio_jpegll.dcm', FIXTURES).pathname
    const raw = join(work, `xa-raw-${usesTable}.dcm`)
    const fragmented = join(work, `xa-fragmented-${usesTable}.dcm`)
    await run('dcmdjpeg', [source, raw])
    await run('dcmcjpeg', ['+fs', '8', ...extra, raw, fragmented])
    const parsed = parseDicomFile(new Uint8Array(await readFile(fragmented)))
    expect(parsed.pixelData?.frameCount).toBe(4)
    expect(parsed.pixelData?.fragmentCount).toBeGreaterThan(8)
    expect(parsed.pixelData?.usedOffsetTable).toBe(usesTable)
    for (const frame of parsed.dataset['7FE00010']!.Value as ArrayBuffer[]) {
      const bytes = new Uint8Array(frame)
      expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8])
      // A whole JPEG codestream: it ends with EOI (possibly followed by one pad byte).
      const tail = bytes.subarray(bytes.length - 3)
      expect(tail.join(',')).toMatch(/255,217(,0)?$/)
    }
  })
})

describe('zeroPreamble', () => {
  test('zeroes a non-zero preamble in a copy; the rest is byte-identical', async () => {
    const bytes = await fixture('valid/CT_small.dcm')
    expect(parseDicomFile(bytes).preambleNonZero).toBe(true)
    const zeroed = zeroPreamble(bytes)
    expect(zeroed).not.toBe(bytes)
    expect(zeroed.subarray(0, 128).every((b) => b === 0)).toBe(true)
    expect(zeroed.subarray(128)).toEqual(bytes.subarray(128))
    expect(bytes.subarray(0, 128).some((b) => b !== 0)).toBe(true)
    const parsed = parseDicomFile(zeroed)
    expect(parsed.preambleNonZero).toBe(false)
    expect(parsed.warnings.map((w) => w.code)).not.toContain('NON_ZERO_PREAMBLE')
  })

  test('an executable-looking preamble (MZ header) is flagged and cleared', async () => {
    const bytes = (await fixture('valid/MR_small.dcm')).slice()
    bytes.set(new TextEncoder().encode('MZ\x90\x00 This program cannot be run in DOS mode'), 0)
    expect(parseDicomFile(bytes).warnings[0]?.code).toBe('NON_ZERO_PREAMBLE')
    expect(
      zeroPreamble(bytes)
        .subarray(0, 128)
        .every((b) => b === 0),
    ).toBe(true)
  })

  test('bytes without a preamble are copied unchanged', () => {
    const bytes = new Uint8Array([1, 2, 3])
    const copy = zeroPreamble(bytes)
    expect(copy).toEqual(bytes)
    expect(copy).not.toBe(bytes)
  })
})

/** A Part 10 file: zero preamble, minimal meta with the given syntax, then `dataset` as is. */
function part10(transferSyntaxUid: string, dataset: Uint8Array): Uint8Array {
  const ts = transferSyntaxUid.length % 2 ? `${transferSyntaxUid}\0` : transferSyntaxUid
  const tsElement = [
    0x02,
    0x00,
    0x10,
    0x00,
    0x55,
    0x49,
    ts.length,
    0,
    ...Array.from(ts, (c) => c.charCodeAt(0)),
  ]
  const groupLength = [0x02, 0x00, 0x00, 0x00, 0x55, 0x4c, 4, 0, tsElement.length, 0, 0, 0]
  const head = new Uint8Array([...new Uint8Array(128), 0x44, 0x49, 0x43, 0x4d, ...groupLength, ...tsElement])
  const out = new Uint8Array(head.length + dataset.length)
  out.set(head)
  out.set(dataset, head.length)
  return out
}

function indexOf(bytes: Uint8Array, pattern: number[]) {
  for (let i = 0; i + pattern.length <= bytes.length; i++) {
    if (pattern.every((b, j) => bytes[i + j] === b)) return i
  }
  throw new Error('pattern not found')
}

/**
 * A deflated-syntax Part 10 file whose dataset inflates to about `size` zero bytes: one fixed-Huffman
 * DEFLATE block (RFC 1951 3.2.6) of a literal 0 and then <length 258, distance 1> copies, 13 bits each.
 */
function deflateBomb(size: number): Uint8Array {
  const copies = Math.ceil(size / 258)
  const out = new Uint8Array(Math.ceil((3 + 8 + copies * 13 + 7) / 8) + 1)
  let bit = 0
  const put = (value: number) => {
    if (value) out[bit >>> 3]! |= 1 << (bit & 7)
    bit++
  }
  const bits = (value: number, count: number) => {
    for (let i = 0; i < count; i++) put((value >>> i) & 1)
  }
  const code = (value: number, count: number) => {
    for (let i = count - 1; i >= 0; i--) put((value >>> i) & 1)
  }
  bits(1, 1) // BFINAL
  bits(1, 2) // BTYPE = fixed Huffman
  code(0x30, 8) // literal 0
  for (let i = 0; i < copies; i++) {
    code(0xc5, 8) // length code 285: 258 bytes
    code(0, 5) // distance code 0: distance 1
  }
  code(0, 7) // end of block
  return part10('1.2.840.10008.1.2.1.99', out.subarray(0, Math.ceil(bit / 8)))
}
