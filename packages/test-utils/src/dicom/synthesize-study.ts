import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type DcmjsDataset, type DcmjsElement, parseDicomFile, writeDicomFile } from '@pcmims/core'

/*
 * Large studies for tests, made from the headers of real files (fixtures/dicom/valid, written by other
 * toolkits) so they carry the attributes real modalities write; pixels are a simple phantom. Written with
 * dcmjs (through writeDicomFile) in Explicit VR Little Endian. Same parameters and seed, same bytes.
 */

export type SynthesizedKind = 'CT' | 'MR' | 'CR'

export type SynthesizeStudyParameters = {
  kind: SynthesizedKind
  /** Instances in the series (default CT 300, MR 150, CR 1). */
  count?: number | undefined
  /** Default CT 512, MR 256, CR 2500. */
  rows?: number | undefined
  /** Default CT 512, MR 256, CR 3000. */
  columns?: number | undefined
  /** Everything (UIDs, pixels) derives from it (default 1). */
  seed?: number | string | undefined
  patient?: { name: string; id: string; birthDate?: string | undefined; sex?: string | undefined } | undefined
  study?:
    | {
        studyInstanceUid?: string | undefined
        accessionNumber?: string | undefined
        studyDate?: string | undefined
        studyTime?: string | undefined
        description?: string | undefined
        referringPhysicianName?: string | undefined
      }
    | undefined
  seriesNumber?: number | undefined
  seriesDescription?: string | undefined
  /** A Part 10 file whose header is the template (default: the fixture for the kind). */
  templatePath?: string | undefined
}

export type SynthesizedInstance = {
  /** `CT-0001-0001.dcm`: kind, series number, instance number. */
  fileName: string
  bytes: Uint8Array
  sopInstanceUid: string
  instanceNumber: number
}

export type SynthesizedStudyInfo = {
  kind: SynthesizedKind
  studyInstanceUid: string
  seriesInstanceUid: string
  accessionNumber: string
  patient: { name: string; id: string; birthDate: string; sex: string }
  count: number
  rows: number
  columns: number
}

export type SynthesizedStudy = SynthesizedStudyInfo & { instances: SynthesizedInstance[] }

const FIXTURES = new URL('../../../../fixtures/dicom/valid/', import.meta.url)

const PRESETS = {
  CT: {
    template: 'CT_small.dcm',
    count: 300,
    rows: 512,
    columns: 512,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    description: 'SYNTHETIC CT CHEST',
    series: 'AXIAL 1.25MM',
    pixelSpacing: 0.7,
    sliceSpacing: 1.25,
    window: [40, 400],
    rescale: [-1024, 1],
  },
  MR: {
    template: 'MR_small.dcm',
    count: 150,
    rows: 256,
    columns: 256,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
    description: 'SYNTHETIC MR BRAIN',
    series: 'T1 AXIAL',
    pixelSpacing: 0.9,
    sliceSpacing: 1,
    window: [600, 1200],
    rescale: undefined,
  },
  CR: {
    template: 'XA_angio_jpegll.dcm',
    count: 1,
    rows: 2500,
    columns: 3000,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.1',
    description: 'SYNTHETIC CHEST PA',
    series: 'PA',
    pixelSpacing: 0.139,
    sliceSpacing: 0,
    window: [2048, 4096],
    rescale: undefined,
  },
} as const

/** Template attributes that would contradict the synthetic series or carry the template's identity. */
const DROP = new Set([
  '00080012', // InstanceCreationDate
  '00080013', // InstanceCreationTime
  '00080014', // InstanceCreatorUID
  '00081110', // ReferencedStudySequence
  '00081111', // ReferencedPerformedProcedureStepSequence
  '00081140', // ReferencedImageSequence
  '00082112', // SourceImageSequence
  '00089215', // DerivationCodeSequence
  '00101000', // OtherPatientIDs
  '00101001', // OtherPatientNames
  '00101002', // OtherPatientIDsSequence
  '00101010', // PatientAge
  '00181063', // FrameTime
  '00280006', // PlanarConfiguration
  '00280008', // NumberOfFrames
  '00280009', // FrameIncrementPointer
  '00280106', // SmallestImagePixelValue
  '00280107', // LargestImagePixelValue
  '00281040', // PixelIntensityRelationship
  '00282110', // LossyImageCompression
  '00880200', // IconImageSequence
  '7FE00010', // PixelData
  'FFFCFFFC', // DataSetTrailingPadding
])

/** Generates the instances one at a time (a 300-slice CT is 157 MB: callers need not hold it all). */
export function* synthesizeInstances(
  parameters: SynthesizeStudyParameters,
): Generator<SynthesizedInstance, void, void> {
  const plan = planStudy(parameters)
  for (let index = 0; index < plan.info.count; index++) yield plan.instance(index)
}

