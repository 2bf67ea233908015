import { useCallback, useState } from 'react'

export type Action = {
  busy: boolean
  error: unknown
  /** Runs one user action: busy while it runs, its error kept for the page to show (cleared on the next run). */
  run(task: () => Promise<void>): Promise<void>
}

/** The state of a button's action (send to the chain, resolve, discard…), the same on every page. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const run = useCallback(async (task: () => Promise<void>) => {
    setBusy(true)
    setError(undefined)
    try {
      await task()
    } catch (caught) {
      setError(caught)
    } finally {
      // A dialog closed by the task is gone by now; React ignores state set on it.
      setBusy(false)
    }
  }, [])
  return { busy, error, run }
}
