import { z } from 'zod'
import { ReportError } from './errors.js'
import {
  clip,
  computeFlag,
  REPORT_SUMMARY_LIMITS,
  REPORT_SUMMARY_TYPE,
  type ReportResult,
  type ReportSummary,
} from './report-summary.js'

/*
 * FHIR R4 resources carry far more than PCMIMS reads; the schemas below check the subset it reads
 * (types and bounds) and let the rest through untouched (`looseObject`): the file itself is stored
 * byte-for-byte, the summary is only for display.
 */

const MAX_STRING = 64 * 1024
const str = z.string().max(MAX_STRING)
const coding = z.looseObject({ system: str.optional(), code: str.optional(), display: str.optional() })
const codeableConcept = z.looseObject({ text: str.optional(), coding: z.array(coding).max(100).optional() })
const quantitySchema = z.looseObject({
  value: z.number().optional(),
  unit: str.optional(),
  code: str.optional(),
  comparator: z.enum(['<', '<=', '>=', '>']).optional(),
})
const reference = z.looseObject({ reference: str.optional(), display: str.optional() })
const referenceRange = z.looseObject({
  low: quantitySchema.optional(),
  high: quantitySchema.optional(),
  text: str.optional(),
})
const period = z.looseObject({ start: str.optional(), end: str.optional() })

const valueFields = {
  valueQuantity: quantitySchema.optional(),
  valueString: str.optional(),
  valueCodeableConcept: codeableConcept.optional(),
  valueBoolean: z.boolean().optional(),
  valueInteger: z.number().int().optional(),
  interpretation: z.array(codeableConcept).max(20).optional(),
  referenceRange: z.array(referenceRange).max(20).optional(),
}

const observationSchema = z.looseObject({
  resourceType: z.literal('Observation'),
  id: str.optional(),
  status: str,
  code: codeableConcept,
  effectiveDateTime: str.optional(),
  effectivePeriod: period.optional(),
  issued: str.optional(),
  performer: z.array(reference).max(100).optional(),
  ...valueFields,
  component: z
    .array(z.looseObject({ code: codeableConcept, ...valueFields }))
    .max(200)
    .optional(),
})

const diagnosticReportSchema = z.looseObject({
  resourceType: z.literal('DiagnosticReport'),
  id: str.optional(),
  status: str,
  code: codeableConcept,
  effectiveDateTime: str.optional(),
  effectivePeriod: period.optional(),
  issued: str.optional(),
  performer: z.array(reference).max(100).optional(),
  result: z.array(reference).max(REPORT_SUMMARY_LIMITS.maxResults).optional(),
  conclusion: str.optional(),
  contained: z
    .array(z.looseObject({ resourceType: str, id: str.optional() }))
    .max(10_000)
    .optional(),
})

const bundleSchema = z.looseObject({
  resourceType: z.literal('Bundle'),
  entry: z
    .array(
      z.looseObject({ fullUrl: str.optional(), resource: z.looseObject({ resourceType: str }).optional() }),
    )
    .max(10_000)
    .optional(),
})

type Observation = z.infer<typeof observationSchema>
type DiagnosticReport = z.infer<typeof diagnosticReportSchema>
type ObservationValue = Pick<Observation, keyof typeof valueFields> & { code: Observation['code'] }

export type SummarizeFhirParameters = { fileName?: string | undefined }

/**
 * Summarizes a FHIR R4 DiagnosticReport, Observation, or Bundle holding one DiagnosticReport and/or
 * Observations: title, status, effective date, performer, conclusion, and one row per result (each
 * Observation, and each of its components) with value, unit, reference range and interpretation flag —
 * computed from value and range when the resource gives none.
 */
