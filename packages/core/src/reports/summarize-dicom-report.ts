import type { DcmjsDataset, DcmjsElement } from '../dicom/dcmjs.js'
import { dicomDateToIso } from '../dicom/metadata/dicom-date-to-iso.js'
import type { ParseDicomFileReturnType } from '../dicom/parse/parse-dicom-file.js'
import { ReportError } from './errors.js'
import {
  clip,
  REPORT_SUMMARY_LIMITS,
  REPORT_SUMMARY_TYPE,
  type ReportResult,
  type ReportSummary,
} from './report-summary.js'

/** Structured Report Storage SOP classes: PS3.4 Annex B, 1.2.840.10008.5.1.4.1.1.88.x. */
export const SR_SOP_CLASS_PREFIX = '1.2.840.10008.5.1.4.1.1.88.'
/** Encapsulated PDF Storage (PS3.4 B.5). */
export const ENCAPSULATED_PDF_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.104.1'

const T = {
  sopClassUid: '00080016',
  studyDate: '00080020',
  contentDate: '00080023',
  studyDescription: '00081030',
  codeValue: '00080100',
  codeMeaning: '00080104',
  unitsCodeSequence: '004008EA',
  valueType: '0040A040',
  conceptName: '0040A043',
  verifyingObserverSequence: '0040A073',
  verifyingObserverName: '0040A075',
  dateTime: '0040A120',
  date: '0040A121',
  time: '0040A122',
  personName: '0040A123',
  uid: '0040A124',
  textValue: '0040A160',
  conceptCode: '0040A168',
  measuredValueSequence: '0040A300',
  numericValue: '0040A30A',
  completionFlag: '0040A491',
  verificationFlag: '0040A493',
  contentSequence: '0040A730',
  documentTitle: '00420010',
  encapsulatedDocument: '00420011',
  mimeType: '00420012',
  documentLength: '00420015',
} as const

/** Deeper SR trees than this are cut (their rows are not shown, the file is kept as is). */
const MAX_LEVEL = 32

export function isStructuredReport(sopClassUid: string | undefined): boolean {
  return sopClassUid?.startsWith(SR_SOP_CLASS_PREFIX) === true
}

/**
 * Summarizes a DICOM Structured Report from its content tree: the document title (the root concept
 * name), content date, completion/verification status, verifying observer, and one row per content
 * item (container titles as section rows, TEXT / CODE / NUM / DATE / PNAME … values; NUM with its unit).
 */
export function summarizeStructuredReport(parsed: ParseDicomFileReturnType): ReportSummary {
  const { dataset } = parsed
  const results: ReportResult[] = []
  let truncated = 0
  const walk = (items: unknown[] | undefined, level: number) => {
    if (!items || level > MAX_LEVEL) return
    for (const raw of items) {
      if (typeof raw !== 'object' || raw === null) continue
      const item = raw as DcmjsDataset
      const row = rowOf(item, level)
      if (row) {
        if (results.length < REPORT_SUMMARY_LIMITS.maxResults) results.push(row)
        else truncated++
      }
      walk(item[T.contentSequence]?.Value, level + 1)
    }
  }
  walk(dataset[T.contentSequence]?.Value, 0)
  const completion = str(dataset[T.completionFlag])
  const verification = str(dataset[T.verificationFlag])
  const observer = first(dataset[T.verifyingObserverSequence])
  return dropUndefined({
    type: REPORT_SUMMARY_TYPE,
    format: 'dicom-sr' as const,
    title: meaning(first(dataset[T.conceptName])) ?? clip(str(dataset[T.studyDescription])),
    date: dicomDateToIso(str(dataset[T.contentDate]) ?? str(dataset[T.studyDate])),
    status: clip([completion, verification].filter(Boolean).join(' ')),
    performer: observer ? personName(observer[T.verifyingObserverName]) : undefined,
    results,
    truncatedResults: truncated > 0 ? truncated : undefined,
  })
}

export type ExtractEncapsulatedPdfReturnType = { summary: ReportSummary; pdf: Uint8Array }

/**
 * Takes the PDF out of an Encapsulated PDF instance (Encapsulated Document, 0042,0011), checks its
 * `%PDF-` header, and summarizes the instance (Document Title, content date).
 */
