import {
  AccessDeniedError,
  closeRecord,
  listRecords,
  openRecord,
  type PcmimsClient,
  type RecordAccess,
  type RecordKind,
  type RecordSummary,
} from '@pcmims/core'
import { useEffect, useId, useMemo, useState } from 'react'
import { type Address, getAddress, type Hex } from 'viem'
import { useRecordOpener } from '../../app/record-opener.js'
import { useSession } from '../../session/session-context.js'
import { DateRangeFields } from '../../ui/date-range-fields.js'
import { describeError } from '../../ui/errors.js'
import { formatBytes, formatDate, formatRemaining, formatTime } from '../../ui/format.js'
import { EmptyState, ErrorNote, Loading } from '../../ui/states.js'
import { useAsync } from '../../ui/use-async.js'
import { Person } from '../patient/people.js'

export type RecordListProps = {
  /** Whose records: the signed-in patient's own when absent. */
  patient?: Address | undefined
  /** Shown when the list is empty. */
  emptyTitle?: string | undefined
}

export const KIND_LABELS: Record<RecordKind, string> = {
  MRI: 'MRI',
  CT: 'CT',
  XRAY: 'X-ray',
  US: 'Ultrasound',
  REPORT: 'Report',
  OTHER: 'Other',
}

/** What the sealed manifest says of a record, once opened here (never sent anywhere). */
export type RecordDetails = {
  /** Examination or report date (ISO), empty for a de-identified copy. */
  date: string
  appointment?: string | undefined
  description?: string | undefined
  reportTitle?: string | undefined
  modalities: string[]
  series?: number | undefined
  files: number
  bytes: number
}

export type RecordRow = {
  summary: RecordSummary
  /** loading: the manifest is being opened; closed: the caller may not open it (see `problem`). */
  state: 'loading' | 'ready' | 'closed' | 'error'
  details?: RecordDetails | undefined
  access?: RecordAccess | undefined
  problem?: string | undefined
}

export type RecordRows =
  | { status: 'loading'; reload: () => void }
  | { status: 'error'; error: unknown; reload: () => void }
  | { status: 'ready'; rows: RecordRow[]; reload: () => void }

/**
 * A patient's records from the node's index, each manifest then opened here (two at a time) for its
 * date, description and files: those are encrypted, so filtering on them happens in the browser.
 */
export function useRecordRows(patient?: Address | undefined): RecordRows {
  const { client } = useSession()
  const list = useAsync(
    (signal) => listRecords(client, { ...(patient ? { patient } : {}), signal }),
    [client, patient],
  )
  const [opened, setOpened] = useState<Map<Hex, Omit<RecordRow, 'summary'>>>(new Map())

  const summaries = list.status === 'ready' ? list.value : undefined
  useEffect(() => {
    if (!summaries) return
    const controller = new AbortController()
    // Every record again on a reload (access may have changed); rows keep what they showed meanwhile.
    const queue = [...summaries]
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const row = await openDetails(client, next, controller.signal)
        if (controller.signal.aborted) return
        setOpened((previous) => new Map(previous).set(next.id, row))
      }
    }
    void Promise.all([worker(), worker()])
    return () => controller.abort()
  }, [summaries, client])

  if (list.status !== 'ready') return list
  const rows = list.value.map(
    (summary): RecordRow => ({ summary, ...(opened.get(summary.id) ?? { state: 'loading' }) }),
  )
  return { status: 'ready', rows: sortRows(rows), reload: list.reload }
}

async function openDetails(
  client: PcmimsClient,
  summary: RecordSummary,
  signal: AbortSignal,
): Promise<Omit<RecordRow, 'summary'>> {
  try {
    const opened = await openRecord(client, { recordId: summary.id, signal })
    const { manifest, access } = opened
    closeRecord(opened)
    return {
      state: 'ready',
      access,
      details: {
        date: manifest.date,
        appointment: manifest.appointment,
        description: manifest.description,
        reportTitle: manifest.report?.title,
        modalities: manifest.study?.modalities ?? [],
        series: manifest.study?.numberOfSeries,
        files: manifest.files.length,
        bytes: manifest.files.reduce((n, f) => n + f.size, 0),
      },
    }
  } catch (error) {
    if (error instanceof AccessDeniedError) {
      return {
        state: 'closed',
        problem:
          error.code === 'DEIDENTIFIED_ONLY'
            ? 'The patient allows de-identified copies only: the original cannot be opened.'
            : `${error.shortMessage}${error.details ? `: ${error.details}` : ''}.`,
      }
    }
    return { state: 'error', problem: describeError(error).title }
  }
}

