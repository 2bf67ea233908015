import {
  type AuditEntry,
  type AuditEntryStatus,
  getAuditRoot,
  type PcmimsClient,
  type VerifyAuditTrailReturnType,
  verifyAuditTrail,
} from '@pcmims/core'
import { useId, useMemo, useState } from 'react'
import type { Hex } from 'viem'
import { useSession } from '../../session/session-context.js'
import { DateRangeFields } from '../../ui/date-range-fields.js'
import { formatTime, shortAddress } from '../../ui/format.js'
import { EmptyState, ErrorNote, Loading } from '../../ui/states.js'
import { useAsync } from '../../ui/use-async.js'
import { recordTitle, useRecordRows } from '../common/record-list.js'
import { Cell } from './cell.js'
import { reasonName } from './grants.js'
import { Person, useAddressNames } from './people.js'

const ACTIONS: Record<string, string> = {
  'session.sign-in': 'Signed in',
  'session.sign-out': 'Signed out',
  'record.list': 'Listed records',
  'record.metadata': 'Opened a record’s envelope',
  'record.read': 'Read a file',
  'record.download-decrypted': 'Downloaded a file',
  'key-bundle.release': 'Received record keys',
  'grant.set': 'Grant given or changed',
  'grant.revoke': 'Grant revoked',
  'request.create': 'Asked for access',
  'request.approve': 'Request approved',
  'request.deny': 'Request denied',
  'emergency.declare': 'Emergency access declared',
  'emergency.end': 'Emergency access ended',
  'emergency.read': 'Read under emergency access',
  'record.anchor': 'Record stored and anchored',
  'registration.approve': 'Registration approved',
  'registration.reject': 'Registration rejected',
  'registration.suspend': 'Account suspended',
  'audit.read': 'Read the access log',
  'ingest.store': 'Study received',
  'ingest.held-read': 'Unmatched study read',
  'ingest.resolve': 'Unmatched study resolved',
  'ingest.discard': 'Unmatched study discarded',
  'patient-map.set': 'Patient id mapped',
  'patient-map.remove': 'Patient id unmapped',
}

export function actionName(action: string): string {
  return ACTIONS[action] ?? action
}

type Anchor = { size: number; root: Hex; txHash: Hex; anchoredAt: string }

type AuditView = VerifyAuditTrailReturnType & {
  /** The latest anchor as the chain has it: root read from the contract, time from its block. */
  anchor?: { size: number; root: Hex | null; txHash?: Hex | undefined; at?: number | undefined } | undefined
}

async function loadAudit(client: PcmimsClient, signal: AbortSignal): Promise<AuditView> {
  const verified = await verifyAuditTrail(client, { scope: 'patient', signal })
  const size = verified.latestAnchoredSize
  if (size === 0) return verified
  const root = await getAuditRoot(client.publicClient, {
    contract: client.config.contract,
    unit: verified.trail.unit,
    size,
  })
  // The node says which transaction anchored it; the time is that transaction's block, from the chain.
  let txHash: Hex | undefined
  let at: number | undefined
  try {
    const { anchors } = await client.node.json<{ anchors: Anchor[] }>('GET', '/api/v1/audit/anchors', {
      signal,
    })
    txHash = anchors.find((a) => a.size === size)?.txHash
    if (txHash) {
      const receipt = await client.publicClient.getTransactionReceipt({ hash: txHash })
      const block = await client.publicClient.getBlock({ blockNumber: receipt.blockNumber })
      at = Number(block.timestamp)
    }
  } catch {
    // The mark stands on the root read from the contract; the time is extra.
  }
  return { ...verified, anchor: { size, root, txHash, at } }
}

const PAGE = 25

type Row = { entry: AuditEntry; status: AuditEntryStatus; reason?: string | undefined }

