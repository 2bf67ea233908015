import type { ReactNode } from 'react'
import { describeError } from './errors.js'
import type { AsyncState } from './use-async.js'

export function Loading(props: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {props.label ?? 'Loading…'}
    </div>
  )
}

export function EmptyState(props: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{props.title}</p>
      {props.children}
    </div>
  )
}

export function ErrorNote(props: { error: unknown; onRetry?: (() => void) | undefined }) {
  const { title, detail } = describeError(props.error)
  return (
    <div className="state state-error" role="alert">
      <p className="state-title">{title}</p>
      {detail ? <p>{detail}</p> : null}
      {props.onRetry ? (
        <button type="button" onClick={props.onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  )
}

/** Loading, error or the content, for one `useAsync` state. */
export function AsyncView<T>(props: {
  state: AsyncState<T>
  loadingLabel?: string
  children: (value: T) => ReactNode
}) {
  const { state } = props
  if (state.status === 'loading')
    return <Loading {...(props.loadingLabel ? { label: props.loadingLabel } : {})} />
  if (state.status === 'error') return <ErrorNote error={state.error} onRetry={state.reload} />
  return <>{props.children(state.value)}</>
}