/** The whole study in memory. */
export function synthesizeStudy(parameters: SynthesizeStudyParameters): SynthesizedStudy {
  const plan = planStudy(parameters)
  const instances: SynthesizedInstance[] = []
  for (let index = 0; index < plan.info.count; index++) instances.push(plan.instance(index))
  return { ...plan.info, instances }
}

/** What a synthesis with these parameters will produce (UIDs, patient), without making the pixels. */
export function describeSynthesizedStudy(parameters: SynthesizeStudyParameters): SynthesizedStudyInfo {
  return planStudy(parameters).info
}

export type WriteSynthesizedStudyParameters = SynthesizeStudyParameters & {
  /** Folder to write into (created if missing). */
  directory: string
  signal?: AbortSignal | undefined
}

/** Writes the study into a folder, one Part 10 file per instance; returns the info and the file paths. */
export async function writeSynthesizedStudy(
  parameters: WriteSynthesizedStudyParameters,
): Promise<SynthesizedStudyInfo & { files: string[] }> {
  const plan = planStudy(parameters)
  await mkdir(parameters.directory, { recursive: true })
  const files: string[] = []
  for (let index = 0; index < plan.info.count; index++) {
    parameters.signal?.throwIfAborted()
    const instance = plan.instance(index)
    const path = join(parameters.directory, instance.fileName)
    await writeFile(path, instance.bytes, parameters.signal ? { signal: parameters.signal } : {})
    files.push(path)
  }
  return { ...plan.info, files }
}

