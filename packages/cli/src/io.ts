import { BaseError } from '@pcmims/core'

export type Io = {
  json: boolean
  out(text: string): void
  err(text: string): void
  /** A single JSON document on stdout (with --json) or the human text. */
  result(value: unknown, human: () => string): void
  /** Progress on a terminal only, never with --json. */
  progress(text: string): void
  progressDone(): void
}

export function createIo(json: boolean): Io {
  const tty = Boolean(process.stderr.isTTY) && !json
  let progressShown = false
  return {
    json,
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    result(value, human) {
      if (json) process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`)
      else process.stdout.write(`${human()}\n`)
    },
    progress(text) {
      if (!tty) return
      progressShown = true
      process.stderr.write(`\r\x1b[2K${text}`)
    },
    progressDone() {
      if (progressShown) process.stderr.write('\r\x1b[2K')
      progressShown = false
    },
  }
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}

/** A usage mistake: wrong or missing flags. */
export class UsageError extends BaseError {
  override name = 'UsageError'
  constructor(message: string, details?: string) {
    super(message, { code: 'USAGE', details })
  }
}

/** The account, grant or request is already in the state asked for: nothing was sent. */
export class AlreadyDoneError extends BaseError {
  override name = 'AlreadyDoneError'
  constructor(message: string, details?: string) {
    super(message, { code: 'ALREADY_DONE', details })
  }
}

/** What the command names does not exist. */
export class NotFoundError extends BaseError {
  override name = 'NotFoundError'
  constructor(message: string, details?: string) {
    super(message, { code: 'NOT_FOUND', details })
  }
}

export function reportError(io: Io, error: unknown): number {
  const base = error instanceof BaseError ? error : undefined
  const code = base?.code ?? 'INTERNAL'
  const message = base?.shortMessage ?? (error instanceof Error ? error.message : String(error))
  const details = base?.details
  if (io.json) {
    process.stderr.write(`${JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } })}\n`)
  } else {
    process.stderr.write(`error: ${message}${details ? `\n  ${details}` : ''}\n`)
    if (code === 'INTERNAL' && process.env.PCMIMS_DEBUG && error instanceof Error)
      process.stderr.write(`${error.stack}\n`)
  }
  return code === 'USAGE' ? 2 : 1
}
