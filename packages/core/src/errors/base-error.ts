export type BaseErrorParameters = {
  /** Extra facts for a human or a log line; never PHI. */
  details?: string | undefined
  cause?: unknown
  /** Stable machine-readable code, e.g. `ACCESS_DENIED`. */
  code?: string | undefined
}

/**
 * Root of every error PCMIMS throws on purpose. The message is short and safe to show a user; `details`
 * adds context; `code` is stable for programs (the CLI's `--json` errors and the HTTP problem bodies use it).
 */
export class BaseError extends Error {
  override name = 'PcmimsError'
  readonly code: string
  readonly shortMessage: string
  readonly details: string | undefined

  constructor(shortMessage: string, params: BaseErrorParameters = {}) {
    super(params.details ? `${shortMessage}\n\nDetails: ${params.details}` : shortMessage, {
      cause: params.cause,
    })
    this.shortMessage = shortMessage
    this.details = params.details
    this.code = params.code ?? 'PCMIMS_ERROR'
  }

  /** Walks the cause chain and returns the first error matching `predicate`. */
  walk(predicate: (error: unknown) => boolean): unknown {
    let current: unknown = this
    while (current) {
      if (predicate(current)) return current
      current = current instanceof Error ? current.cause : undefined
    }
    return undefined
  }
}