/** The date a row sorts and groups by: the examination date, else when it was anchored. */
export function rowDate(row: RecordRow): string {
  const date = row.details?.date
  return date ? date.slice(0, 10) : new Date(row.summary.createdAt * 1000).toISOString().slice(0, 10)
}

function sortRows(rows: RecordRow[]): RecordRow[] {
  return [...rows].sort(
    (a, b) => rowDate(b).localeCompare(rowDate(a)) || b.summary.createdAt - a.summary.createdAt,
  )
}

/** What a row is called on screen (and in the viewer's title while it opens). */
export function recordTitle(row: RecordRow): string {
  const { summary, details } = row
  if (summary.deidentifiedFrom) return `De-identified ${KIND_LABELS[summary.kind]} copy`
  const text = details?.description ?? details?.reportTitle
  if (text) return text
  if (details?.modalities.length) return `${details.modalities.join(' / ')} study`
  return KIND_LABELS[summary.kind]
}

type Filters = { kind: string; from: string; to: string; text: string }
const NO_FILTERS: Filters = { kind: '', from: '', to: '', text: '' }

function matches(row: RecordRow, f: Filters): boolean {
  if (f.kind && row.summary.kind !== f.kind) return false
  const date = rowDate(row)
  if (f.from && date < f.from) return false
  if (f.to && date > f.to) return false
  const text = f.text.trim().toLowerCase()
  if (text) {
    const d = row.details
    const haystack = [d?.description, d?.appointment, d?.reportTitle, ...(d?.modalities ?? [])]
      .filter(Boolean)
      .join(' ')
      .toLowerCase()
    if (!haystack.includes(text)) return false
  }
  return true
}

/** A patient's records (images and reports) with filters; each opens in the viewer or report view. */
export function RecordList(props: RecordListProps) {
  const { participant } = useSession()
  const own = !props.patient || getAddress(props.patient) === getAddress(participant.address)
  const records = useRecordRows(props.patient)
  const [filters, setFilters] = useState<Filters>(NO_FILTERS)
  const id = useId()

  const rows = records.status === 'ready' ? records.rows : []
  const shown = useMemo(() => rows.filter((r) => matches(r, filters)), [rows, filters])
  const groups = useMemo(() => {
    const out: Array<{ date: string; rows: RecordRow[] }> = []
    for (const row of shown) {
      const date = rowDate(row)
      const last = out[out.length - 1]
      if (last?.date === date) last.rows.push(row)
      else out.push({ date, rows: [row] })
    }
    return out
  }, [shown])

  if (records.status === 'loading') return <Loading label="Loading records…" />
  if (records.status === 'error') return <ErrorNote error={records.error} onRetry={records.reload} />
  if (rows.length === 0) {
    return (
      <EmptyState title={props.emptyTitle ?? (own ? 'No records yet' : 'No records you may see')}>
        <p>
          {own
            ? 'Images and reports appear here when a radiologist or lab uploads them for you.'
            : 'The patient has shared nothing with you yet, or the access ended.'}
        </p>
        <button type="button" onClick={records.reload}>
          Refresh
        </button>
      </EmptyState>
    )
  }
  const kinds = [...new Set(rows.map((r) => r.summary.kind))]
  const filtered = filters !== NO_FILTERS && Object.values(filters).some(Boolean)

  return (
    <div className="record-list">
      <search className="toolbar record-filters" aria-label="Filter records">
        <div>
          <label htmlFor={`${id}-kind`}>Kind</label>
          <select
            id={`${id}-kind`}
            value={filters.kind}
            onChange={(e) => setFilters({ ...filters, kind: e.target.value })}
          >
            <option value="">All kinds</option>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k]}
              </option>
            ))}
          </select>
        </div>
        <DateRangeFields value={filters} onChange={(change) => setFilters({ ...filters, ...change })} />
        <div className="record-filter-text">
          <label htmlFor={`${id}-text`}>Search description or appointment</label>
          <input
            id={`${id}-text`}
            type="search"
            value={filters.text}
            onChange={(e) => setFilters({ ...filters, text: e.target.value })}
          />
        </div>
        <div className="actions">
          {filtered ? (
            <button type="button" onClick={() => setFilters(NO_FILTERS)}>
              Clear filters
            </button>
          ) : null}
          <button type="button" onClick={records.reload}>
            Refresh
          </button>
        </div>
      </search>
      <p className="hint" aria-live="polite">
        {filtered ? `Showing ${shown.length} of ${rows.length} records` : `${rows.length} records`}
        {rows.some((r) => r.state === 'loading') ? ' · decrypting details…' : ''}
      </p>
      {shown.length === 0 ? (
        <EmptyState title="No records match these filters">
          <button type="button" onClick={() => setFilters(NO_FILTERS)}>
            Clear filters
          </button>
        </EmptyState>
      ) : (
        <ol className="timeline">
          {groups.map((group) => (
            <li key={group.date}>
              <h2 className="timeline-date">{formatDate(`${group.date}T12:00:00`)}</h2>
              <ul className="timeline-items">
                {group.rows.map((row) => (
                  <RecordItem key={row.summary.id} row={row} own={own} />
                ))}
              </ul>
            </li>
          ))}
        </ol>
      )}
    </div>
  )
}

