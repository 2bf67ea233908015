import { type DependencyList, useCallback, useEffect, useState } from 'react'

export type AsyncState<T> =
  | { status: 'loading'; reload: () => void }
  | { status: 'error'; error: unknown; reload: () => void }
  | { status: 'ready'; value: T; reload: () => void }

/** Runs `load` when `deps` change (aborting the previous run) and on `reload()`. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): AsyncState<T> {
  const [round, setRound] = useState(0)
  const [state, setState] = useState<
    { status: 'loading' } | { status: 'error'; error: unknown } | { status: 'ready'; value: T }
  >({
    status: 'loading',
  })
  const reload = useCallback(() => setRound((n) => n + 1), [])
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what `load` depends on
  useEffect(() => {
    const controller = new AbortController()
    setState((previous) => (previous.status === 'ready' ? previous : { status: 'loading' }))
    load(controller.signal).then(
      (value) => {
        if (!controller.signal.aborted) setState({ status: 'ready', value })
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ status: 'error', error })
      },
    )
    return () => controller.abort()
  }, [...deps, round])
  return { ...state, reload } as AsyncState<T>
}
