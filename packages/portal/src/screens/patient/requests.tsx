import {
  createDeidentifiedCopy,
  getRequest,
  Kind,
  listRecords,
  type PcmimsClient,
  PreconditionError,
  respondToRequest,
} from '@pcmims/core'
import { useId, useState } from 'react'
import type { Address, Hex } from 'viem'
import { useSession } from '../../session/session-context.js'
import { Dialog } from '../../ui/dialog.js'
import { formatTime, shortAddress } from '../../ui/format.js'
import { EmptyState, ErrorNote, Loading } from '../../ui/states.js'
import { useAction } from '../../ui/use-action.js'
import { useAsync } from '../../ui/use-async.js'
import { KIND_LABELS } from '../common/record-list.js'
import { Cell } from './cell.js'
import { type CopyProgress, describeCopies, makeDeidentifiedCopies } from './deidentified-copies.js'
import { scopeText } from './grants.js'
import { Person, roleOf, useAddressNames, useRoles } from './people.js'
import { type DurationChoice, DurationPicker, expiryOf } from './terms.js'

type AccessRequest = {
  id: string
  requestor: Address
  patient: Address
  scope: string
  kindMask: number
  purpose: string
  status: 'Pending' | 'Approved' | 'Denied' | string
  direction: 'incoming' | 'outgoing'
  /** Unix seconds, read from the chain. */
  createdAt?: number | undefined
}

async function fetchIncoming(client: PcmimsClient, signal: AbortSignal): Promise<AccessRequest[]> {
  const answer = await client.node.json<{ requests: AccessRequest[] }>('GET', '/api/v1/requests', { signal })
  const incoming = answer.requests.filter((r) => r.direction === 'incoming')
  // The node's index has no time; the chain has it (and the status as the chain knows it now).
  return Promise.all(
    incoming.map(async (r) => {
      try {
        const onChain = await getRequest(client.publicClient, {
          contract: client.config.contract,
          id: BigInt(r.id),
        })
        return { ...r, createdAt: onChain.createdAt, status: onChain.status }
      } catch {
        return r
      }
    }),
  )
}

const PURPOSE_TEXT: Record<string, string> = {
  Treatment: 'Treatment',
  Research: 'Research',
  Insurance: 'Insurance',
  Legal: 'Legal',
  Other: 'Other',
}

