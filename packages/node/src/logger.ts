import { type Logger, pino } from 'pino'

/**
 * Keys whose values may carry PHI or secrets anywhere in a log object. File names are included:
 * DICOM exports often name files after the patient.
 */
export const REDACTED_KEYS = [
  'name',
  'patientName',
  'mrn',
  'birthDate',
  'appointment',
  'description',
  'path',
  'fileName',
  'passphrase',
  'privateKey',
  'authorization',
  'cookie',
  'token',
  'signature',
  'manifest',
] as const

export type CreateLoggerParameters = { level?: string; destination?: NodeJS.WritableStream }

/** The node's one logger: JSON lines, PHI-bearing keys censored at any depth (two levels of nesting). */
export function createLogger({ level = 'info', destination }: CreateLoggerParameters = {}): Logger {
  const paths = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`])
  const options = { level, redact: { paths, censor: '[redacted]' }, base: { service: 'pcmims-node' } }
  return destination ? pino(options, destination as never) : pino(options)
}

export type { Logger }
