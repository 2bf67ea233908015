import { MAX_EMERGENCY_DURATION, Purpose, RECORD_KINDS, type RecordKind } from '@pcmims/core'
import { UsageError } from './io.js'

// DICOM modality codes people type for a kind; only these are mapped, anything else must be a kind name.
const KIND_ALIASES: Record<string, RecordKind> = {
  MR: 'MRI',
  'X-RAY': 'XRAY',
  DX: 'XRAY',
  CR: 'XRAY',
  XA: 'XRAY',
  RF: 'XRAY',
  MG: 'XRAY',
}

export const KIND_NOTE =
  `${RECORD_KINDS.join(', ')} (any case); also the DICOM modality codes\n` +
  'MR (= MRI) and DX, CR, XA, RF, MG (= XRAY)'

export function parseKind(value: string | undefined): RecordKind {
  const upper = value?.trim().toUpperCase() ?? ''
  const kind = KIND_ALIASES[upper] ?? upper
  if (!(RECORD_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(
      value ? `Unknown kind: ${value}` : '--kind is required',
      `use one of ${RECORD_KINDS.join(', ')}, or a modality code ${Object.keys(KIND_ALIASES).join(', ')}`,
    )
  }
  return kind as RecordKind
}

const PURPOSES = Object.keys(Purpose) as Purpose[]

export const PURPOSE_NOTE = PURPOSES.join(', ').toLowerCase()

export function parsePurpose(value: string | undefined): Purpose {
  const purpose = PURPOSES.find((p) => p.toLowerCase() === value?.trim().toLowerCase())
  if (!purpose) throw new UsageError(`--purpose must be one of ${PURPOSE_NOTE}`)
  return purpose
}

/**
 * Emergency reason codes. The chain stores any code 0-255 and leaves its meaning to the application;
 * this is the CLI's table, which the patient's view uses to name the reason.
 */
export const REASON_CODES = ['unspecified', 'unconscious', 'trauma', 'cardiac', 'stroke', 'other'] as const

export const REASON_NOTE = REASON_CODES.map((name, code) => `${code} ${name}`).join(', ')

export function parseReason(value: string | undefined): number {
  const text = value?.trim().toLowerCase() ?? ''
  const code = /^\d+$/.test(text) ? Number(text) : (REASON_CODES as readonly string[]).indexOf(text)
  if (code < 0 || code >= REASON_CODES.length) {
    throw new UsageError(
      text ? `Unknown reason: ${value}` : '--reason is required',
      `use a code or a name: ${REASON_NOTE}`,
    )
  }
  return code
}

/** The table's name for a reason code, or `code N` for one the table does not know. */
export function reasonName(code: number): string {
  return REASON_CODES[code] ?? `code ${code}`
}

export const EMERGENCY_DURATION_NOTE = `e.g. 90m or 2h; default 2h, at most ${MAX_EMERGENCY_DURATION / 3600}h`

/** A calendar date `YYYY-MM-DD` that exists (no 2026-02-30). */
export function parseDate(value: string, option: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  const [year, month, day] = (match ?? []).slice(1).map(Number) as [number, number, number]
  const date = match ? new Date(Date.UTC(year, month - 1, day)) : undefined
  if (
    !date ||
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day
  )
    throw new UsageError(`${option} must be a date YYYY-MM-DD`, `got ${value}`)
  return value
}
