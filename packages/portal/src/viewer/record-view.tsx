import {
  AccessDeniedError,
  closeRecord,
  NoKeyForRecipientError,
  type OpenedRecord,
  openRecord,
} from '@pcmims/core'
import { type KeyboardEvent, Suspense, useEffect, useRef, useState } from 'react'
import type { Hex } from 'viem'
import { useSession } from '../session/session-context.js'
import { describeError } from '../ui/errors.js'
import { formatDate } from '../ui/format.js'
import { Loading } from '../ui/states.js'
import { FileList } from './file-list.js'
import { DicomViewerLoader, ReportViewLoader } from './lazy-views.js'
import { markOpening, markPhase } from './marks.js'
import { seriesOf } from './series.js'

// Cornerstone (images) and pdf.js (reports) are separate bundles: a report never loads the image stack.
const DicomViewer = DicomViewerLoader.Component
const ReportView = ReportViewLoader.Component

export type RecordViewProps = { recordId: Hex; title?: string | undefined; onClose: () => void }

type State =
  | { status: 'opening' }
  | { status: 'denied'; title: string; detail: string }
  | { status: 'error'; error: unknown }
  | { status: 'open'; record: OpenedRecord }

/**
 * A record opened in the browser: the chain says whether this account may read it, the record key is
 * unwrapped here, and every file is decrypted here. Closing the view zeroes the key.
 */
export default function RecordView(props: RecordViewProps) {
  const { client } = useSession()
  const { recordId, onClose } = props
  const [state, setState] = useState<State>({ status: 'opening' })
  const [round, setRound] = useState(0)
  const dialogRef = useRef<HTMLDivElement>(null)
  const closeRef = useRef<HTMLButtonElement>(null)

  // `round` re-opens on "Try again".
  useEffect(() => {
    // The opener marked the click; "Try again" is a new opening.
    if (round > 0 || performance.getEntriesByName('pcmims:open-record', 'mark').length === 0) markOpening()
    markPhase('pcmims:record-view')
    const controller = new AbortController()
    let opened: OpenedRecord | undefined
    setState({ status: 'opening' })
    openRecord(client, { recordId, signal: controller.signal }).then(
      (record) => {
        if (controller.signal.aborted) closeRecord(record)
        else {
          opened = record
          markPhase('pcmims:record-opened')
          setState({ status: 'open', record })
        }
      },
      (error: unknown) => {
        if (controller.signal.aborted) return
        const denied = deniedReason(error)
        setState(denied ? { status: 'denied', ...denied } : { status: 'error', error })
      },
    )
    return () => {
      controller.abort()
      if (opened) closeRecord(opened)
    }
  }, [client, recordId, round])

  // Focus into the dialog, back where it was on close.
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null
    closeRef.current?.focus()
    // The page behind neither scrolls nor makes the document taller than the dialog.
    document.documentElement.classList.add('record-view-open')
    return () => {
      document.documentElement.classList.remove('record-view-open')
      before?.focus?.()
    }
  }, [])

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Escape') {
      event.stopPropagation()
      onClose()
    } else if (event.key === 'Tab') {
      trapFocus(event, dialogRef.current)
    }
  }

  const manifest = state.status === 'open' ? state.record.manifest : undefined
  const heading = manifest?.report?.title ?? manifest?.description ?? props.title ?? 'Record'
  const isReport = manifest ? manifest.kind === 'REPORT' || manifest.report !== undefined : false

  return (
    <div
      ref={dialogRef}
      className="record-view"
      role="dialog"
      aria-modal="true"
      aria-labelledby="record-view-title"
      onKeyDown={onKeyDown}
    >
      <div className="record-view-header">
        <div className="record-view-heading">
          <h2 id="record-view-title">{heading}</h2>
          {manifest ? (
            <p className="hint">
              {[
                kindLabel(manifest.kind),
                formatDate(manifest.date),
                manifest.appointment ? `appointment ${manifest.appointment}` : undefined,
                state.status === 'open' ? accessLabel(state.record) : undefined,
              ]
                .filter(Boolean)
                .join(' · ')}
            </p>
          ) : null}
        </div>
        <button ref={closeRef} type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <div className="record-view-body">
        {state.status === 'opening' ? (
          <Loading label="Checking access on the chain and unlocking the record…" />
        ) : state.status === 'denied' ? (
          <div className="state state-error" role="alert">
            <p className="state-title">{state.title}</p>
            <p>{state.detail}</p>
          </div>
        ) : state.status === 'error' ? (
          <div className="state state-error" role="alert">
            <p className="state-title">The record could not be opened</p>
            <p>{describeError(state.error).title}</p>
            <button type="button" onClick={() => setRound((n) => n + 1)}>
              Try again
            </button>
          </div>
        ) : (
          <Suspense
            fallback={<Loading label={isReport ? 'Loading the report view…' : 'Loading the image viewer…'} />}
          >
            {isReport ? (
              <ReportView record={state.record} />
            ) : seriesOf(state.record.manifest).length > 0 ? (
              <DicomViewer record={state.record} />
            ) : (
              <FileList record={state.record} />
            )}
          </Suspense>
        )}
      </div>
    </div>
  )
}

/** Why the chain or the key said no, in words for the person looking. */
function deniedReason(error: unknown): { title: string; detail: string } | undefined {
  if (error instanceof AccessDeniedError) {
    if (error.code === 'DEIDENTIFIED_ONLY')
      return {
        title: 'The patient allowed de-identified copies only',
        detail:
          'This is the original record. The de-identified copies made for you are listed with your records.',
      }
    if (error.code === 'CHAIN_UNAVAILABLE')
      return {
        title: 'Access could not be checked',
        detail: 'The chain did not answer, and records are never opened without that check. Try again later.',
      }
    return {
      title: 'No access to this record',
      detail: error.details
        ? `The chain refused: ${error.details}. If the patient revoked or let the grant expire, ask them again.`
        : 'The chain refused: no grant, or an expired or revoked one.',
    }
  }
  if (error instanceof NoKeyForRecipientError)
    return {
      title: 'No key for you on this record',
      detail:
        'The grant exists but the record key was not shared with your account. Ask the patient to grant again.',
    }
  return undefined
}

function kindLabel(kind: string): string {
  return (
    { MRI: 'MRI', CT: 'CT', XRAY: 'X-ray', US: 'Ultrasound', REPORT: 'Report', OTHER: 'Other' }[kind] ?? kind
  )
}

function accessLabel(record: OpenedRecord): string {
  return record.access.download ? 'view and download' : 'view only'
}

function trapFocus(event: KeyboardEvent, root: HTMLElement | null): void {
  if (!root) return
  const focusable = [
    ...root.querySelectorAll<HTMLElement>(
      'button:not([disabled]), [href], input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])',
    ),
  ].filter((el) => el.offsetParent !== null)
  const first = focusable[0]
  const last = focusable[focusable.length - 1]
  if (!first || !last) return
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault()
    last.focus()
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault()
    first.focus()
  }
}