export function summarizeFhir(json: unknown, params: SummarizeFhirParameters = {}): ReportSummary {
  const fail = (problem: string, details?: string) =>
    new ReportError('REPORT_BAD_FHIR', problem, { fileName: params.fileName, details })
  const type =
    typeof json === 'object' && json !== null ? (json as { resourceType?: unknown }).resourceType : undefined
  const parse = <T>(schema: z.ZodType<T>, value: unknown, what: string): T => {
    const result = schema.safeParse(value)
    if (!result.success) {
      const issue = result.error.issues[0]
      throw fail(
        `not a FHIR ${what} PCMIMS can read`,
        issue ? `${issue.path.join('.')}: ${issue.message}` : undefined,
      )
    }
    return result.data
  }

  let report: DiagnosticReport | undefined
  const observations = new Map<string, Observation>()
  const loose: Observation[] = []
  if (type === 'Bundle') {
    const bundle = parse(bundleSchema, json, 'Bundle')
    for (const [index, entry] of (bundle.entry ?? []).entries()) {
      const resource = entry.resource
      if (resource?.resourceType === 'DiagnosticReport') {
        if (report)
          throw fail('the Bundle holds more than one DiagnosticReport; upload one report per record')
        report = parse(diagnosticReportSchema, resource, `DiagnosticReport (entry ${index + 1})`)
      } else if (resource?.resourceType === 'Observation') {
        const observation = parse(observationSchema, resource, `Observation (entry ${index + 1})`)
        loose.push(observation)
        if (entry.fullUrl) observations.set(entry.fullUrl, observation)
        if (observation.id) observations.set(`Observation/${observation.id}`, observation)
      }
    }
    if (!report && loose.length === 0) throw fail('the Bundle holds no DiagnosticReport or Observation')
  } else if (type === 'DiagnosticReport') {
    report = parse(diagnosticReportSchema, json, 'DiagnosticReport')
  } else if (type === 'Observation') {
    loose.push(parse(observationSchema, json, 'Observation'))
  } else {
    throw fail('not a FHIR DiagnosticReport, Observation or Bundle')
  }
  for (const contained of report?.contained ?? []) {
    if (contained.resourceType !== 'Observation' || !contained.id) continue
    observations.set(`#${contained.id}`, parse(observationSchema, contained, 'contained Observation'))
  }

  const results: ReportResult[] = []
  let truncated = 0
  const add = (row: ReportResult) => {
    if (results.length < REPORT_SUMMARY_LIMITS.maxResults) results.push(row)
    else truncated++
  }
  const addObservation = (observation: Observation) => {
    add(rowOf(observation))
    for (const component of observation.component ?? []) add({ ...rowOf(component), level: 1 })
  }
  if (report) {
    for (const ref of report.result ?? []) {
      const observation = ref.reference ? observations.get(ref.reference) : undefined
      if (observation) addObservation(observation)
      else add({ name: clip(ref.display) ?? clip(ref.reference) ?? 'result', value: undefined })
    }
  } else {
    for (const observation of loose) addObservation(observation)
  }
  const head = report ?? loose[0]!
  return dropUndefined({
    type: REPORT_SUMMARY_TYPE,
    format: 'fhir',
    title: conceptText(head.code),
    date: clip(head.effectiveDateTime ?? head.effectivePeriod?.start ?? head.issued),
    status: clip(head.status),
    performer: clip(head.performer?.map((p) => p.display).find((d) => d !== undefined)),
    conclusion: clip(report?.conclusion, REPORT_SUMMARY_LIMITS.maxConclusion),
    results: results.map(dropUndefined),
    truncatedResults: truncated > 0 ? truncated : undefined,
  })
}

function rowOf(observation: ObservationValue): ReportResult {
  const quantity = observation.valueQuantity
  const range = observation.referenceRange?.[0]
  const numericValue = quantity?.value ?? observation.valueInteger
  const unit = clip(quantity?.unit ?? quantity?.code)
  // Range bounds in another unit than the value cannot be compared without unit conversion.
  const sameUnit = (q: z.infer<typeof quantitySchema> | undefined) =>
    q?.value !== undefined &&
    (q.unit ?? q.code ?? unit) === (quantity?.unit ?? quantity?.code ?? q.unit ?? q.code)
  const low = sameUnit(range?.low) ? range?.low?.value : undefined
  const high = sameUnit(range?.high) ? range?.high?.value : undefined
  const reported = observation.interpretation?.[0]
  const reportedFlag = clip(reported?.coding?.find((c) => c.code)?.code ?? reported?.text, 16)
  // A bound that cannot be compared (another unit) makes any computed flag a guess: none then.
  const incomparable = (range?.low && low === undefined) || (range?.high && high === undefined)
  const computed =
    reportedFlag || quantity?.comparator || incomparable ? undefined : computeFlag(numericValue, low, high)
  let value: string | undefined
  if (quantity?.value !== undefined) value = `${quantity.comparator ?? ''}${quantity.value}`
  else if (observation.valueInteger !== undefined) value = String(observation.valueInteger)
  else if (observation.valueString !== undefined) value = clip(observation.valueString)
  else if (observation.valueCodeableConcept) value = conceptText(observation.valueCodeableConcept)
  else if (observation.valueBoolean !== undefined) value = String(observation.valueBoolean)
  return {
    name: conceptText(observation.code) ?? 'result',
    value,
    numericValue: numericValue !== undefined && Number.isFinite(numericValue) ? numericValue : undefined,
    unit,
    low,
    high,
    range: clip(range?.text) ?? rangeText(range),
    flag: reportedFlag ?? computed,
    flagSource: reportedFlag ? 'reported' : computed ? 'computed' : undefined,
  }
}

function rangeText(range: z.infer<typeof referenceRange> | undefined): string | undefined {
  const low = range?.low?.value
  const high = range?.high?.value
  if (low !== undefined && high !== undefined) return `${low}–${high}`
  if (low !== undefined) return `≥ ${low}`
  if (high !== undefined) return `≤ ${high}`
  return undefined
}

function conceptText(concept: z.infer<typeof codeableConcept> | undefined): string | undefined {
  return clip(concept?.text ?? concept?.coding?.find((c) => c.display)?.display ?? concept?.coding?.[0]?.code)
}

/** DAG-CBOR (the manifest's encoding) has no `undefined`: optional fields are left out instead. */
function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
