import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DicomParseError } from '../errors.js'
import { extractInstanceMetadata } from '../metadata/extract-instance-metadata.js'
import { toDicomJson } from '../metadata/to-dicom-json.js'
import { groupIntoStudies } from '../study/group-into-studies.js'
import { parseDicomFile } from './parse-dicom-file.js'

/*
 * Property-based fuzzing of the whole reading path with mutated real files: whatever the bytes, the
 * reader returns a dataset (which metadata extraction and JSON conversion then handle) or throws a
 * DicomParseError naming the file; each call is time-bounded and allocates within a cap.
 */

const FIXTURES = new URL('../../../../../fixtures/dicom/', import.meta.url)
const RUNS = Number(process.env.DICOM_FUZZ_RUNS ?? 400)
/** Per call. The largest seed file is 325 kB; real parses take a few milliseconds. */
const TIME_LIMIT_MS = 1500
const MEMORY_LIMIT = 64 * 1024 * 1024

const VRS = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(
    ' ',
  ),
)
const LONG = new Set('OB OD OF OL OV OW SQ SV UC UN UR UT UV'.split(' '))

type Seed = { name: string; bytes: Uint8Array; lengthFields: { at: number; size: 2 | 4 }[] }
const seeds: Seed[] = []
const outcomes = new Map<string, number>()
const unreadable = new Set<string>()
let work: string

/** Every place that looks like an explicit VR length field (nested ones too), for length corruption. */
function lengthFields(bytes: Uint8Array) {
  const found: { at: number; size: 2 | 4 }[] = []
  for (let i = 4; i + 8 <= bytes.length; i++) {
    const vr = String.fromCharCode(bytes[i]!, bytes[i + 1]!)
    if (!VRS.has(vr)) continue
    if (LONG.has(vr)) {
      if (bytes[i + 2] === 0 && bytes[i + 3] === 0) found.push({ at: i + 4, size: 4 })
    } else found.push({ at: i + 2, size: 2 })
  }
  // Item and delimiter lengths (FFFE,E000 / E00D / E0DD), in both byte orders.
  for (let i = 0; i + 8 <= bytes.length; i++) {
    if (
      (bytes[i] === 0xfe && bytes[i + 1] === 0xff && bytes[i + 3] === 0xe0) ||
      (bytes[i] === 0xff && bytes[i + 1] === 0xfe && bytes[i + 2] === 0xe0)
    ) {
      found.push({ at: i + 4, size: 4 })
    }
  }
  return found
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pcmims-dicom-fuzz-'))
  for (const dir of ['valid', 'malformed']) {
    for (const name of (await readdir(new URL(`${dir}/`, FIXTURES))).sort()) {
      const bytes = new Uint8Array(await readFile(new URL(`${dir}/${name}`, FIXTURES)))
      seeds.push({ name: `${dir}/${name}`, bytes, lengthFields: lengthFields(bytes) })
    }
  }
  // A deflated file, and a bare dataset, so that inflate and sniffing are fuzzed too.
  const deflated = join(work, 'deflated.dcm')
  await promisify(execFile)('dcmconv', ['+td', new URL('valid/MR_small.dcm', FIXTURES).pathname, deflated])
  const bytes = new Uint8Array(await readFile(deflated))
  seeds.push({ name: 'deflated MR_small', bytes, lengthFields: lengthFields(bytes) })
  const ct = seeds.find((s) => s.name === 'valid/CT_small.dcm')!.bytes
  const bare = ct.subarray(132 + 12 + new DataView(ct.buffer, ct.byteOffset).getUint32(140, true))
  seeds.push({ name: 'bare CT_small dataset', bytes: bare, lengthFields: lengthFields(bare) })
})

afterAll(async () => {
  await rm(work, { recursive: true, force: true })
  // The spread of outcomes, for whoever reads the log: mutations must reach deep into the reader.
  console.info('DICOM fuzz outcomes', Object.fromEntries([...outcomes].sort()), [...unreadable])
})

/** Parses and uses the result the way ingest does; returns the outcome (accepted or the error code). */
function exercise(bytes: Uint8Array): string {
  const started = performance.now()
  const before = process.memoryUsage().arrayBuffers
  let outcome: string
  try {
    const parsed = parseDicomFile(bytes, { fileName: 'fuzz.dcm' })
    const metadata = extractInstanceMetadata(parsed)
    JSON.stringify(toDicomJson(parsed, { bulkDataUri: (info) => `bulk/${info.path.join('/')}` }))
    JSON.stringify(toDicomJson(parsed))
    if (metadata.studyInstanceUid && metadata.seriesInstanceUid && metadata.sopInstanceUid)
      groupIntoStudies([metadata])
    outcome = 'accepted'
  } catch (error) {
    if (!(error instanceof DicomParseError)) throw error
    expect(error.message.startsWith('fuzz.dcm: ')).toBe(true)
    // The catch-all code is for library refusals of sound structures; an allocation failure would be a bug.
    if (error.code === 'DICOM_UNREADABLE')
      expect(String(error.details)).not.toMatch(/allocation|Invalid typed array length|Array buffer/i)
    outcome = error.code
    if (error.code === 'DICOM_UNREADABLE') unreadable.add(String(error.details).slice(0, 120))
  }
  const elapsed = performance.now() - started
  expect(elapsed).toBeLessThan(TIME_LIMIT_MS)
  expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(MEMORY_LIMIT)
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
  return outcome
}

