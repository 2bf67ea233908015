import { type DragEvent, type FormEvent, useCallback, useEffect, useId, useRef, useState } from 'react'
import type { Address } from 'viem'
import { useSession } from '../../session/session-context.js'
import { formatBytes } from '../../ui/format.js'
import { EmptyState, ErrorNote, Loading } from '../../ui/states.js'
import { PatientAddressField } from '../common/patient-address-field.js'
import { KIND_NAMES } from '../common/request-access.js'
import { collectDicom, filesFromDrop, filesFromInput, type PickedFile } from './collect-files.js'
import type {
  DicomScan,
  FileProblem,
  ReportPreview,
  StudyPreview,
  UploadedItem,
  UploadProgressEvent,
} from './upload-work.js'

// The DICOM parser, the report readers and the upload itself load with this page's first use.
const work = () => import('./upload-work.js')

type Mode = 'dicom' | 'report'

type Scan =
  | { state: 'idle' }
  | { state: 'scanning'; done: number; total: number }
  | { state: 'failed'; error: unknown }
  | { state: 'dicom'; scan: DicomScan; notes: string[] }
  | { state: 'report'; reports: ReportPreview[]; problems: FileProblem[] }

/** What is being sent: one entry per study or report, each with its source files. */
type Item = { label: string; bytes: number; files: Array<{ source: string; size: number }> }

type Progress = {
  items: Item[]
  /** Bytes sent per item, and per source file. */
  itemBytes: number[]
  fileBytes: Map<string, number>
  current?: { item: number; source: string } | undefined
}

