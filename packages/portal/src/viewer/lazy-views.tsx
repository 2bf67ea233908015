import { type ComponentType, lazy } from 'react'

type Loader<P extends object> = {
  /** Renders the view: directly once its code is in, through Suspense (lazy) before that. */
  Component: ComponentType<P>
  /** Loads the view's code; later renders then never suspend. */
  preload: () => Promise<unknown>
}

/**
 * A code-split view that can be loaded ahead of time. `React.lazy` alone suspends on its first render
 * even when the code is already in, and React then holds the fallback on screen for its reveal
 * throttle (300 ms): a view loaded ahead of time is rendered as a plain component instead.
 */
function preloadable<P extends object>(load: () => Promise<{ default: ComponentType<P> }>): Loader<P> {
  let loaded: ComponentType<P> | undefined
  let loading: Promise<{ default: ComponentType<P> }> | undefined
  const preload = () => {
    loading ??= load().then(
      (module) => {
        loaded = module.default
        return module
      },
      (error: unknown) => {
        // A failed load (network) is tried again next time.
        loading = undefined
        throw error
      },
    )
    return loading
  }
  const Lazy = lazy(preload) as unknown as ComponentType<P>
  // biome-ignore lint/correctness/noComponentHookFactories: made once per view at module level, below
  function Component(props: P) {
    const View = loaded ?? Lazy
    return <View {...props} />
  }
  return { Component, preload }
}

/** The record view (chain check, key, manifest) around the image viewer or the report view. */
export const RecordViewLoader = preloadable(() => import('./record-view.js'))
/** Cornerstone3D and the image viewer: a few MB of script. */
export const DicomViewerLoader = preloadable(() => import('./dicom-viewer.js'))
/** pdf.js and the report view: loaded when a report opens. */
export const ReportViewLoader = preloadable(() => import('../reports/report-view.js'))

let prefetching = false

/**
 * Loads the image viewer's code and starts Cornerstone (loaders, decode worker) while the person reads
 * a list of records, so that a click on "Open …" waits only for the chain check and the first file.
 * Once per page, when the browser is idle; not when it asks to save data. Touches no record and no key.
 */
export function prefetchImageViewer(): void {
  if (prefetching) return
  const connection = (navigator as { connection?: { saveData?: boolean } }).connection
  if (connection?.saveData) return
  prefetching = true
  void (async () => {
    await idle()
    await RecordViewLoader.preload()
    await idle()
    await DicomViewerLoader.preload()
    await idle()
    const { initCornerstone } = await import('./cornerstone.js')
    await initCornerstone()
  })().catch(() => {
    // A failed prefetch costs nothing: opening a record loads the same code again.
    prefetching = false
  })
}

function idle(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof requestIdleCallback === 'function') requestIdleCallback(() => resolve(), { timeout: 2000 })
    else setTimeout(resolve, 200)
  })
}
