import { z } from 'zod'

export const REPORT_SUMMARY_TYPE = 'pcmims/report-summary'
/** Bounds so a hostile manifest cannot make a reader allocate without limit. */
export const REPORT_SUMMARY_LIMITS = { maxResults: 2000, maxText: 1024, maxConclusion: 4096 }

const text = z.string().max(REPORT_SUMMARY_LIMITS.maxText)

export const REPORT_FORMATS = ['pdf', 'fhir', 'dicom-sr', 'dicom-pdf'] as const
export type ReportFormat = (typeof REPORT_FORMATS)[number]

const resultSchema = z.strictObject({
  /** What was measured or said ("Cholesterol [Mass/volume] in Serum or Plasma", a section title). */
  name: text,
  /** The value as shown: a number as written, a coded answer's meaning, free text. */
  value: text.optional(),
  /** The value as a number, when it is one. */
  numericValue: z.number().optional(),
  unit: text.optional(),
  /** Reference range bounds, when numeric. */
  low: z.number().optional(),
  high: z.number().optional(),
  /** The reference range as text, when the source gives one ("< 200", "negative"). */
  range: text.optional(),
  /** Interpretation code: H, L, N, HH, LL, A… (HL7 v3 ObservationInterpretation). */
  flag: z.string().max(16).optional(),
  /** `reported`: the flag came with the result; `computed`: PCMIMS compared value and range. */
  flagSource: z.enum(['reported', 'computed']).optional(),
  /** Nesting depth in a structured report's content tree (0 = top), for an indented display. */
  level: z.number().int().min(0).max(64).optional(),
})

/** Validates a {@link ReportSummary} read back from a manifest (strict: unknown keys are refused). */
export const reportSummarySchema = z.strictObject({
  type: z.literal(REPORT_SUMMARY_TYPE),
  format: z.enum(REPORT_FORMATS),
  /** The record file the summary was read from (a path in the record's `files`). */
  path: z.string().max(1024).optional(),
  title: text.optional(),
  /** Effective date (ISO 8601 date or date-time), as the report gives it. */
  date: text.optional(),
  /** final, preliminary, amended… (FHIR) or COMPLETE / VERIFIED (DICOM SR). */
  status: text.optional(),
  performer: text.optional(),
  conclusion: z.string().max(REPORT_SUMMARY_LIMITS.maxConclusion).optional(),
  results: z.array(resultSchema).max(REPORT_SUMMARY_LIMITS.maxResults),
  /** Rows left out past `maxResults`. */
  truncatedResults: z.number().int().nonnegative().optional(),
})

export type ReportResult = z.infer<typeof resultSchema>
/**
 * What the portal shows of a report without opening its file: title, date, status and a results table.
 * Clinical data (PHI): it lives in the sealed manifest only, never on chain or in the envelope.
 */
export type ReportSummary = z.infer<typeof reportSummarySchema>

/** Cuts a string to the summary's text limit (values come from files and may be long). */
export function clip(
  value: string | undefined,
  max: number = REPORT_SUMMARY_LIMITS.maxText,
): string | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (trimmed === '') return undefined
  return trimmed.length > max ? `${trimmed.slice(0, max - 1)}…` : trimmed
}

/** Flag from value and range when the source gave none: below low → L, above high → H, else N. */
export function computeFlag(value: number | undefined, low: number | undefined, high: number | undefined) {
  if (value === undefined || (low === undefined && high === undefined)) return undefined
  if (low !== undefined && value < low) return 'L'
  if (high !== undefined && value > high) return 'H'
  return 'N'
}