/** Radiologist / lab: encrypt a study or reports in this browser for a patient, store and anchor them. */
export function UploadStudy() {
  const { client } = useSession()
  const id = useId()
  const [mode, setMode] = useState<Mode>('dicom')
  const [patient, setPatient] = useState<Address | undefined>()
  const [appointment, setAppointment] = useState('')
  const [description, setDescription] = useState('')
  const [picked, setPicked] = useState<PickedFile[]>([])
  const [excluded, setExcluded] = useState<ReadonlySet<string>>(new Set())
  const [scan, setScan] = useState<Scan>({ state: 'idle' })
  const [phase, setPhase] = useState<'prepare' | 'uploading' | 'done'>('prepare')
  const [progress, setProgress] = useState<Progress | undefined>()
  const [results, setResults] = useState<UploadedItem[]>([])
  const [uploadError, setUploadError] = useState<unknown>()
  const [formKey, setFormKey] = useState(0)
  const abort = useRef<AbortController | undefined>(undefined)
  const onPatient = useCallback((value: Address | undefined) => setPatient(value), [])

  // Every change of the files (or of what is left out) is read again, exactly as the upload will read it.
  useEffect(() => {
    const active = picked.filter((p) => !excluded.has(p.path))
    if (active.length === 0) {
      setScan({ state: 'idle' })
      return
    }
    const controller = new AbortController()
    setScan({ state: 'scanning', done: 0, total: active.length })
    void (async () => {
      const { scanDicom, scanReports } = await work()
      if (mode === 'report') {
        const { reports, problems } = await scanReports(active)
        return { state: 'report' as const, reports, problems }
      }
      const collected = await collectDicom(active, controller.signal)
      const kept = collected.files.filter((f) => !excluded.has(f.path))
      const result = await scanDicom(kept, {
        signal: controller.signal,
        onFile: (done, total) => {
          if (!controller.signal.aborted) setScan({ state: 'scanning', done, total })
        },
      })
      return { state: 'dicom' as const, scan: result, notes: collected.notes }
    })().then(
      (next) => {
        if (!controller.signal.aborted) setScan(next)
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setScan({ state: 'failed', error })
      },
    )
    return () => controller.abort()
  }, [picked, excluded, mode])

  const problems = scan.state === 'dicom' ? scan.scan.problems : scan.state === 'report' ? scan.problems : []
  const count =
    scan.state === 'dicom' ? scan.scan.studies.length : scan.state === 'report' ? scan.reports.length : 0
  const blocked = problems.length > 0 || (scan.state === 'dicom' && !!scan.scan.groupError)
  const ready = !!patient && count > 0 && !blocked && phase === 'prepare'

  function addFiles(files: PickedFile[]) {
    if (files.length === 0) return
    setPicked((now) => {
      const known = new Set(now.map((p) => p.path))
      return [...now, ...files.filter((f) => !known.has(f.path))]
    })
  }

  /** "Clear files": the files go, the patient and the appointment stay for the next pick. */
  function clearFiles() {
    setPicked([])
    setExcluded(new Set())
  }

  function reset() {
    clearFiles()
    setResults([])
    setProgress(undefined)
    setUploadError(undefined)
    setPhase('prepare')
    setAppointment('')
    setDescription('')
    setFormKey((n) => n + 1)
  }

  async function upload(event: FormEvent) {
    event.preventDefault()
    if (!patient || !ready) return
    const controller = new AbortController()
    abort.current = controller
    setPhase('uploading')
    setUploadError(undefined)
    setResults([])
    const items: Item[] =
      scan.state === 'dicom'
        ? scan.scan.studies.map((s, i) => ({
            label: studyTitle(s, i),
            bytes: s.bytes,
            files: s.files.map((f) => ({ source: f.path, size: f.size ?? 0 })),
          }))
        : scan.state === 'report'
          ? scan.reports.map((r) => ({
              label: r.summary.title ?? r.source,
              bytes: r.bytes.length + (r.pdf?.length ?? 0),
              files: [{ source: r.source, size: r.bytes.length + (r.pdf?.length ?? 0) }],
            }))
          : []
    const state: Progress = { items, itemBytes: items.map(() => 0), fileBytes: new Map() }
    setProgress({ ...state })
    // Progress arrives per chunk; the page repaints at most once a frame.
    let frame = 0
    const repaint = () => {
      if (frame) return
      frame = requestAnimationFrame(() => {
        frame = 0
        setProgress({ ...state, fileBytes: new Map(state.fileBytes) })
      })
    }
    const common = {
      patient,
      appointment: appointment.trim() || undefined,
      description: description.trim() || undefined,
      signal: controller.signal,
    }
    try {
      const { uploadStudies, uploadReport } = await work()
      if (scan.state === 'dicom') {
        const done = await uploadStudies(client, {
          ...common,
          studies: scan.scan.studies,
          onProgress: (p: UploadProgressEvent) => {
            state.itemBytes[p.item] = p.itemBytes
            state.fileBytes.set(p.source, p.fileBytes)
            state.current = { item: p.item, source: p.source }
            repaint()
          },
        })
        setResults(done)
      } else if (scan.state === 'report') {
        for (const [index, report] of scan.reports.entries()) {
          const done = await uploadReport(client, {
            ...common,
            report,
            onBytes: (bytes) => {
              state.itemBytes[index] = bytes
              state.fileBytes.set(report.source, bytes)
              state.current = { item: index, source: report.source }
              repaint()
            },
          })
          setResults((now) => [...now, done])
        }
      }
      cancelAnimationFrame(frame)
      for (const [i, item] of items.entries()) {
        state.itemBytes[i] = item.bytes
        for (const f of item.files) state.fileBytes.set(f.source, f.size)
      }
      state.current = undefined
      setProgress({ ...state, fileBytes: new Map(state.fileBytes) })
      setPhase('done')
    } catch (error) {
      cancelAnimationFrame(frame)
      setUploadError(error)
      setPhase('prepare')
    } finally {
      abort.current = undefined
    }
  }

  return (
    <form className="upload-page" onSubmit={upload} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="staff-sr">
        Upload for a patient
      </h2>
      <div className="upload-grid">
        <fieldset className="upload-details" disabled={phase !== 'prepare'}>
          <legend>For whom, and what</legend>
          <PatientAddressField key={formKey} onChange={onPatient} />
          <fieldset className="upload-mode">
            <legend>What you upload</legend>
            <label className="choice">
              <input
                type="radio"
                name={`${id}-mode`}
                checked={mode === 'dicom'}
                onChange={() => {
                  setMode('dicom')
                  setExcluded(new Set())
                }}
              />
              <span>
                <strong>DICOM images</strong> — files, a folder, a ZIP or a DICOMDIR medium; one record per
                study, its kind from the modality
              </span>
            </label>
            <label className="choice">
              <input
                type="radio"
                name={`${id}-mode`}
                checked={mode === 'report'}
                onChange={() => {
                  setMode('report')
                  setExcluded(new Set())
                }}
              />
              <span>
                <strong>Reports</strong> — PDF, FHIR R4 JSON (lab results) or DICOM SR; one record per file
              </span>
            </label>
          </fieldset>
          <label htmlFor={`${id}-appointment`}>Appointment or accession (optional)</label>
          <input
            id={`${id}-appointment`}
            value={appointment}
            onChange={(event) => setAppointment(event.target.value)}
            autoComplete="off"
          />
          <label htmlFor={`${id}-description`}>Description (optional)</label>
          <input
            id={`${id}-description`}
            value={description}
            onChange={(event) => setDescription(event.target.value)}
            placeholder={
              mode === 'dicom' ? 'From the study when empty, e.g. Head CT' : 'The report’s title when empty'
            }
            autoComplete="off"
          />
        </fieldset>
        <DropZone mode={mode} disabled={phase !== 'prepare'} onFiles={addFiles} />
      </div>

      {picked.length > 0 && phase === 'prepare' ? (
        <div className="toolbar upload-picked">
          <span>
            {picked.length} {picked.length === 1 ? 'file' : 'files'} chosen
            {excluded.size > 0 ? `, ${excluded.size} left out` : ''}
          </span>
          <button type="button" onClick={clearFiles}>
            Clear files
          </button>
        </div>
      ) : null}

      <div aria-live="polite" className="upload-preview">
        {scan.state === 'idle' && phase === 'prepare' ? (
          <EmptyState title="No files yet">
            <p>
              {mode === 'dicom'
                ? 'Choose or drop DICOM files, a study folder or a ZIP. Nothing leaves this browser before you press Upload; then only encrypted data does.'
                : 'Choose or drop report files. Nothing leaves this browser before you press Upload; then only encrypted data does.'}
            </p>
          </EmptyState>
        ) : null}
        {scan.state === 'scanning' ? (
          <Loading label={`Reading the files… ${Math.min(scan.done, scan.total)} of ${scan.total}`} />
        ) : null}
        {scan.state === 'failed' ? <ErrorNote error={scan.error} /> : null}
        {problems.length > 0 ? (
          <Problems
            problems={problems}
            onLeaveOut={() => setExcluded((now) => new Set([...now, ...problems.map((p) => p.path)]))}
          />
        ) : null}
        {scan.state === 'dicom' && scan.scan.groupError ? <ErrorNote error={scan.scan.groupError} /> : null}
        {scan.state === 'dicom' && phase === 'prepare' ? (
          <StudyList studies={scan.scan.studies} notes={scan.notes} />
        ) : null}
        {scan.state === 'report' && phase === 'prepare' ? <ReportList reports={scan.reports} /> : null}
      </div>

      {progress ? <ProgressView progress={progress} phase={phase} /> : null}
      {uploadError ? (
        <div className="upload-error">
          <ErrorNote error={uploadError} />
          <p className="hint">{uploadFailureNote(uploadError, results.length)}</p>
        </div>
      ) : null}
      {results.length > 0 ? <Results results={results} /> : null}

      <div className="actions upload-actions">
        {phase === 'prepare' ? (
          <button type="submit" className="primary" disabled={!ready}>
            {count > 0
              ? `Upload ${count} ${mode === 'dicom' ? (count === 1 ? 'study' : 'studies') : count === 1 ? 'report' : 'reports'}`
              : 'Upload'}
          </button>
        ) : null}
        {phase === 'uploading' ? (
          <button type="button" onClick={() => abort.current?.abort()}>
            Cancel upload
          </button>
        ) : null}
        {phase === 'done' ? (
          <button type="button" className="primary" onClick={reset}>
            Upload more
          </button>
        ) : null}
        {phase === 'prepare' && !patient && count > 0 ? (
          <span className="hint">Enter an approved patient’s address to upload.</span>
        ) : null}
        {phase === 'prepare' && blocked ? (
          <span className="hint">Nothing is uploaded while a file cannot be read.</span>
        ) : null}
      </div>
    </form>
  )
}