export function extractEncapsulatedPdf(
  parsed: ParseDicomFileReturnType,
  params: { fileName?: string | undefined } = {},
): ExtractEncapsulatedPdfReturnType {
  const { dataset } = parsed
  const fail = (problem: string) =>
    new ReportError('REPORT_BAD_DICOM', problem, { fileName: params.fileName })
  const mime = str(dataset[T.mimeType])
  if (mime !== undefined && mime.trim().toLowerCase() !== 'application/pdf')
    throw fail('encapsulated document is not declared as application/pdf')
  const value = dataset[T.encapsulatedDocument]?.Value?.[0]
  if (!(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value))
    throw fail('no Encapsulated Document (0042,0011)')
  let pdf =
    value instanceof ArrayBuffer
      ? new Uint8Array(value)
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  // OB values are padded to an even length; Encapsulated Document Length (0042,0015) gives the real one.
  const declared = dataset[T.documentLength]?.Value?.[0]
  if (typeof declared === 'number' && Number.isInteger(declared) && declared >= 0 && declared <= pdf.length)
    pdf = pdf.subarray(0, declared)
  else if (pdf.length > 0 && pdf[pdf.length - 1] === 0) pdf = pdf.subarray(0, pdf.length - 1)
  if (!isPdf(pdf)) throw fail('the encapsulated document does not start with %PDF-')
  return {
    pdf,
    summary: dropUndefined({
      type: REPORT_SUMMARY_TYPE,
      format: 'dicom-pdf' as const,
      title: clip(str(dataset[T.documentTitle])) ?? meaning(first(dataset[T.conceptName])),
      date: dicomDateToIso(str(dataset[T.contentDate]) ?? str(dataset[T.studyDate])),
      results: [],
    }),
  }
}

/** `%PDF-` within the first 1024 bytes (ISO 32000-1 7.5.2 tolerates leading junk there; readers accept it). */
export function isPdf(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 1024)
  for (let i = 0; i + 5 <= head.length; i++) {
    if (
      head[i] === 0x25 &&
      head[i + 1] === 0x50 &&
      head[i + 2] === 0x44 &&
      head[i + 3] === 0x46 &&
      head[i + 4] === 0x2d
    )
      return true
  }
  return false
}

function rowOf(item: DcmjsDataset, level: number): ReportResult | undefined {
  const type = str(item[T.valueType])?.trim()
  const name = meaning(first(item[T.conceptName]))
  let value: string | undefined
  let numericValue: number | undefined
  let unit: string | undefined
  switch (type) {
    case 'CONTAINER':
      if (!name) return undefined
      break
    case 'TEXT':
      value = clip(str(item[T.textValue]))
      break
    case 'CODE':
      value = meaning(first(item[T.conceptCode]))
      break
    case 'NUM': {
      const measured = first(item[T.measuredValueSequence])
      const raw = measured?.[T.numericValue]?.Value?.[0]
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : Number.NaN
      if (Number.isFinite(n)) numericValue = n
      value = clip(typeof raw === 'number' || typeof raw === 'string' ? String(raw) : undefined)
      unit = measured ? meaning(first(measured[T.unitsCodeSequence])) : undefined
      break
    }
    case 'DATE':
      value = dicomDateToIso(str(item[T.date]))
      break
    case 'DATETIME':
      value = clip(str(item[T.dateTime]))
      break
    case 'TIME':
      value = clip(str(item[T.time]))
      break
    case 'PNAME':
      value = personName(item[T.personName])
      break
    case 'UIDREF':
      value = clip(str(item[T.uid]))
      break
    default:
      // IMAGE, COMPOSITE, WAVEFORM, SCOORD…: references and coordinates, not something to read in a table.
      return undefined
  }
  return dropUndefined({ name: name ?? type ?? 'item', value, numericValue, unit, level })
}

function first(element: DcmjsElement | undefined): DcmjsDataset | undefined {
  const item = element?.Value?.[0]
  return typeof item === 'object' && item !== null && !ArrayBuffer.isView(item)
    ? (item as DcmjsDataset)
    : undefined
}

function str(element: DcmjsElement | undefined): string | undefined {
  const value = element?.Value?.[0]
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined
}

function meaning(code: DcmjsDataset | undefined): string | undefined {
  return code ? clip(str(code[T.codeMeaning]) ?? str(code[T.codeValue])) : undefined
}

function personName(element: DcmjsElement | undefined): string | undefined {
  const value = element?.Value?.[0]
  if (typeof value === 'string') return clip(value.replaceAll('^', ' '))
  if (typeof value === 'object' && value !== null && 'Alphabetic' in value) {
    const alphabetic = (value as { Alphabetic?: unknown }).Alphabetic
    return typeof alphabetic === 'string' ? clip(alphabetic.replaceAll('^', ' ')) : undefined
  }
  return undefined
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