/** Who accessed the patient's records, when and how, checked against the roots anchored on chain. */
export function PatientAudit() {
  const { client } = useSession()
  const audit = useAsync((signal) => loadAudit(client, signal), [client])
  const records = useRecordRows()
  const { participant } = useSession()
  const [filters, setFilters] = useState({ action: '', record: '', from: '', to: '', others: false })
  const [limit, setLimit] = useState(PAGE)
  const id = useId()

  const rows = useMemo<Row[]>(() => {
    if (audit.status !== 'ready') return []
    const bySeq = new Map(audit.value.report.entries.map((r) => [r.seq, r]))
    return audit.value.trail.entries
      .map((served) => {
        const entry = served.entry as AuditEntry
        const report = bySeq.get(entry.seq)
        return { entry, status: report?.status ?? 'failed', reason: report?.reason }
      })
      .reverse()
  }, [audit])

  const titles = useMemo(() => {
    const map = new Map<string, string>()
    if (records.status === 'ready')
      for (const row of records.rows) map.set(row.summary.id.toLowerCase(), recordTitle(row))
    return map
  }, [records])

  if (audit.status === 'loading') return <Loading label="Loading and verifying your access log…" />
  if (audit.status === 'error') return <ErrorNote error={audit.error} onRetry={audit.reload} />

  const actions = [...new Set(rows.map((r) => r.entry.action))].sort()
  const recordIds = [...new Set(rows.map((r) => r.entry.recordId).filter((r): r is Hex => Boolean(r)))]
  const shown = rows.filter((r) => {
    if (filters.action && r.entry.action !== filters.action) return false
    if (filters.record && r.entry.recordId !== filters.record) return false
    const day = r.entry.time.slice(0, 10)
    if (filters.from && day < filters.from) return false
    if (filters.to && day > filters.to) return false
    if (filters.others && r.entry.actor?.toLowerCase() === participant.address.toLowerCase()) return false
    return true
  })
  const filter = (change: Partial<typeof filters>) => {
    setFilters({ ...filters, ...change })
    setLimit(PAGE)
  }
  const recordName = (rid: string) => titles.get(rid.toLowerCase()) ?? `Record ${shortAddress(rid)}`

  return (
    <div className="audit">
      <VerificationMark view={audit.value} onRecheck={audit.reload} />
      <search className="toolbar" aria-label="Filter the access log">
        <div>
          <label htmlFor={`${id}-action`}>Action</label>
          <select
            id={`${id}-action`}
            value={filters.action}
            onChange={(e) => filter({ action: e.target.value })}
          >
            <option value="">All actions</option>
            {actions.map((a) => (
              <option key={a} value={a}>
                {actionName(a)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-record`}>Record</label>
          <select
            id={`${id}-record`}
            value={filters.record}
            onChange={(e) => filter({ record: e.target.value })}
          >
            <option value="">All records</option>
            {recordIds.map((rid) => (
              <option key={rid} value={rid}>
                {recordName(rid)}
              </option>
            ))}
          </select>
        </div>
        <DateRangeFields value={filters} onChange={filter} />
        <label className="choice filter-others">
          <input
            type="checkbox"
            checked={filters.others}
            onChange={(e) => filter({ others: e.target.checked })}
          />
          Hide my own actions
        </label>
      </search>
      <p className="hint" aria-live="polite">
        {shown.length === rows.length
          ? `${rows.length} entries, newest first`
          : `${shown.length} of ${rows.length} entries match, newest first`}
      </p>
      {shown.length === 0 ? (
        <EmptyState title={rows.length === 0 ? 'Nobody has accessed your records yet' : 'No entries match'} />
      ) : (
        <div className="table-wrap">
          <table className="audit-table stack-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Record</th>
                <th scope="col">Outcome</th>
                <th scope="col">Checked</th>
              </tr>
            </thead>
            <tbody>
              {shown.slice(0, limit).map((r) => (
                <tr key={r.entry.seq}>
                  <Cell label="When">{formatTime(r.entry.time)}</Cell>
                  <Cell label="Who">{r.entry.actor ? <Person address={r.entry.actor} /> : 'Anonymous'}</Cell>
                  <Cell label="Action">
                    {actionName(r.entry.action)}
                    {r.entry.detail ? <DetailText detail={r.entry.detail} /> : null}
                  </Cell>
                  <Cell label="Record">{r.entry.recordId ? recordName(r.entry.recordId) : '—'}</Cell>
                  <Cell label="Outcome">
                    <span
                      className={`badge ${r.entry.outcome === 'success' ? 'badge-ok' : r.entry.outcome === 'denied' ? 'badge-warn' : 'badge-danger'}`}
                    >
                      {r.entry.outcome === 'success'
                        ? 'Allowed'
                        : r.entry.outcome === 'denied'
                          ? 'Refused'
                          : 'Error'}
                    </span>
                  </Cell>
                  <Cell label="Checked">
                    <EntryStatus status={r.status} reason={r.reason} />
                  </Cell>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {shown.length > limit ? (
        <button type="button" className="show-more" onClick={() => setLimit(limit + PAGE)}>
          Show {Math.min(PAGE, shown.length - limit)} more ({shown.length - limit} not shown)
        </button>
      ) : null}
    </div>
  )
}

/** The entry's short machine code, for people: whom keys went to, which request, why and until when. */
function DetailText(props: { detail: string }) {
  const nameOf = useAddressNames()
  const { detail } = props
  const emergency = /^reason:(\d+):until:(\d+)$/.exec(detail)
  const to = /^to:(0x[0-9a-fA-F]{40})$/.exec(detail)
  const request = /^request:(\d+)$/.exec(detail)
  const text = emergency
    ? `${reasonName(Number(emergency[1]))}, until ${formatTime(Number(emergency[2]))}`
    : to?.[1]
      ? `to ${nameOf(to[1]) ?? shortAddress(to[1])}`
      : request
        ? `request #${request[1]}`
        : detail
  return <span className="hint"> ({text})</span>
}

function EntryStatus(props: { status: AuditEntryStatus; reason?: string | undefined }) {
  if (props.status === 'verified') return <span className="badge badge-verified">Verified</span>
  if (props.status === 'unanchored')
    return (
      <span className="badge badge-pending" title="Logged after the unit’s latest anchor on chain">
        Not anchored yet
      </span>
    )
  return (
    <span className="badge badge-failed" title={props.reason}>
      Failed
    </span>
  )
}

function VerificationMark(props: { view: AuditView; onRecheck: () => void }) {
  const { view } = props
  const counts = { verified: 0, unanchored: 0, failed: 0 }
  for (const e of view.report.entries) counts[e.status]++
  const nothingAnchored = counts.verified === 0 && counts.failed === 0
  const state = !view.ok ? 'failed' : nothingAnchored ? 'pending' : 'verified'
  const title =
    state === 'failed'
      ? 'Verification failed'
      : state === 'pending'
        ? 'Not verifiable yet'
        : 'Verified against the chain'
  return (
    <section className={`verify-mark verify-${state}`} aria-labelledby="verify-title" aria-live="polite">
      <h2 id="verify-title">
        <span aria-hidden="true">{state === 'verified' ? '✔' : state === 'failed' ? '✖' : '…'}</span> {title}
      </h2>
      <p>
        {state === 'verified'
          ? `${counts.verified} ${counts.verified === 1 ? 'entry matches' : 'entries match'} the log root your health unit anchored on chain: nobody can have changed or removed them since.`
          : state === 'pending'
            ? 'None of these entries is covered by a root anchored on chain yet; the unit anchors its log periodically.'
            : 'Some entries do not match what the health unit anchored on chain: the log was changed after the fact, or the node serves it wrongly.'}
        {counts.unanchored > 0 && state !== 'pending'
          ? ` ${counts.unanchored} newer ${counts.unanchored === 1 ? 'entry is' : 'entries are'} not anchored yet.`
          : ''}
      </p>
      <dl className="facts">
        <dt>Entries checked</dt>
        <dd>
          {view.report.entries.length} ({counts.verified} verified, {counts.unanchored} not anchored yet,{' '}
          {counts.failed} failed)
        </dd>
        <dt>Anchored log size</dt>
        <dd>{view.latestAnchoredSize} entries in the unit’s whole log</dd>
        {view.anchor?.root ? (
          <>
            <dt>Anchored root</dt>
            <dd>
              <code title={view.anchor.root}>{shortAddress(view.anchor.root)}</code>
            </dd>
          </>
        ) : null}
        {view.anchor?.at ? (
          <>
            <dt>Anchored at</dt>
            <dd>{formatTime(view.anchor.at)}</dd>
          </>
        ) : null}
        <dt>Health unit</dt>
        <dd>
          <Person address={view.trail.unit} />
        </dd>
      </dl>
      {state === 'failed' ? (
        <ul className="problems">
          {[...view.report.problems, ...(view.fullLog?.problems ?? [])].slice(0, 10).map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      ) : null}
      <button type="button" onClick={props.onRecheck}>
        Check again
      </button>
    </section>
  )
}