function planStudy(parameters: SynthesizeStudyParameters) {
  const preset = PRESETS[parameters.kind]
  const count = parameters.count ?? preset.count
  const rows = parameters.rows ?? preset.rows
  const columns = parameters.columns ?? preset.columns
  if (
    !Number.isInteger(count) ||
    count < 1 ||
    !Number.isInteger(rows) ||
    rows < 1 ||
    !Number.isInteger(columns) ||
    columns < 1
  ) {
    throw new RangeError('count, rows and columns must be positive integers')
  }
  const seed = String(parameters.seed ?? 1)
  const random = prng(`${seed}:${parameters.kind}`)
  const uid = () => uidFrom(random)
  const patient = {
    name: parameters.patient?.name ?? `SYNTHETIC^${parameters.kind}^${seed}`,
    id: parameters.patient?.id ?? `SYN${hash32(seed).toString(16).toUpperCase()}`,
    birthDate: parameters.patient?.birthDate ?? '19700101',
    sex: parameters.patient?.sex ?? 'O',
  }
  const studyInstanceUid = parameters.study?.studyInstanceUid ?? uid()
  const seriesInstanceUid = uid()
  const frameOfReferenceUid = uid()
  const sopInstanceUids = Array.from({ length: count }, () => uid())
  const accessionNumber =
    parameters.study?.accessionNumber ??
    `A${(hash32(`${seed}:acc`) % 10_000_000).toString().padStart(7, '0')}`
  const studyDate = parameters.study?.studyDate ?? '20240102'
  const studyTime = parameters.study?.studyTime ?? '093000'
  const seriesNumber = parameters.seriesNumber ?? { CT: 2, MR: 3, CR: 1 }[parameters.kind]
  const noise = noiseTable(prng(`${seed}:${parameters.kind}:pixels`))

  const templateBytes = readFileSync(parameters.templatePath ?? new URL(preset.template, FIXTURES))
  const template = parseDicomFile(templateBytes, { fileName: preset.template }).dataset
  const base: DcmjsDataset = {}
  for (const [key, element] of Object.entries(template)) {
    const group = Number.parseInt(key.slice(0, 4), 16)
    if (group % 2 === 1 || key.endsWith('0000') || DROP.has(key) || (group >= 0x6000 && group <= 0x60ff))
      continue
    base[key] = element
  }
  const set = (dataset: DcmjsDataset, key: string, vr: string, values: unknown[]) => {
    dataset[key] = { vr, Value: values } satisfies DcmjsElement
  }
  set(base, '00080005', 'CS', ['ISO_IR 192'])
  set(base, '00080008', 'CS', ['ORIGINAL', 'PRIMARY', parameters.kind === 'CR' ? '' : 'AXIAL'])
  set(base, '00080016', 'UI', [preset.sopClassUid])
  set(base, '00080020', 'DA', [studyDate])
  set(base, '00080021', 'DA', [studyDate])
  set(base, '00080030', 'TM', [studyTime])
  set(base, '00080031', 'TM', [studyTime])
  set(base, '00080050', 'SH', [accessionNumber])
  set(base, '00080060', 'CS', [parameters.kind])
  set(base, '00080070', 'LO', ['PCMIMS SYNTHETIC'])
  set(base, '00080090', 'PN', [
    { Alphabetic: parameters.study?.referringPhysicianName ?? 'REFERRER^SYNTHETIC' },
  ])
  set(base, '00081030', 'LO', [parameters.study?.description ?? preset.description])
  set(base, '0008103E', 'LO', [parameters.seriesDescription ?? preset.series])
  set(base, '00100010', 'PN', [{ Alphabetic: patient.name }])
  set(base, '00100020', 'LO', [patient.id])
  set(base, '00100030', 'DA', [patient.birthDate])
  set(base, '00100040', 'CS', [patient.sex])
  set(base, '0020000D', 'UI', [studyInstanceUid])
  set(base, '0020000E', 'UI', [seriesInstanceUid])
  set(base, '00200010', 'SH', [accessionNumber.slice(0, 16)])
  set(base, '00200011', 'IS', [seriesNumber])
  set(base, '00280002', 'US', [1])
  set(base, '00280004', 'CS', ['MONOCHROME2'])
  set(base, '00280010', 'US', [rows])
  set(base, '00280011', 'US', [columns])
  set(base, '00280030', 'DS', [preset.pixelSpacing, preset.pixelSpacing])
  set(base, '00280100', 'US', [16])
  set(base, '00280101', 'US', [12])
  set(base, '00280102', 'US', [11])
  set(base, '00280103', 'US', [0])
  set(base, '00281050', 'DS', [preset.window[0]])
  set(base, '00281051', 'DS', [preset.window[1]])
  set(base, '00280301', 'CS', ['NO'])
  set(base, '00204000', 'LT', ['SYNTHETIC IMAGE'])
  if (preset.rescale) {
    set(base, '00281052', 'DS', [preset.rescale[0]])
    set(base, '00281053', 'DS', [preset.rescale[1]])
    set(base, '00281054', 'LO', ['HU'])
  }
  if (parameters.kind === 'CR') {
    set(base, '00180015', 'CS', ['CHEST'])
    set(base, '00185101', 'CS', ['PA'])
    set(base, '00181164', 'DS', [preset.pixelSpacing, preset.pixelSpacing])
    set(base, '00200020', 'CS', ['L', 'F'])
  } else {
    set(base, '00180050', 'DS', [preset.sliceSpacing])
    set(base, '00180088', 'DS', [preset.sliceSpacing])
    set(base, '00200037', 'DS', [1, 0, 0, 0, 1, 0])
    set(base, '00200052', 'UI', [frameOfReferenceUid])
    set(base, '00201040', 'LO', [''])
  }

  const info: SynthesizedStudyInfo = {
    kind: parameters.kind,
    studyInstanceUid,
    seriesInstanceUid,
    accessionNumber,
    patient,
    count,
    rows,
    columns,
  }

  const instance = (index: number): SynthesizedInstance => {
    const dataset: DcmjsDataset = { ...base }
    const instanceNumber = index + 1
    const sopInstanceUid = sopInstanceUids[index]!
    set(dataset, '00080018', 'UI', [sopInstanceUid])
    set(dataset, '00200013', 'IS', [instanceNumber])
    set(dataset, '00200012', 'IS', [1])
    if (parameters.kind !== 'CR') {
      const z = -(count - 1) * preset.sliceSpacing * 0.5 + index * preset.sliceSpacing
      const x = -(columns * preset.pixelSpacing) / 2
      const y = -(rows * preset.pixelSpacing) / 2
      set(dataset, '00200032', 'DS', [round(x), round(y), round(z)])
      set(dataset, '00201041', 'DS', [round(z)])
    }
    const pixels = phantom(parameters.kind, rows, columns, index, count, noise)
    set(dataset, '7FE00010', 'OW', [pixels.buffer])
    const bytes = writeDicomFile({ dataset })
    const fileName = `${parameters.kind}-${String(seriesNumber).padStart(4, '0')}-${String(instanceNumber).padStart(4, '0')}.dcm`
    return { fileName, bytes, sopInstanceUid, instanceNumber }
  }
  return { info, instance }
}

function round(value: number) {
  return Math.round(value * 1000) / 1000
}

/**
 * A 12-bit phantom: CT is a chest-like section (body, two lungs, spine) whose size changes along z, MR an
 * ellipse head with a darker core, CR a chest radiograph-like picture. Noise from the seed.
 */