function uploadFailureNote(error: unknown, recorded: number): string {
  const aborted = error instanceof DOMException && error.name === 'AbortError'
  const head = aborted ? 'The upload was cancelled.' : 'The upload stopped.'
  return recorded > 0
    ? `${head} The records listed below were made; the others were not.`
    : `${head} No record was made.`
}

function studyTitle(study: StudyPreview, index: number): string {
  return [study.modalities.join(', '), study.description].filter(Boolean).join(' · ') || `Study ${index + 1}`
}

function DropZone(props: { mode: Mode; disabled: boolean; onFiles: (files: PickedFile[]) => void }) {
  const id = useId()
  const [over, setOver] = useState(false)
  const [error, setError] = useState<unknown>()
  const { onFiles } = props

  function onDrop(event: DragEvent) {
    event.preventDefault()
    setOver(false)
    if (props.disabled) return
    filesFromDrop(event.dataTransfer).then(onFiles, setError)
  }

  return (
    <section
      className={`drop-zone${over ? ' drop-zone-over' : ''}`}
      aria-labelledby={`${id}-title`}
      onDragOver={(event) => {
        event.preventDefault()
        if (!props.disabled) setOver(true)
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <h3 id={`${id}-title`}>
        {props.mode === 'dicom' ? 'Drop a study folder, DICOM files or a ZIP here' : 'Drop report files here'}
      </h3>
      <p className="hint">or</p>
      <div className="actions">
        <span className="file-pick">
          <input
            id={`${id}-files`}
            type="file"
            multiple
            disabled={props.disabled}
            accept={props.mode === 'report' ? '.pdf,.json,.dcm,application/pdf,application/json' : undefined}
            onChange={(event) => {
              onFiles(filesFromInput(event.target.files))
              event.target.value = ''
            }}
          />
          <label htmlFor={`${id}-files`} className="button">
            {props.mode === 'dicom' ? 'Choose files or a ZIP…' : 'Choose report files…'}
          </label>
        </span>
        {props.mode === 'dicom' ? (
          <span className="file-pick">
            <input
              id={`${id}-folder`}
              type="file"
              disabled={props.disabled}
              {...{ webkitdirectory: '', directory: '' }}
              onChange={(event) => {
                onFiles(filesFromInput(event.target.files))
                event.target.value = ''
              }}
            />
            <label htmlFor={`${id}-folder`} className="button">
              Choose a folder…
            </label>
          </span>
        ) : null}
      </div>
      {error ? <ErrorNote error={error} /> : null}
    </section>
  )
}

function Problems(props: { problems: FileProblem[]; onLeaveOut: () => void }) {
  const id = useId()
  return (
    <section className="state state-error" role="alert" aria-labelledby={`${id}-title`}>
      <p className="state-title" id={`${id}-title`}>
        {props.problems.length === 1
          ? 'One file cannot be read'
          : `${props.problems.length} files cannot be read`}
      </p>
      <ul className="problem-list">
        {props.problems.map((p) => (
          <li key={p.path}>
            <code>{p.path}</code>: {p.message}
          </li>
        ))}
      </ul>
      <p>
        Nothing is uploaded while these are chosen: a study is stored whole or not at all. Remove them, or
        leave them out if the rest of their study is complete without them.
      </p>
      <button type="button" onClick={props.onLeaveOut}>
        Leave these files out
      </button>
    </section>
  )
}

function StudyList(props: { studies: StudyPreview[]; notes: string[] }) {
  const id = useId()
  if (props.studies.length === 0) return null
  return (
    <section aria-labelledby={`${id}-title`} className="staff-section">
      <h3 id={`${id}-title`}>
        {props.studies.length === 1 ? 'One study found' : `${props.studies.length} studies found`}
      </h3>
      {props.notes.length > 0 ? (
        <ul className="hint upload-notes">
          {props.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      ) : null}
      <ul className="study-list">
        {props.studies.map((s, i) => (
          <li key={s.studyInstanceUid} className="card">
            <h4>
              {studyTitle(s, i)} <span className="badge">{KIND_NAMES[s.kind]}</span>
            </h4>
            <dl className="facts">
              <dt>Name in the files</dt>
              <dd>{s.patientName?.replaceAll('^', ' ').trim() || '—'}</dd>
              <dt>Patient ID</dt>
              <dd>{s.patientId || '—'}</dd>
              <dt>Study date</dt>
              <dd>{s.studyDate?.replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3') || '—'}</dd>
              {s.accession ? (
                <>
                  <dt>Accession</dt>
                  <dd>{s.accession}</dd>
                </>
              ) : null}
              <dt>Content</dt>
              <dd>
                {s.series} {s.series === 1 ? 'series' : 'series'}, {s.instances}{' '}
                {s.instances === 1 ? 'image' : 'images'}, {formatBytes(s.bytes)}
              </dd>
            </dl>
            <details>
              <summary>Files ({s.files.length})</summary>
              <ul className="file-names">
                {s.files.map((f) => (
                  <li key={f.path}>
                    <code>{f.path}</code> <span className="hint">{formatBytes(f.size ?? 0)}</span>
                  </li>
                ))}
              </ul>
            </details>
          </li>
        ))}
      </ul>
      <p className="hint">
        Check that the name and Patient ID belong to the patient above: they are kept, encrypted, in the
        record.
      </p>
    </section>
  )
}

function ReportList(props: { reports: ReportPreview[] }) {
  const id = useId()
  if (props.reports.length === 0) return null
  return (
    <section aria-labelledby={`${id}-title`} className="staff-section">
      <h3 id={`${id}-title`}>
        {props.reports.length === 1 ? 'One report found' : `${props.reports.length} reports found`}
      </h3>
      <div className="table-wrap">
        <table className="staff-table">
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Format</th>
              <th scope="col">Title</th>
              <th scope="col">Date</th>
              <th scope="col">Results</th>
            </tr>
          </thead>
          <tbody>
            {props.reports.map((r) => {
              const flagged = r.summary.results.filter((row) => row.flag && row.flag !== 'N').length
              return (
                <tr key={r.source}>
                  <td data-label="File">
                    <code>{r.source}</code>
                  </td>
                  <td data-label="Format">{FORMAT_NAMES[r.format] ?? r.format}</td>
                  <td data-label="Title">{r.summary.title ?? '—'}</td>
                  <td data-label="Date">{r.summary.date ?? '—'}</td>
                  <td data-label="Results">
                    {r.summary.results.length ? `${r.summary.results.length}, ${flagged} out of range` : '—'}
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      </div>
    </section>
  )
}

const FORMAT_NAMES: Record<string, string> = {
  pdf: 'PDF',
  fhir: 'FHIR JSON',
  'dicom-sr': 'DICOM SR',
  'dicom-pdf': 'DICOM encapsulated PDF',
}

function ProgressView(props: { progress: Progress; phase: 'prepare' | 'uploading' | 'done' }) {
  const id = useId()
  const { items, itemBytes, fileBytes, current } = props.progress
  const total = items.reduce((n, i) => n + i.bytes, 0)
  const sent = itemBytes.reduce((n, b) => n + b, 0)
  const percent = total > 0 ? Math.floor((sent / total) * 100) : 0
  const anchoring =
    props.phase === 'uploading' && current && itemBytes[current.item]! >= (items[current.item]?.bytes ?? 0)
  const status =
    props.phase === 'done'
      ? 'Done: every record is stored and anchored.'
      : !current
        ? 'Checking the files and the patient…'
        : anchoring
          ? `Sealing and anchoring ${items[current.item]?.label ?? ''} on the chain…`
          : `Encrypting and storing ${items[current.item]?.label ?? ''}: ${current.source}`
  return (
    <section aria-labelledby={`${id}-title`} className="staff-section upload-progress">
      <h3 id={`${id}-title`}>Progress</h3>
      <label htmlFor={`${id}-overall`}>
        Overall: {formatBytes(sent)} of {formatBytes(total)} ({percent}%)
      </label>
      <progress id={`${id}-overall`} className="progress" max={Math.max(total, 1)} value={sent} />
      <p role="status" className="hint">
        {status}
      </p>
      {items.map((item, index) => (
        <details key={item.label + String(index)} open={items.length === 1 || current?.item === index}>
          <summary>
            {item.label}: {formatBytes(itemBytes[index] ?? 0)} of {formatBytes(item.bytes)}
          </summary>
          <div className="table-wrap file-progress">
            <table>
              <thead>
                <tr>
                  <th scope="col">File</th>
                  <th scope="col">Progress</th>
                </tr>
              </thead>
              <tbody>
                {item.files.map((f) => {
                  const bytes = fileBytes.get(f.source) ?? 0
                  return (
                    <tr key={f.source}>
                      <td>
                        <code>{f.source}</code>
                      </td>
                      <td>
                        <progress
                          className="progress"
                          max={Math.max(f.size, 1)}
                          value={bytes}
                          aria-label={`${f.source}: ${Math.floor((bytes / Math.max(f.size, 1)) * 100)}%`}
                        />
                      </td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </div>
        </details>
      ))}
    </section>
  )
}

function Results(props: { results: UploadedItem[] }) {
  const id = useId()
  return (
    <section aria-labelledby={`${id}-title`} className="staff-section upload-results">
      <h3 id={`${id}-title`}>
        {props.results.length === 1 ? 'Record made' : `${props.results.length} records made`}
      </h3>
      <ul className="result-list">
        {props.results.map((r) => (
          <li key={r.recordId} className="card">
            <h4>
              {r.label} <span className="badge">{KIND_NAMES[r.kind]}</span>{' '}
              <span
                className={`badge ${r.status === 'confirmed' ? 'badge-ok' : r.status === 'failed' ? 'badge-danger' : 'badge-warn'}`}
              >
                {STATUS_NAMES[r.status] ?? r.status}
              </span>
            </h4>
            <dl className="facts">
              <dt>Record id</dt>
              <dd>
                <code className="address-full">{r.recordId}</code>
              </dd>
              <dt>Transaction</dt>
              <dd>{r.txHash ? <code className="address-full">{r.txHash}</code> : '— (not sent yet)'}</dd>
              <dt>Gas used</dt>
              <dd>{r.gasUsed ? Number(r.gasUsed).toLocaleString() : '—'}</dd>
              {r.instances !== undefined ? (
                <>
                  <dt>Content</dt>
                  <dd>
                    {r.series} series, {r.instances} {r.instances === 1 ? 'image' : 'images'}
                  </dd>
                </>
              ) : null}
            </dl>
          </li>
        ))}
      </ul>
    </section>
  )
}

const STATUS_NAMES: Record<string, string> = {
  confirmed: 'Anchored',
  submitted: 'Transaction sent',
  queued: 'Queued for anchoring',
  failed: 'Anchoring failed',
}
