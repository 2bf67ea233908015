/** A sentence for a person, from any error: the node's problem title and detail, or the error's message. */
export function describeError(error: unknown): { title: string; detail?: string } {
  if (error && typeof error === 'object') {
    const e = error as { shortMessage?: unknown; message?: unknown; details?: unknown; name?: unknown }
    const title =
      typeof e.shortMessage === 'string'
        ? e.shortMessage
        : typeof e.message === 'string'
          ? e.message
          : 'Something went wrong'
    const detail = typeof e.details === 'string' && e.details !== title ? e.details : undefined
    return detail ? { title: firstLine(title), detail } : { title: firstLine(title) }
  }
  return { title: String(error) }
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? text
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}