/** Access requests to the patient: approve (optionally de-identified only) or deny. */
export function PatientRequests() {
  const { client } = useSession()
  const requests = useAsync((signal) => fetchIncoming(client, signal), [client])
  const [approving, setApproving] = useState<AccessRequest>()
  const [denying, setDenying] = useState<AccessRequest>()
  const [message, setMessage] = useState('')
  const roles = useRoles(requests.status === 'ready' ? requests.value.map((r) => r.requestor) : [])

  if (requests.status === 'loading') return <Loading label="Loading requests…" />
  if (requests.status === 'error') return <ErrorNote error={requests.error} onRetry={requests.reload} />
  const pending = requests.value.filter((r) => r.status === 'Pending')
  const answered = requests.value.filter((r) => r.status !== 'Pending')

  return (
    <div className="requests">
      <p className="lead">
        People ask here to see your records, saying why. Approving creates a grant you can change or revoke
        under Sharing; approving de-identified only gives them copies without your name, dates or identifiers.
      </p>
      <p role="status" aria-live="polite" className="status-line">
        {message}
      </p>
      <section aria-labelledby="pending-title">
        <div className="section-head">
          <h2 id="pending-title">Waiting for your answer ({pending.length})</h2>
          <button type="button" onClick={requests.reload}>
            Refresh
          </button>
        </div>
        {pending.length === 0 ? (
          <EmptyState title="No requests waiting" />
        ) : (
          <ul className="request-cards">
            {pending.map((r) => (
              <RequestCard
                key={r.id}
                request={r}
                participantRole={roleOf(roles, r.requestor)}
                onApprove={() => setApproving(r)}
                onDeny={() => setDenying(r)}
              />
            ))}
          </ul>
        )}
      </section>
      {answered.length > 0 ? (
        <section aria-labelledby="answered-title">
          <h2 id="answered-title">Answered</h2>
          <div className="table-wrap">
            <table className="stack-table">
              <thead>
                <tr>
                  <th scope="col">From</th>
                  <th scope="col">Purpose</th>
                  <th scope="col">Asked for</th>
                  <th scope="col">Sent</th>
                  <th scope="col">Answer</th>
                </tr>
              </thead>
              <tbody>
                {answered.map((r) => (
                  <tr key={r.id}>
                    <Cell label="From">
                      <Person address={r.requestor} participantRole={roleOf(roles, r.requestor)} />
                    </Cell>
                    <Cell label="Purpose">{PURPOSE_TEXT[r.purpose] ?? r.purpose}</Cell>
                    <Cell label="Asked for">{scopeText(r)}</Cell>
                    <Cell label="Sent">{formatTime(r.createdAt)}</Cell>
                    <Cell label="Answer">
                      <span className={`badge ${r.status === 'Approved' ? 'badge-ok' : 'badge-danger'}`}>
                        {r.status}
                      </span>
                    </Cell>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
      {approving ? (
        <ApproveDialog
          request={approving}
          onClose={() => setApproving(undefined)}
          onDone={(text) => {
            setApproving(undefined)
            setMessage(text)
            requests.reload()
          }}
        />
      ) : null}
      {denying ? (
        <DenyDialog
          request={denying}
          onClose={() => setDenying(undefined)}
          onDone={(text) => {
            setDenying(undefined)
            setMessage(text)
            requests.reload()
          }}
        />
      ) : null}
    </div>
  )
}

function RequestCard(props: {
  request: AccessRequest
  participantRole: string | undefined
  onApprove: () => void
  onDeny: () => void
}) {
  const { request } = props
  const nameOf = useAddressNames()
  const who = nameOf(request.requestor) ?? shortAddress(request.requestor)
  const id = useId()
  return (
    <li className="card request-card" aria-labelledby={id}>
      <h3 id={id}>
        Request from {who} <span className="hint">#{request.id}</span>
      </h3>
      <dl className="facts">
        <dt>From</dt>
        <dd>
          <Person address={request.requestor} participantRole={props.participantRole} />
        </dd>
        <dt>Purpose</dt>
        <dd>{PURPOSE_TEXT[request.purpose] ?? request.purpose}</dd>
        <dt>Asks for</dt>
        <dd>{scopeText(request)}</dd>
        <dt>Sent</dt>
        <dd>{formatTime(request.createdAt)}</dd>
      </dl>
      <div className="actions">
        <button
          type="button"
          className="primary"
          onClick={props.onApprove}
          aria-label={`Approve request from ${who}…`}
        >
          Approve…
        </button>
        <button type="button" onClick={props.onDeny} aria-label={`Deny request from ${who}…`}>
          Deny…
        </button>
      </div>
    </li>
  )
}

function ApproveDialog(props: {
  request: AccessRequest
  onClose: () => void
  onDone: (message: string) => void
}) {
  const { client } = useSession()
  const { request } = props
  const [duration, setDuration] = useState<DurationChoice>({ preset: '30d', until: '' })
  const [download, setDownload] = useState(false)
  const [includeBurnedIn, setIncludeBurnedIn] = useState(false)
  const [busy, setBusy] = useState<string>()
  const [progress, setProgress] = useState<CopyProgress>()
  const [error, setError] = useState<unknown>()

  async function approve(deidentifiedOnly: boolean) {
    setError(undefined)
    setBusy('Sending the approval to the chain…')
    try {
      const expiresAt = await expiryOf(client, duration)
      await respondToRequest(client, {
        requestId: BigInt(request.id),
        approve: true,
        expiresAt,
        download,
        deidentifiedOnly,
      })
      if (!deidentifiedOnly) {
        props.onDone(`Approved request #${request.id} until ${formatTime(expiresAt)}.`)
        return
      }
      setBusy('Making de-identified copies…')
      const outcome = await makeDeidentifiedCopies(client, {
        audience: request.requestor,
        covers: (r) => request.scope !== 'Kinds' || ((request.kindMask >> Kind[r.kind]) & 1) === 1,
        includeBurnedIn,
        onProgress: setProgress,
      })
      props.onDone(
        `Approved request #${request.id} (de-identified only) until ${formatTime(expiresAt)}. ${describeCopies(outcome)}`,
      )
    } catch (caught) {
      setError(caught)
      setBusy(undefined)
      setProgress(undefined)
    }
  }

  return (
    <Dialog title={`Approve request #${request.id}`} onClose={props.onClose} busy={Boolean(busy)}>
      <dl className="facts">
        <dt>From</dt>
        <dd>
          <Person address={request.requestor} />
        </dd>
        <dt>Purpose</dt>
        <dd>{PURPOSE_TEXT[request.purpose] ?? request.purpose}</dd>
        <dt>Asks for</dt>
        <dd>{scopeText(request)}</dd>
      </dl>
      <DurationPicker value={duration} onChange={setDuration} />
      <fieldset>
        <legend>Terms</legend>
        <label className="choice">
          <input type="checkbox" checked={download} onChange={(e) => setDownload(e.target.checked)} />
          <span>
            Allow downloading the files<span className="hint"> — otherwise view only</span>
          </span>
        </label>
        <label className="choice">
          <input
            type="checkbox"
            checked={includeBurnedIn}
            onChange={(e) => setIncludeBurnedIn(e.target.checked)}
          />
          <span>
            In de-identified copies, include images that may show burned-in text
            <span className="hint"> — held back otherwise</span>
          </span>
        </label>
      </fieldset>
      <p className="hint">
        “Approve de-identified only” makes, here in your browser, a copy of each of your imaging studies the
        request covers, without names, dates, identifiers or descriptions, readable only by this requestor.
        Reports cannot be de-identified automatically and are not copied.
      </p>
      {error ? <ErrorNote error={error} /> : null}
      {busy ? <Loading label={busy} /> : null}
      {progress ? (
        <div className="copy-progress">
          <p aria-live="polite">
            Copy {progress.index} of {progress.total} ({progress.kind}): {progress.stage} {progress.done}/
            {progress.of}
          </p>
          <progress
            className="progress"
            max={progress.of || 1}
            value={progress.done}
            aria-label={`De-identified copy ${progress.index} of ${progress.total}`}
          />
        </div>
      ) : null}
      <div className="actions">
        <button type="button" className="primary" onClick={() => approve(false)} disabled={Boolean(busy)}>
          Approve
        </button>
        <button type="button" onClick={() => approve(true)} disabled={Boolean(busy)}>
          Approve de-identified only
        </button>
        <button type="button" onClick={props.onClose} disabled={Boolean(busy)}>
          Cancel
        </button>
      </div>
    </Dialog>
  )
}

function DenyDialog(props: {
  request: AccessRequest
  onClose: () => void
  onDone: (message: string) => void
}) {
  const { client } = useSession()
  const { busy, error, run } = useAction()
  const deny = () =>
    run(async () => {
      await respondToRequest(client, { requestId: BigInt(props.request.id), approve: false })
      props.onDone(`Denied request #${props.request.id}.`)
    })
  return (
    <Dialog title={`Deny request #${props.request.id}?`} onClose={props.onClose} busy={busy}>
      <p>
        <Person address={props.request.requestor} /> sees the request as denied and gets no access. They can
        ask again.
      </p>
      {error ? <ErrorNote error={error} /> : null}
      {busy ? <Loading label="Sending the answer to the chain…" /> : null}
      <div className="actions">
        <button type="button" className="danger" onClick={deny} disabled={busy}>
          Deny request
        </button>
        <button type="button" onClick={props.onClose} disabled={busy}>
          Cancel
        </button>
      </div>
    </Dialog>
  )
}
