import { declareEmergency, MAX_EMERGENCY_DURATION, type PcmimsClient } from '@pcmims/core'
import { type FormEvent, useCallback, useId, useState } from 'react'
import type { Address } from 'viem'
import { useSession } from '../../session/session-context.js'
import { Dialog } from '../../ui/dialog.js'
import { formatRemaining, formatTime, shortAddress } from '../../ui/format.js'
import { AsyncView, EmptyState, ErrorNote, Loading } from '../../ui/states.js'
import { useAction } from '../../ui/use-action.js'
import { useAsync } from '../../ui/use-async.js'
import { PatientAddressField } from '../common/patient-address-field.js'
import { EMERGENCY_REASONS, type EmergencyRow, emergencyReasonLabel } from './emergency-reasons.js'

const MAX_HOURS = MAX_EMERGENCY_DURATION / 3600
const DURATIONS = [
  { seconds: 30 * 60, label: '30 minutes' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 2 * 3600, label: '2 hours' },
  { seconds: MAX_EMERGENCY_DURATION, label: `${MAX_HOURS} hours (the most allowed)` },
]

type Declared = { patient: Address; until: number; reasonCode: number; txHash: string }

/** Medic: break-glass access to a patient's records held by the medic's unit, with its consequences said first. */
export function MedicEmergency() {
  const [round, setRound] = useState(0)
  return (
    <>
      <DeclareForm onDeclared={() => setRound((n) => n + 1)} />
      <MyEmergencies refresh={round} />
    </>
  )
}

function DeclareForm(props: { onDeclared: () => void }) {
  const { client } = useSession()
  const id = useId()
  const [patient, setPatient] = useState<Address | undefined>()
  const [reason, setReason] = useState('')
  const [duration, setDuration] = useState(2 * 3600)
  const [confirming, setConfirming] = useState(false)
  const { busy, error, run } = useAction()
  const [refusal, setRefusal] = useState<unknown>()
  const [declared, setDeclared] = useState<Declared | undefined>()
  const [formKey, setFormKey] = useState(0)
  const onPatient = useCallback((value: Address | undefined) => setPatient(value), [])
  const closeConfirm = useCallback(() => setConfirming(false), [])
  const ready = !!patient && reason !== ''

  async function review(event: FormEvent) {
    event.preventDefault()
    if (!ready || !patient) return
    setRefusal(undefined)
    // The chain refuses a second declaration while one is active: say so before the confirmation. Not
    // a busy state: the button keeps focus, so the dialog can give it back on Escape.
    const active = await activeEmergency(client, patient).catch(() => undefined)
    if (active) {
      setRefusal(
        new Error(
          `You already have emergency access to this patient until ${formatTime(active.until)}; it cannot be extended.`,
        ),
      )
      return
    }
    setConfirming(true)
  }

  async function declare() {
    if (!patient || reason === '') return
    setRefusal(undefined)
    await run(async () => {
      const receipt = await declareEmergency(client.walletClient, {
        contract: client.config.contract,
        patient,
        reasonCode: Number(reason),
        durationSeconds: duration,
      })
      setDeclared({ patient, until: receipt.until, reasonCode: Number(reason), txHash: receipt.hash })
      setReason('')
      setFormKey((n) => n + 1)
      props.onDeclared()
    })
    // Declared or refused, the confirmation has had its answer.
    setConfirming(false)
  }

  const hours = DURATIONS.find((d) => d.seconds === duration)?.label ?? `${duration / 3600} hours`

  return (
    <form className="form staff-form" onSubmit={review} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Declare emergency access</h2>
      <p className="warning">
        For an emergency only, when the patient cannot give access. It opens the records your health unit
        holds for this patient, for at most {MAX_HOURS} hours.
      </p>
      <PatientAddressField key={formKey} onChange={onPatient} disabled={busy} />
      <label htmlFor={`${id}-reason`}>Reason</label>
      <select
        id={`${id}-reason`}
        value={reason}
        onChange={(event) => setReason(event.target.value)}
        required
        disabled={busy}
      >
        <option value="">Choose the reason…</option>
        {EMERGENCY_REASONS.map((r) => (
          <option key={r.code} value={r.code}>
            {r.label}
          </option>
        ))}
      </select>
      <label htmlFor={`${id}-duration`}>For how long</label>
      <select
        id={`${id}-duration`}
        value={duration}
        onChange={(event) => setDuration(Number(event.target.value))}
        disabled={busy}
      >
        {DURATIONS.map((d) => (
          <option key={d.seconds} value={d.seconds}>
            {d.label}
          </option>
        ))}
      </select>
      {error || refusal ? <ErrorNote error={error ?? refusal} /> : null}
      {declared ? (
        <p className="danger-note" role="status">
          Emergency access to patient <code>{shortAddress(declared.patient)}</code> (
          {emergencyReasonLabel(declared.reasonCode)}) until {formatTime(declared.until)}. The patient has
          been alerted. Their records are under My patients.
        </p>
      ) : null}
      <button type="submit" className="danger" disabled={busy || !ready}>
        Review consequences…
      </button>
      {confirming && patient ? (
        <Dialog title="Before you declare an emergency" alert busy={busy} onClose={closeConfirm}>
          <p>
            Patient <code title={patient}>{shortAddress(patient)}</code>, reason{' '}
            <strong>{emergencyReasonLabel(Number(reason))}</strong>, for <strong>{hours}</strong>.
          </p>
          <ul className="consequences">
            <li>
              The patient is alerted at once, on their portal’s first page, and sees your account and the
              reason.
            </li>
            <li>Every record you open is logged in the patient’s access log, which they can verify.</li>
            <li>
              It lasts at most {MAX_HOURS} hours ({hours} here) and cannot be extended; the patient can end it
              sooner.
            </li>
            <li>It is recorded on the chain for good. Misuse is answerable to your health unit.</li>
          </ul>
          {busy ? <Loading label="Declaring on the chain…" /> : null}
          <div className="actions">
            <button type="button" className="danger" onClick={declare} disabled={busy}>
              Declare emergency access
            </button>
            <button type="button" onClick={closeConfirm} disabled={busy}>
              Go back
            </button>
          </div>
        </Dialog>
      ) : null}
    </form>
  )
}

