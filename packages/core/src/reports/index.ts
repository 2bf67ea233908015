export { ReportError, type ReportErrorCode } from './errors.js'
export {
  REPORT_LIMITS,
  type ReadReportParameters,
  type ReadReportReturnType,
  readReport,
} from './read-report.js'
export {
  computeFlag,
  REPORT_FORMATS,
  REPORT_SUMMARY_LIMITS,
  REPORT_SUMMARY_TYPE,
  type ReportFormat,
  type ReportResult,
  type ReportSummary,
  reportSummarySchema,
} from './report-summary.js'
export {
  ENCAPSULATED_PDF_SOP_CLASS,
  type ExtractEncapsulatedPdfReturnType,
  extractEncapsulatedPdf,
  isPdf,
  isStructuredReport,
  SR_SOP_CLASS_PREFIX,
  summarizeStructuredReport,
} from './summarize-dicom-report.js'
export { type SummarizeFhirParameters, summarizeFhir } from './summarize-fhir.js'