function RecordItem(props: { row: RecordRow; own: boolean }) {
  const open = useRecordOpener()
  const { row, own } = props
  const { summary, details, access } = row
  const title = recordTitle(row)
  const titleId = useId()
  return (
    <li className="record-item" aria-labelledby={titleId}>
      <div className="record-main">
        <p className="record-title">
          <span className={`badge kind-badge kind-${summary.kind.toLowerCase()}`}>
            {KIND_LABELS[summary.kind]}
          </span>{' '}
          <strong id={titleId}>{title}</strong>
        </p>
        {row.state === 'loading' ? (
          <p className="hint">Decrypting details…</p>
        ) : details ? (
          <dl className="record-facts">
            {details.appointment ? (
              <>
                <dt>Appointment</dt>
                <dd>{details.appointment}</dd>
              </>
            ) : null}
            <dt>Files</dt>
            <dd>
              {details.files} {details.files === 1 ? 'file' : 'files'}, {formatBytes(details.bytes)}
              {details.series ? ` · ${details.series} series` : ''}
            </dd>
            <dt>Uploaded</dt>
            <dd>
              {formatTime(summary.createdAt)} by <Person address={summary.uploader} />
            </dd>
          </dl>
        ) : null}
        <p className="record-badges">
          {summary.deidentifiedFrom ? (
            <span className="badge badge-warn">
              De-identified copy
              {own && summary.audience ? ' for ' : ''}
            </span>
          ) : null}
          {own && summary.audience ? <Person address={summary.audience} /> : null}
          {!own && access ? <AccessBadges access={access} /> : null}
        </p>
        {row.problem ? (
          <p className={row.state === 'error' ? 'danger-note' : 'warning'}>{row.problem}</p>
        ) : null}
      </div>
      <div className="record-actions">
        {row.state === 'ready' ? (
          <button
            type="button"
            className="primary"
            aria-label={`Open ${title}`}
            onClick={() => open(summary.id, { title })}
          >
            Open
          </button>
        ) : null}
      </div>
    </li>
  )
}

function AccessBadges(props: { access: RecordAccess }) {
  const { access } = props
  return (
    <>
      {access.basis === 'Emergency' ? <span className="badge badge-danger">Emergency access</span> : null}
      <span className={`badge ${access.download ? 'badge-ok' : ''}`}>
        {access.download ? 'Download allowed' : 'View only'}
      </span>
      {access.until < 2 ** 40 - 1 ? (
        <span className="badge">
          until {formatTime(access.until)} ({formatRemaining(access.until)} left)
        </span>
      ) : null}
    </>
  )
}
