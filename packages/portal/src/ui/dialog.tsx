import { type ReactNode, useEffect, useId, useRef } from 'react'

const FOCUSABLE =
  'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'

/**
 * A modal dialog: focus moves in (to the first field, else the first button), Tab stays
 * inside, Escape closes unless busy, and focus returns to what opened it. `alert` makes it an alertdialog:
 * a confirmation whose answer has consequences.
 */
export function Dialog(props: {
  title: string
  onClose: () => void
  children: ReactNode
  className?: string | undefined
  alert?: boolean | undefined
  busy?: boolean | undefined
}) {
  const id = useId()
  const ref = useRef<HTMLDivElement>(null)
  const onClose = useRef(props.onClose)
  onClose.current = props.onClose
  const busy = useRef(props.busy)
  busy.current = props.busy
  const alert = !!props.alert

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null
    const dialog = ref.current
    // A confirmation is read first (focus on the dialog, not on its consequential button); a form starts at its field.
    const first = alert
      ? undefined
      : dialog?.querySelector<HTMLElement>('input:not([disabled]), select, textarea')
    ;(first ?? dialog)?.focus()
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !busy.current) {
        event.stopPropagation()
        onClose.current()
      }
      if (event.key === 'Tab' && dialog) {
        const items = [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)]
        const firstItem = items[0]
        const lastItem = items[items.length - 1]
        if (!firstItem || !lastItem) return
        if (event.shiftKey && document.activeElement === firstItem) {
          event.preventDefault()
          lastItem.focus()
        } else if (!event.shiftKey && document.activeElement === lastItem) {
          event.preventDefault()
          firstItem.focus()
        }
      }
    }
    document.addEventListener('keydown', onKey)
    return () => {
      document.removeEventListener('keydown', onKey)
      opener?.focus?.()
    }
  }, [alert])

  const body = (
    <>
      <h2 id={`${id}-title`}>{props.title}</h2>
      {props.children}
    </>
  )
  return (
    <div className="overlay">
      {props.alert ? (
        <div
          ref={ref}
          className={`dialog ${props.className ?? ''}`}
          role="alertdialog"
          aria-modal="true"
          aria-labelledby={`${id}-title`}
          tabIndex={-1}
        >
          {body}
        </div>
      ) : (
        <div
          ref={ref}
          className={`dialog ${props.className ?? ''}`}
          role="dialog"
          aria-modal="true"
          aria-labelledby={`${id}-title`}
          tabIndex={-1}
        >
          {body}
        </div>
      )}
    </div>
  )
}
