import { GlobalWorkerOptions, getDocument, type PDFDocumentProxy } from 'pdfjs-dist'
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url'
import { useEffect, useRef, useState } from 'react'
import { describeError } from '../ui/errors.js'
import { Loading } from '../ui/states.js'

// The worker and the font and codec files are the portal's own assets, never a CDN.
GlobalWorkerOptions.workerSrc = workerUrl
const ASSETS = `${import.meta.env.BASE_URL}pdfjs/`

/** A PDF drawn page by page into canvases, from bytes decrypted in the browser. */
export function PdfView(props: { bytes: Uint8Array; label: string }) {
  const containerRef = useRef<HTMLDivElement>(null)
  const [state, setState] = useState<
    | { status: 'loading' }
    | { status: 'error'; error: unknown }
    | { status: 'ready'; pages: number; text: string[] }
  >({ status: 'loading' })

  useEffect(() => {
    const container = containerRef.current
    if (!container) return
    let cancelled = false
    let pdf: PDFDocumentProxy | undefined
    // pdf.js takes ownership of the buffer it is given; it gets a copy so the caller's stays whole.
    const task = getDocument({
      data: props.bytes.slice(),
      isEvalSupported: false,
      enableXfa: false,
      standardFontDataUrl: `${ASSETS}standard_fonts/`,
      wasmUrl: `${ASSETS}wasm/`,
      iccUrl: `${ASSETS}iccs/`,
      cMapUrl: `${ASSETS}cmaps/`,
    })
    ;(async () => {
      pdf = await task.promise
      const width = Math.max(280, container.clientWidth || 800)
      const ratio = window.devicePixelRatio || 1
      const text: string[] = []
      container.replaceChildren()
      for (let n = 1; n <= pdf.numPages; n++) {
        const page = await pdf.getPage(n)
        if (cancelled) return
        const base = page.getViewport({ scale: 1 })
        const viewport = page.getViewport({ scale: (Math.min(width, 1000) / base.width) * ratio })
        const canvas = document.createElement('canvas')
        canvas.width = Math.floor(viewport.width)
        canvas.height = Math.floor(viewport.height)
        canvas.className = 'pdf-page'
        canvas.setAttribute('role', 'img')
        canvas.setAttribute('aria-label', `${props.label}, page ${n} of ${pdf.numPages}`)
        container.append(canvas)
        await page.render({ canvas, viewport }).promise
        const content = await page.getTextContent()
        text.push(content.items.map((item) => ('str' in item ? item.str : '')).join(' '))
      }
      if (!cancelled) setState({ status: 'ready', pages: pdf.numPages, text })
    })().catch((error: unknown) => {
      if (!cancelled) setState({ status: 'error', error })
    })
    return () => {
      cancelled = true
      void task.destroy()
      container.replaceChildren()
    }
  }, [props.bytes, props.label])

  return (
    <div className="pdf-view">
      {state.status === 'loading' ? <Loading label="Drawing the PDF…" /> : null}
      {state.status === 'error' ? (
        <div className="state state-error" role="alert">
          <p className="state-title">The PDF could not be shown</p>
          <p>{describeError(state.error).title}</p>
        </div>
      ) : null}
      <div ref={containerRef} className="pdf-pages" />
      {state.status === 'ready' && state.text.some((t) => t.trim()) ? (
        <details className="pdf-text">
          <summary>Text of the report</summary>
          {state.text.map((t, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: one entry per page, in page order
            <p key={i}>
              <strong>Page {i + 1}:</strong> {t}
            </p>
          ))}
        </details>
      ) : null}
    </div>
  )
}
