import { endEmergency, type PcmimsClient } from '@pcmims/core'
import { useEffect, useState, useSyncExternalStore } from 'react'
import { onWipe } from '../../session/secrets.js'
import { useSession } from '../../session/session-context.js'
import { Dialog } from '../../ui/dialog.js'
import { formatRemaining, formatTime, shortAddress } from '../../ui/format.js'
import { EmptyState, ErrorNote, Loading } from '../../ui/states.js'
import { useAction } from '../../ui/use-action.js'
import { useAsync } from '../../ui/use-async.js'
import { Cell } from './cell.js'
import { type Emergency, fetchEmergencies, reasonName } from './grants.js'
import { Person, useAddressNames } from './people.js'

type DatedEmergency = Emergency & { startedAt?: number | undefined }

// The banner and the page share the latest answer: what the page loads (or ends) shows in the banner at once.
let latest: DatedEmergency[] | undefined
const subscribers = new Set<() => void>()
function publish(list: DatedEmergency[] | undefined) {
  latest = list
  for (const notify of subscribers) notify()
}
function subscribe(notify: () => void) {
  subscribers.add(notify)
  return () => subscribers.delete(notify)
}
onWipe(() => publish(undefined))

async function loadEmergencies(client: PcmimsClient, signal: AbortSignal): Promise<DatedEmergency[]> {
  const list = await fetchEmergencies(client, signal)
  const times = new Map<number, number>()
  // When it started: the timestamp of the block that declared it, read from the chain.
  await Promise.all(
    [...new Set(list.map((e) => e.blockNumber))].map(async (blockNumber) => {
      try {
        const block = await client.publicClient.getBlock({ blockNumber: BigInt(blockNumber) })
        times.set(blockNumber, Number(block.timestamp))
      } catch {
        // Without the start time the row still says who, why and until when.
      }
    }),
  )
  return list.map((e) => ({ ...e, startedAt: times.get(e.blockNumber) }))
}

function useEmergencies(pollMs: number) {
  const { client } = useSession()
  const state = useAsync((signal) => loadEmergencies(client, signal), [client])
  const { reload } = state
  const value = state.status === 'ready' ? state.value : undefined
  useEffect(() => {
    if (value) publish(value)
  }, [value])
  useEffect(() => {
    const timer = window.setInterval(reload, pollMs)
    return () => window.clearInterval(timer)
  }, [reload, pollMs])
  return state
}

/** Goes to the emergency page through the shell's history handling (a page load would lose the keys). */
function goToEmergencies(event: React.MouseEvent<HTMLAnchorElement>) {
  event.preventDefault()
  window.history.pushState(null, '', '/emergencies')
  window.dispatchEvent(new PopStateEvent('popstate'))
  document.getElementById('main')?.focus()
}

/** On every patient page: active emergency accesses, impossible to miss; nothing when there are none. */
export function EmergencyBanner() {
  useEmergencies(30_000)
  const list = useSyncExternalStore(subscribe, () => latest)
  const nameOf = useAddressNames()
  const active = (list ?? []).filter((e) => e.active && e.until > Date.now() / 1000)
  if (active.length === 0) return null
  return (
    <div className="emergency-banner" role="alert">
      <p className="emergency-banner-title">
        <span aria-hidden="true">⚠</span> Emergency access to your records is active
      </p>
      <ul>
        {active.map((e) => (
          <li key={`${e.medic}-${e.blockNumber}`}>
            {nameOf(e.medic) ?? 'A medic'} ({shortAddress(e.medic)}) can read your records without your grant
            {e.startedAt ? ` since ${formatTime(e.startedAt)}` : ''}, until {formatTime(e.until)} (
            {formatRemaining(e.until)} left). Reason: {reasonName(e.reasonCode)}.
          </li>
        ))}
      </ul>
      <a href="/emergencies" onClick={goToEmergencies}>
        Review emergency access
      </a>
    </div>
  )
}

/** Every emergency access to the patient's records (break-glass by a medic), with a way to end it. */
export function PatientEmergencies() {
  const state = useEmergencies(30_000)
  const [ending, setEnding] = useState<DatedEmergency>()
  const [message, setMessage] = useState('')
  if (state.status === 'loading') return <Loading label="Loading emergency accesses…" />
  if (state.status === 'error') return <ErrorNote error={state.error} onRetry={state.reload} />
  const list = state.value
  return (
    <div className="emergencies">
      <p className="lead">
        In an emergency a medic of your health unit can read your records without your grant, for a few hours
        at most. Every such access is public on the chain, listed here, and in your access log. You can end an
        active one now.
      </p>
      <p role="status" aria-live="polite" className="status-line">
        {message}
      </p>
      {list.length === 0 ? (
        <EmptyState title="No emergency access, ever">
          <p>No medic has used emergency access to your records.</p>
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="stack-table">
            <thead>
              <tr>
                <th scope="col">Medic</th>
                <th scope="col">Reason</th>
                <th scope="col">Started</th>
                <th scope="col">Ends</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((e) => (
                <tr key={`${e.medic}-${e.blockNumber}`} className={e.active ? 'row-danger' : undefined}>
                  <Cell label="Medic">
                    <Person address={e.medic} participantRole="Medic" />
                  </Cell>
                  <Cell label="Reason">{reasonName(e.reasonCode)}</Cell>
                  <Cell label="Started">{formatTime(e.startedAt)}</Cell>
                  <Cell label="Ends">
                    {formatTime(e.until)}
                    {e.active ? <span className="hint"> ({formatRemaining(e.until)} left)</span> : null}
                  </Cell>
                  <Cell label="State">
                    <span className={`badge ${e.active ? 'badge-danger' : ''}`}>
                      {e.active ? 'Active' : e.ended ? 'Ended by you' : 'Expired'}
                    </span>
                  </Cell>
                  <td className="row-actions">
                    {e.active ? (
                      <button type="button" className="danger" onClick={() => setEnding(e)}>
                        End now…
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {ending ? (
        <EndDialog
          emergency={ending}
          onClose={() => setEnding(undefined)}
          onDone={(text) => {
            setEnding(undefined)
            setMessage(text)
            state.reload()
          }}
        />
      ) : null}
    </div>
  )
}

function EndDialog(props: {
  emergency: DatedEmergency
  onClose: () => void
  onDone: (message: string) => void
}) {
  const { client } = useSession()
  const { busy, error, run } = useAction()
  const end = () =>
    run(async () => {
      await endEmergency(client.walletClient, {
        contract: client.config.contract,
        medic: props.emergency.medic,
      })
      props.onDone(`Ended the emergency access of ${shortAddress(props.emergency.medic)}.`)
    })
  return (
    <Dialog title="End this emergency access?" onClose={props.onClose} busy={busy}>
      <p>
        <Person address={props.emergency.medic} /> loses emergency access now. What they already read cannot
        be recalled; it stays in your access log.
      </p>
      {error ? <ErrorNote error={error} /> : null}
      {busy ? <Loading label="Sending to the chain…" /> : null}
      <div className="actions">
        <button type="button" className="danger" onClick={end} disabled={busy}>
          End emergency access
        </button>
        <button type="button" onClick={props.onClose} disabled={busy}>
          Cancel
        </button>
      </div>
    </Dialog>
  )
}