function MyEmergencies(props: { refresh: number }) {
  const { client, participant } = useSession()
  const id = useId()
  const state = useAsync(
    async (signal) => {
      const answer = await client.node.json<{ emergencies: EmergencyRow[] }>('GET', '/api/v1/emergencies', {
        signal,
      })
      const me = participant.address.toLowerCase()
      return answer.emergencies.filter((e) => e.medic.toLowerCase() === me)
    },
    [client, participant.address, props.refresh],
  )
  return (
    <section aria-labelledby={`${id}-title`} className="staff-section">
      <div className="section-head">
        <h2 id={`${id}-title`}>My emergency accesses</h2>
        <button type="button" onClick={state.reload}>
          Refresh
        </button>
      </div>
      <p className="hint">
        An emergency access ends by itself at its end time; only the patient can end it sooner.
      </p>
      <AsyncView state={state} loadingLabel="Loading your emergency accesses…">
        {(rows) =>
          rows.length === 0 ? (
            <EmptyState title="No emergency access declared" />
          ) : (
            <div className="table-wrap">
              <table className="staff-table">
                <caption className="staff-sr">Emergency accesses you declared</caption>
                <thead>
                  <tr>
                    <th scope="col">Patient</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Ends</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((e) => (
                    <tr key={`${e.patient}-${e.blockNumber}`}>
                      <td data-label="Patient">
                        <code title={e.patient}>{shortAddress(e.patient)}</code>
                      </td>
                      <td data-label="Reason">{emergencyReasonLabel(e.reasonCode)}</td>
                      <td data-label="Ends">
                        {formatTime(e.until)}
                        {e.active ? <span className="hint"> ({formatRemaining(e.until)} left)</span> : null}
                      </td>
                      <td data-label="Status">
                        {e.active ? (
                          <span className="badge badge-danger">Active</span>
                        ) : e.ended ? (
                          <span className="badge">Ended by the patient</span>
                        ) : (
                          <span className="badge">Expired</span>
                        )}
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

/** This medic's active emergency access to the patient, if any (a look-up failure only loses the early warning). */
async function activeEmergency(client: PcmimsClient, patient: Address): Promise<EmergencyRow | undefined> {
  const { emergencies } = await client.node.json<{ emergencies: EmergencyRow[] }>(
    'GET',
    '/api/v1/emergencies',
  )
  const me = client.account.address.toLowerCase()
  return emergencies.find(
    (e) => e.active && e.medic.toLowerCase() === me && e.patient.toLowerCase() === patient.toLowerCase(),
  )
}
