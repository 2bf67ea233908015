import {
  createContext,
  type ReactNode,
  Suspense,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from 'react'
import type { Hex } from 'viem'
import { Loading } from '../ui/states.js'
import { prefetchImageViewer, RecordViewLoader } from '../viewer/lazy-views.js'
import { markOpening } from '../viewer/marks.js'

// The viewer (Cornerstone3D, codecs, PDF) is a separate bundle: the image viewer's part is prefetched
// while a list of records shows, the report view's when a report opens (viewer/lazy-views.tsx).
const RecordView = RecordViewLoader.Component

export type OpenRecordOptions = {
  /** What the list showed, for the title while the record opens. */
  title?: string | undefined
}

type Opener = (recordId: Hex, options?: OpenRecordOptions) => void

const OpenerContext = createContext<Opener>(() => {
  throw new Error('useRecordOpener outside RecordOpenerProvider')
})

/**
 * Opens a record in the viewer or report view; the record id stays in memory, never in the URL. A
 * screen that can open records also gets the image viewer's code loaded while it is read.
 */
export function useRecordOpener(): Opener {
  useEffect(prefetchImageViewer, [])
  return useContext(OpenerContext)
}

export function RecordOpenerProvider(props: { children: ReactNode }) {
  const [open, setOpen] = useState<{ recordId: Hex; options: OpenRecordOptions } | undefined>()
  const opener = useCallback<Opener>((recordId, options = {}) => {
    // Time to first image counts from the click, the viewer's code loading included.
    markOpening()
    // A history entry of its own (same address: the record is not in it), so Back closes the viewer.
    window.history.pushState({ pcmimsViewer: true }, '', window.location.href)
    setOpen({ recordId, options })
  }, [])
  const close = useCallback(() => {
    if ((window.history.state as { pcmimsViewer?: boolean } | null)?.pcmimsViewer) window.history.back()
    else setOpen(undefined)
  }, [])
  useEffect(() => {
    const onPop = () => setOpen(undefined)
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])
  const value = useMemo(() => opener, [opener])
  return (
    <OpenerContext.Provider value={value}>
      {props.children}
      {open ? (
        <Suspense fallback={<Loading label="Loading the viewer…" />}>
          <RecordView recordId={open.recordId} title={open.options.title} onClose={close} />
        </Suspense>
      ) : null}
    </OpenerContext.Provider>
  )
}
