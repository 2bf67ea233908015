import {
  createContext,
  lazy,
  type ReactNode,
  Suspense,
  useCallback,
  useContext,
  useMemo,
  useState,
} from 'react'
import type { Hex } from 'viem'
import { Loading } from '../ui/states.js'

// The viewer (Cornerstone3D, codecs, PDF) is a separate bundle, fetched the first time a record opens.
const RecordView = lazy(() => import('../viewer/record-view.js'))

export type OpenRecordOptions = {
  /** What the list showed, for the title while the record opens. */
  title?: string | undefined
}

type Opener = (recordId: Hex, options?: OpenRecordOptions) => void

const OpenerContext = createContext<Opener>(() => {
  throw new Error('useRecordOpener outside RecordOpenerProvider')
})

/** Opens a record in the viewer or report view; the record id stays in memory, never in the URL. */
export function useRecordOpener(): Opener {
  return useContext(OpenerContext)
}

export function RecordOpenerProvider(props: { children: ReactNode }) {
  const [open, setOpen] = useState<{ recordId: Hex; options: OpenRecordOptions } | undefined>()
  const opener = useCallback<Opener>((recordId, options = {}) => setOpen({ recordId, options }), [])
  const close = useCallback(() => setOpen(undefined), [])
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