const seedIndex = () => fc.integer({ min: 0, max: 1_000_000 })
const pick = (i: number) => seeds[i % seeds.length]!

describe('fuzzing parseDicomFile with mutated real files', () => {
  test('byte flips', () => {
    fc.assert(
      fc.property(
        seedIndex(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 12 }),
        (s, flips) => {
          const seed = pick(s)
          const bytes = seed.bytes.slice()
          for (const [at, mask] of flips) bytes[at % bytes.length]! ^= mask
          exercise(bytes)
        },
      ),
      { numRuns: RUNS },
    )
  })

  test('truncations', () => {
    fc.assert(
      fc.property(seedIndex(), fc.double({ min: 0, max: 1, noNaN: true }), (s, fraction) => {
        const seed = pick(s)
        exercise(seed.bytes.slice(0, Math.floor(seed.bytes.length * fraction)))
      }),
      { numRuns: RUNS },
    )
  })

  test('length fields set to hostile values', () => {
    const hostile = fc.oneof(
      fc.constantFrom(0, 1, 3, 0xfffe, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: -16, max: 16 }).map((d) => ({ delta: d })),
    )
    fc.assert(
      fc.property(
        seedIndex(),
        fc.array(fc.tuple(fc.nat(), hostile), { minLength: 1, maxLength: 3 }),
        (s, changes) => {
          const seed = pick(s)
          const bytes = seed.bytes.slice()
          const view = new DataView(bytes.buffer)
          for (const [which, value] of changes) {
            const field = seed.lengthFields[which % Math.max(1, seed.lengthFields.length)]
            if (!field) continue
            if (field.size === 2) {
              const current = view.getUint16(field.at, true)
              const next = typeof value === 'number' ? value : current + value.delta
              view.setUint16(field.at, next & 0xffff, true)
            } else {
              const current = view.getUint32(field.at, true)
              const next = typeof value === 'number' ? value : current + value.delta
              view.setUint32(field.at, next >>> 0, true)
            }
          }
          exercise(bytes)
        },
      ),
      { numRuns: RUNS },
    )
  })

  test('inserted and deleted bytes', () => {
    fc.assert(
      fc.property(
        seedIndex(),
        fc.nat(),
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 64 }).map((insert) => ({ insert })),
          fc.integer({ min: 1, max: 64 }).map((remove) => ({ remove })),
          fc.integer({ min: 1, max: 4096 }).map((duplicate) => ({ duplicate })),
        ),
        (s, position, change) => {
          const seed = pick(s)
          const at = position % (seed.bytes.length + 1)
          const head = seed.bytes.subarray(0, at)
          let middle: Uint8Array
          let tail = seed.bytes.subarray(at)
          if ('insert' in change) middle = change.insert
          else if ('remove' in change) {
            middle = new Uint8Array(0)
            tail = seed.bytes.subarray(Math.min(seed.bytes.length, at + change.remove))
          } else middle = seed.bytes.subarray(at, at + change.duplicate)
          const bytes = new Uint8Array(head.length + middle.length + tail.length)
          bytes.set(head)
          bytes.set(middle, head.length)
          bytes.set(tail, head.length + middle.length)
          exercise(bytes)
        },
      ),
      { numRuns: RUNS },
    )
  })

  test('every truncation point of two small files (exhaustive)', () => {
    for (const name of ['valid/SC_rgb_rle.dcm', 'valid/test-SR.dcm']) {
      const seed = seeds.find((s) => s.name === name)!
      for (let length = 0; length < seed.bytes.length; length++) {
        const outcome = exercise(seed.bytes.subarray(0, length))
        // Cutting a file short never yields a file that reads as whole, except at an element boundary.
        if (outcome === 'accepted') expect(length).toBeGreaterThan(132)
      }
    }
  })

  test('the structural walk stops everything dcmjs would choke on (no DICOM_UNREADABLE)', () => {
    expect([...unreadable]).toEqual([])
  })

  test('the mutations reach the reader (not everything stops at the first check)', () => {
    const codes = new Set(outcomes.keys())
    for (const code of ['accepted', 'DICOM_TRUNCATED', 'DICOM_BAD_VR', 'DICOM_NOT_DICOM'])
      expect(codes).toContain(code)
  })
})
