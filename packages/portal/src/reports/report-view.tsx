import type { ManifestFile, OpenedRecord, ReportSummary } from '@pcmims/core'
import { useEffect, useState } from 'react'
import { useSession } from '../session/session-context.js'
import { describeError } from '../ui/errors.js'
import { formatDate } from '../ui/format.js'
import { Loading } from '../ui/states.js'
import { DownloadNote } from '../viewer/access-note.js'
import { FileList } from '../viewer/file-list.js'
import { readFileBytes, saveBytes } from '../viewer/read-file.js'
import { LabTable } from './lab-table.js'
import { PdfView } from './pdf-view.js'

const FORMAT_LABELS: Record<ReportSummary['format'], string> = {
  pdf: 'PDF report',
  fhir: 'Lab results (FHIR)',
  'dicom-sr': 'Structured report (DICOM SR)',
  'dicom-pdf': 'PDF report (DICOM encapsulated)',
}

/** A report: its summary from the sealed manifest, the PDF drawn in the browser, lab results as a table. */
export default function ReportView(props: { record: OpenedRecord }) {
  const { client } = useSession()
  const { record } = props
  const { manifest } = record
  const summary = manifest.report
  const files = manifest.files
  const pdfFile = files.find((f) => f.mediaType === 'application/pdf')
  const original = (summary?.path && files.find((f) => f.path === summary.path)) || files[0]
  const [busy, setBusy] = useState<string | undefined>()
  const [note, setNote] = useState<string | undefined>()

  if (!summary && !pdfFile) return <FileList record={record} />

  const download = async (file: ManifestFile) => {
    setBusy(`Decrypting ${file.path}…`)
    try {
      saveBytes(
        await readFileBytes(client, record, file),
        file.path.split('/').pop() ?? 'report',
        file.mediaType,
      )
      setNote(`${file.path} downloaded.`)
    } catch (error) {
      setNote(`Download failed: ${describeError(error).title}`)
    } finally {
      setBusy(undefined)
    }
  }

  const actions = [
    ...(original ? [{ label: 'Download report (original file)', run: () => download(original) }] : []),
    ...(pdfFile && pdfFile !== original ? [{ label: 'Download PDF', run: () => download(pdfFile) }] : []),
  ]
  const showPdf = pdfFile && (!summary || summary.format === 'pdf' || summary.format === 'dicom-pdf')
  const facts: Array<[string, string | undefined]> = summary
    ? [
        ['Type', FORMAT_LABELS[summary.format]],
        ['Status', summary.status],
        ['Date', summary.date ? formatDate(summary.date) : undefined],
        ['Performed by', summary.performer],
      ]
    : [['Type', 'PDF']]

  return (
    <article className="report-view" aria-labelledby="record-view-title">
      <dl className="facts report-facts">
        {facts
          .filter(([, value]) => value)
          .map(([label, value]) => (
            <div key={label} className="fact">
              <dt>{label}</dt>
              <dd>{label === 'Status' ? <span className="badge">{value}</span> : value}</dd>
            </div>
          ))}
      </dl>
      {summary?.conclusion ? (
        <section className="report-conclusion">
          <h3>Conclusion</h3>
          <p>{summary.conclusion}</p>
        </section>
      ) : null}
      {summary?.format === 'fhir' && summary.results.length > 0 ? (
        <LabTable results={summary.results} truncated={summary.truncatedResults} />
      ) : null}
      {summary?.format === 'dicom-sr' ? <StructuredReport summary={summary} /> : null}
      {showPdf ? <DecryptedPdf record={record} file={pdfFile} /> : null}
      {summary?.format === 'fhir' && summary.results.length === 0 ? (
        <p className="hint">This report carries no results.</p>
      ) : null}
      <DownloadNote access={record.access} busy={busy} note={note} actions={actions} />
    </article>
  )
}

/** A DICOM SR's content tree as indented text; measurements with a range also get a flag. */
function StructuredReport(props: { summary: ReportSummary }) {
  const rows = props.summary.results
  if (rows.length === 0) return <p className="hint">This structured report has no content items.</p>
  return (
    <section className="sr-content" aria-labelledby="sr-title">
      <h3 id="sr-title">Report content</h3>
      <ul>
        {rows.map((row, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: content items have no id and never reorder
          <li key={index} style={{ marginLeft: `${(row.level ?? 0) * 1.25}rem` }}>
            <strong>{row.name}</strong>
            {row.value !== undefined ? `: ${row.value}` : ''}
            {row.unit ? ` ${row.unit}` : ''}
            {row.flag && row.flag !== 'N' ? <span className="badge badge-danger"> {row.flag}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  )
}

function DecryptedPdf(props: { record: OpenedRecord; file: ManifestFile }) {
  const { client } = useSession()
  const { record, file } = props
  const [state, setState] = useState<
    { status: 'loading' } | { status: 'error'; error: unknown } | { status: 'ready'; bytes: Uint8Array }
  >({ status: 'loading' })
  useEffect(() => {
    const controller = new AbortController()
    readFileBytes(client, record, file, controller.signal).then(
      (bytes) => setState({ status: 'ready', bytes }),
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ status: 'error', error })
      },
    )
    return () => controller.abort()
  }, [client, record, file])
  if (state.status === 'loading') return <Loading label="Decrypting the PDF in your browser…" />
  if (state.status === 'error')
    return (
      <div className="state state-error" role="alert">
        <p className="state-title">The PDF could not be decrypted</p>
        <p>{describeError(state.error).title}</p>
      </div>
    )
  return <PdfView bytes={state.bytes} label="Report" />
}
