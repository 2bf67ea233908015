import { type Kind, kindsOf, Purpose, RECORD_KINDS, requestAccess } from '@pcmims/core'
import { type FormEvent, useCallback, useId, useState } from 'react'
import type { Address } from 'viem'
import { useSession } from '../../session/session-context.js'
import { shortAddress } from '../../ui/format.js'
import { AsyncView, EmptyState, ErrorNote, Loading } from '../../ui/states.js'
import { useAction } from '../../ui/use-action.js'
import { useAsync } from '../../ui/use-async.js'
import { PatientAddressField } from './patient-address-field.js'

const PURPOSES = Object.keys(Purpose) as Purpose[]

const PURPOSE_HELP: Record<Purpose, string> = {
  Treatment: 'care of this patient',
  Research: 'a study; patients often approve de-identified copies only',
  Insurance: 'a claim or a policy',
  Legal: 'a court or legal procedure',
  Other: 'anything else',
}

export const KIND_NAMES: Record<Kind, string> = {
  MRI: 'MRI',
  CT: 'CT',
  XRAY: 'X-ray',
  US: 'Ultrasound',
  REPORT: 'Reports',
  OTHER: 'Other',
}

export type AccessRequest = {
  id: string
  requestor: Address
  patient: Address
  scope: string
  kindMask: number
  purpose: string
  status: string
  direction: 'incoming' | 'outgoing'
}

/** Medic and requestor: ask a patient for access, and follow the requests made. */
export function RequestAccess() {
  const [round, setRound] = useState(0)
  return (
    <>
      <RequestForm onSent={() => setRound((n) => n + 1)} />
      <MyRequests refresh={round} />
    </>
  )
}

function RequestForm(props: { onSent: () => void }) {
  const { client } = useSession()
  const id = useId()
  const [patient, setPatient] = useState<Address | undefined>()
  const [purpose, setPurpose] = useState<Purpose | ''>('')
  const [scope, setScope] = useState<'All' | 'Kinds'>('All')
  const [kinds, setKinds] = useState<Kind[]>([])
  const { busy, error, run } = useAction()
  const [sent, setSent] = useState<{ id: bigint; patient: Address } | undefined>()
  const [formKey, setFormKey] = useState(0)
  const onPatient = useCallback((value: Address | undefined) => setPatient(value), [])
  const ready = !!patient && purpose !== '' && (scope === 'All' || kinds.length > 0)

  async function submit(event: FormEvent) {
    event.preventDefault()
    if (!patient || purpose === '') return
    setSent(undefined)
    await run(async () => {
      const receipt = await requestAccess(client.walletClient, {
        contract: client.config.contract,
        patient,
        scope,
        ...(scope === 'Kinds' ? { kinds } : {}),
        purpose,
      })
      setSent({ id: receipt.requestId, patient })
      setPurpose('')
      setScope('All')
      setKinds([])
      setFormKey((n) => n + 1)
      props.onSent()
    })
  }

  return (
    <form className="form staff-form" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Ask a patient for access</h2>
      <p className="hint">
        The patient sees who asks, why and for what, and approves (perhaps for de-identified copies only) or
        denies. The request is recorded on the chain.
      </p>
      <PatientAddressField key={formKey} onChange={onPatient} disabled={busy} />
      <label htmlFor={`${id}-purpose`}>Purpose</label>
      <select
        id={`${id}-purpose`}
        value={purpose}
        onChange={(event) => setPurpose(event.target.value as Purpose | '')}
        required
        disabled={busy}
      >
        <option value="">Choose a purpose…</option>
        {PURPOSES.map((p) => (
          <option key={p} value={p}>
            {p} — {PURPOSE_HELP[p]}
          </option>
        ))}
      </select>
      <fieldset disabled={busy}>
        <legend>Records asked for</legend>
        <label className="choice">
          <input
            type="radio"
            name={`${id}-scope`}
            checked={scope === 'All'}
            onChange={() => setScope('All')}
          />
          <span>All of the patient’s records</span>
        </label>
        <label className="choice">
          <input
            type="radio"
            name={`${id}-scope`}
            checked={scope === 'Kinds'}
            onChange={() => setScope('Kinds')}
          />
          <span>Only some kinds</span>
        </label>
        {scope === 'Kinds' ? (
          <fieldset className="kind-choices">
            <legend>Kinds of records</legend>
            {RECORD_KINDS.map((kind) => (
              <label key={kind} className="choice">
                <input
                  type="checkbox"
                  checked={kinds.includes(kind)}
                  onChange={(event) =>
                    setKinds((now) => (event.target.checked ? [...now, kind] : now.filter((k) => k !== kind)))
                  }
                />
                <span>{KIND_NAMES[kind]}</span>
              </label>
            ))}
          </fieldset>
        ) : null}
      </fieldset>
      <p className="hint">
        How long access lasts, and whether you may download, is the patient’s choice when approving.
      </p>
      {error ? <ErrorNote error={error} /> : null}
      {busy ? <Loading label="Sending the request to the chain…" /> : null}
      {sent ? (
        <p className="notice" role="status">
          Request #{sent.id.toString()} sent to patient <code>{shortAddress(sent.patient)}</code>. It is
          pending until the patient answers.
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={busy || !ready}>
        Send request
      </button>
    </form>
  )
}

/** The requests this account made, newest first, with their status (from the node's index of the chain). */
export function MyRequests(props: { refresh?: number | undefined }) {
  const { client } = useSession()
  const id = useId()
  const state = useAsync(
    async (signal) => {
      const answer = await client.node.json<{ requests: AccessRequest[] }>('GET', '/api/v1/requests', {
        signal,
      })
      return answer.requests.filter((r) => r.direction === 'outgoing')
    },
    [client, props.refresh],
  )
  return (
    <section aria-labelledby={`${id}-title`} className="staff-section">
      <div className="section-head">
        <h2 id={`${id}-title`}>Requests you sent</h2>
        <button type="button" onClick={state.reload}>
          Refresh
        </button>
      </div>
      <AsyncView state={state} loadingLabel="Loading your requests…">
        {(requests) =>
          requests.length === 0 ? (
            <EmptyState title="No requests yet">
              <p>Requests you send appear here with the patient’s answer.</p>
            </EmptyState>
          ) : (
            <div className="table-wrap">
              <table className="staff-table">
                <caption className="staff-sr">Access requests you sent</caption>
                <thead>
                  <tr>
                    <th scope="col">Request</th>
                    <th scope="col">Patient</th>
                    <th scope="col">Purpose</th>
                    <th scope="col">Records</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {requests.map((r) => (
                    <tr key={r.id}>
                      <td data-label="Request">#{r.id}</td>
                      <td data-label="Patient">
                        <code title={r.patient}>{shortAddress(r.patient)}</code>
                      </td>
                      <td data-label="Purpose">{r.purpose}</td>
                      <td data-label="Records">{describeKinds(r.scope, r.kindMask)}</td>
                      <td data-label="Status">
                        <span className={`badge badge-${r.status.toLowerCase()}`}>{r.status}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </AsyncView>
    </section>
  )
}

export function describeKinds(scope: string, kindMask: number, records = 0): string {
  if (scope === 'All') return 'All records'
  if (scope === 'Records') return `${records} chosen ${records === 1 ? 'record' : 'records'}`
  const kinds = kindsOf(kindMask)
  return kinds.length ? kinds.map((k) => KIND_NAMES[k]).join(', ') : 'None'
}