function phantom(
  kind: SynthesizedKind,
  rows: number,
  columns: number,
  index: number,
  count: number,
  noise: Int8Array,
) {
  const out = new Uint16Array(rows * columns)
  const t = count > 1 ? index / (count - 1) : 0.5
  const cx = columns / 2
  const cy = rows / 2
  const scale = Math.min(rows, columns) / 2
  type Shape = { cx: number; cy: number; rx: number; ry: number; value: number }
  // Every value stays within [NOISE, 4095 - NOISE], so adding noise needs no clamping.
  let background = 24
  let shapes: Shape[]
  if (kind === 'CT') {
    const body = 0.85 + 0.1 * Math.sin(Math.PI * t)
    shapes = [
      { cx, cy, rx: scale * 0.9 * body, ry: scale * 0.65 * body, value: 1064 },
      {
        cx: cx - scale * 0.38,
        cy: cy - scale * 0.05,
        rx: scale * 0.28 * body,
        ry: scale * 0.4 * body,
        value: 224,
      },
      {
        cx: cx + scale * 0.38,
        cy: cy - scale * 0.05,
        rx: scale * 0.28 * body,
        ry: scale * 0.4 * body,
        value: 224,
      },
      { cx, cy: cy + scale * 0.45, rx: scale * 0.09, ry: scale * 0.09, value: 2024 },
    ]
  } else if (kind === 'MR') {
    const head = Math.sqrt(Math.max(0.05, 1 - (2 * t - 1) ** 2))
    shapes = [
      { cx, cy, rx: scale * 0.75 * head, ry: scale * 0.9 * head, value: 900 },
      { cx, cy, rx: scale * 0.55 * head, ry: scale * 0.7 * head, value: 600 },
      { cx: cx - scale * 0.12, cy, rx: scale * 0.06 * head, ry: scale * 0.2 * head, value: 200 },
      { cx: cx + scale * 0.12, cy, rx: scale * 0.06 * head, ry: scale * 0.2 * head, value: 200 },
    ]
  } else {
    background = 3600
    shapes = [
      { cx, cy: cy * 1.05, rx: columns * 0.42, ry: rows * 0.45, value: 2600 },
      { cx: cx - columns * 0.17, cy, rx: columns * 0.14, ry: rows * 0.32, value: 900 },
      { cx: cx + columns * 0.17, cy, rx: columns * 0.14, ry: rows * 0.32, value: 900 },
      { cx, cy: cy * 1.05, rx: columns * 0.035, ry: rows * 0.45, value: 3100 },
    ]
  }
  out.fill(background)
  // Later shapes paint over earlier ones; each row is filled span by span.
  for (const s of shapes) {
    const top = Math.max(0, Math.ceil(s.cy - s.ry))
    const bottom = Math.min(rows - 1, Math.floor(s.cy + s.ry))
    for (let y = top; y <= bottom; y++) {
      const dy = (y - s.cy) / s.ry
      const half = s.rx * Math.sqrt(Math.max(0, 1 - dy * dy))
      const from = Math.max(0, Math.ceil(s.cx - half))
      const to = Math.min(columns - 1, Math.floor(s.cx + half))
      if (to >= from) out.fill(s.value, y * columns + from, y * columns + to + 1)
    }
  }
  // Noise from a table made from the seed, read from a different place for every slice.
  const offset = Math.imul(index + 1, 0x9e3779b1) >>> 16
  for (let i = 0; i < out.length; i++) out[i]! += noise[(i + offset) & 0xffff]!
  return out
}

/** 64 Ki noise values in [-NOISE, NOISE). */
function noiseTable(random: () => number): Int8Array {
  const table = new Int8Array(65536)
  for (let i = 0; i < table.length; i++) table[i] = Math.floor((random() - 0.5) * 2 * NOISE)
  return table
}

const NOISE = 20

/** A `2.25.` UID (PS3.5 B.2) from 128 bits of the generator. */
function uidFrom(random: () => number): string {
  let value = 0n
  for (let i = 0; i < 4; i++) value = (value << 32n) | BigInt(Math.floor(random() * 0x100000000))
  return `2.25.${value}`
}

/** sfc32 seeded from a string: small, fast, good enough for test data. */
function prng(seedText: string): () => number {
  let a = hash32(`a${seedText}`)
  let b = hash32(`b${seedText}`)
  let c = hash32(`c${seedText}`)
  let d = hash32(`d${seedText}`)
  return () => {
    a >>>= 0
    b >>>= 0
    c >>>= 0
    d >>>= 0
    const t = (a + b) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) | 0
    const r = (t + d) | 0
    c = (c + r) | 0
    return (r >>> 0) / 0x100000000
  }
}

/** FNV-1a. */
function hash32(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
