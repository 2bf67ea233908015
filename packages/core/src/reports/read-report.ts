import { DicomParseError } from '../dicom/errors.js'
import { parseDicomFile } from '../dicom/parse/parse-dicom-file.js'
import { ReportError } from './errors.js'
import { REPORT_SUMMARY_TYPE, type ReportFormat, type ReportSummary } from './report-summary.js'
import {
  ENCAPSULATED_PDF_SOP_CLASS,
  extractEncapsulatedPdf,
  isPdf,
  isStructuredReport,
  summarizeStructuredReport,
} from './summarize-dicom-report.js'
import { summarizeFhir } from './summarize-fhir.js'

/** Size caps per format, checked before parsing. */
export const REPORT_LIMITS = {
  maxPdfBytes: 128 * 1024 * 1024,
  maxJsonBytes: 16 * 1024 * 1024,
  maxDicomBytes: 256 * 1024 * 1024,
}

export type ReadReportParameters = {
  /** For error messages only; never used as a path. */
  fileName?: string | undefined
}

export type ReadReportReturnType = {
  format: ReportFormat
  /** The file's media type: application/pdf, application/fhir+json, application/dicom. */
  mediaType: string
  summary: ReportSummary
  /** For an encapsulated PDF: the PDF inside, so a viewer needs no DICOM reader. */
  pdf?: Uint8Array | undefined
}

/**
 * Recognizes a report by its content, never its name — PDF (`%PDF-`), FHIR R4 JSON (DiagnosticReport,
 * Observation, Bundle), DICOM SR or Encapsulated PDF — validates it under size caps and summarizes it for
 * the sealed manifest. Anything else is a {@link ReportError} naming the file.
 */
export function readReport(bytes: Uint8Array, params: ReadReportParameters = {}): ReadReportReturnType {
  const { fileName } = params
  const tooLarge = (max: number) =>
    new ReportError('REPORT_TOO_LARGE', `larger than the ${max}-byte limit for this kind of report`, {
      fileName,
    })
  const isDicom = bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM'
  if (isDicom) {
    if (bytes.length > REPORT_LIMITS.maxDicomBytes) throw tooLarge(REPORT_LIMITS.maxDicomBytes)
    let parsed: ReturnType<typeof parseDicomFile>
    try {
      parsed = parseDicomFile(bytes, { fileName, maxBytes: REPORT_LIMITS.maxDicomBytes })
    } catch (error) {
      if (!(error instanceof DicomParseError)) throw error
      throw new ReportError('REPORT_BAD_DICOM', error.problem, { fileName, cause: error })
    }
    if (isStructuredReport(parsed.sopClassUid)) {
      return {
        format: 'dicom-sr',
        mediaType: 'application/dicom',
        summary: summarizeStructuredReport(parsed),
      }
    }
    if (parsed.sopClassUid === ENCAPSULATED_PDF_SOP_CLASS) {
      const { summary, pdf } = extractEncapsulatedPdf(parsed, { fileName })
      return { format: 'dicom-pdf', mediaType: 'application/dicom', summary, pdf }
    }
    throw new ReportError(
      'REPORT_UNRECOGNIZED',
      'a DICOM instance that is neither a structured report nor an encapsulated PDF (images go in with --dicom)',
      { fileName },
    )
  }
  if (isPdf(bytes)) {
    if (bytes.length > REPORT_LIMITS.maxPdfBytes) throw tooLarge(REPORT_LIMITS.maxPdfBytes)
    return {
      format: 'pdf',
      mediaType: 'application/pdf',
      summary: { type: REPORT_SUMMARY_TYPE, format: 'pdf', results: [] },
    }
  }
  const start = firstNonSpace(bytes)
  if (bytes[start] === 0x7b) {
    if (bytes.length > REPORT_LIMITS.maxJsonBytes) throw tooLarge(REPORT_LIMITS.maxJsonBytes)
    let json: unknown
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
    } catch (error) {
      throw new ReportError('REPORT_BAD_FHIR', 'not valid UTF-8 JSON', { fileName, cause: error })
    }
    return { format: 'fhir', mediaType: 'application/fhir+json', summary: summarizeFhir(json, { fileName }) }
  }
  throw new ReportError(
    'REPORT_UNRECOGNIZED',
    'not a report PCMIMS reads (PDF, FHIR JSON, DICOM SR or encapsulated PDF)',
    { fileName },
  )
}

function firstNonSpace(bytes: Uint8Array): number {
  let i = 0
  // A UTF-8 byte order mark, then JSON whitespace.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)
  )
    i++
  return i
}
