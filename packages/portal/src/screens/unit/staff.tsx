import { approveParticipant, suspendParticipant } from '@pcmims/core'
import { useCallback, useId, useState } from 'react'
import type { Address } from 'viem'
import { useSession } from '../../session/session-context.js'
import { Dialog } from '../../ui/dialog.js'
import { shortAddress } from '../../ui/format.js'
import { AsyncView, EmptyState, ErrorNote, Loading } from '../../ui/states.js'
import { useAsync } from '../../ui/use-async.js'
import {
  listUnitParticipants,
  ROLE_LABELS,
  type UnitParticipant,
  useParticipantChange,
} from './unit-participants.js'

const ROLE_ORDER = ['Medic', 'Uploader', 'Requestor', 'Patient']
const SECTION_TITLES: Record<string, string> = {
  Medic: 'Medics',
  Uploader: 'Radiologists and labs',
  Requestor: 'Requestors',
  Patient: 'Patients',
}

/** Unit admin: the approved (and suspended) accounts of the unit, by role; suspend or reinstate. */
export function UnitStaff() {
  const { client } = useSession()
  const [suspending, setSuspending] = useState<UnitParticipant | undefined>()
  const closeSuspend = useCallback(() => setSuspending(undefined), [])
  const state = useAsync(
    async (signal) => {
      const all = await listUnitParticipants(client, { signal })
      return all.filter((p) => p.status === 'Approved' || p.status === 'Suspended')
    },
    [client],
  )
  const { busy, error, done, change } = useParticipantChange(state.reload)

  async function act(who: UnitParticipant, suspend: boolean) {
    await change(who, suspend ? suspendParticipant : approveParticipant, suspend ? 'suspended' : 'reinstated')
    setSuspending(undefined)
  }

  return (
    <div className="staff-section">
      <div className="section-head">
        <p className="hint">Accounts your unit approved. A suspended account can read and upload nothing.</p>
        <button type="button" onClick={state.reload}>
          Refresh
        </button>
      </div>
      <div aria-live="polite">
        {done ? (
          <p className="notice" role="status">
            {done}
          </p>
        ) : null}
      </div>
      {error ? <ErrorNote error={error} /> : null}
      <AsyncView state={state} loadingLabel="Loading the unit’s accounts…">
        {(rows) =>
          rows.length === 0 ? (
            <EmptyState title="No approved accounts yet" />
          ) : (
            ROLE_ORDER.filter((role) => rows.some((p) => p.role === role)).map((role) => (
              <RoleTable
                key={role}
                title={SECTION_TITLES[role] ?? role}
                rows={rows.filter((p) => p.role === role)}
                busy={busy}
                onSuspend={setSuspending}
                onReinstate={(p) => act(p, false)}
              />
            ))
          )
        }
      </AsyncView>
      {suspending ? (
        <Dialog title="Suspend this account?" alert busy={!!busy} onClose={closeSuspend}>
          <p>
            {ROLE_LABELS[suspending.role] ?? suspending.role}{' '}
            <code className="address-full">{suspending.address}</code>
          </p>
          <ul className="consequences">
            <li>From the next block, the chain refuses this account everything its role allows.</li>
            <li>Keys it already used to decrypt records cannot be taken back.</li>
            <li>You can reinstate the account later.</li>
          </ul>
          <div className="actions">
            <button type="button" className="danger" disabled={!!busy} onClick={() => act(suspending, true)}>
              Suspend account
            </button>
            <button type="button" onClick={closeSuspend} disabled={!!busy}>
              Cancel
            </button>
          </div>
        </Dialog>
      ) : null}
    </div>
  )
}

function RoleTable(props: {
  title: string
  rows: UnitParticipant[]
  busy: Address | undefined
  onSuspend: (p: UnitParticipant) => void
  onReinstate: (p: UnitParticipant) => void
}) {
  const id = useId()
  return (
    <section aria-labelledby={`${id}-title`} className="staff-role">
      <h2 id={`${id}-title`}>
        {props.title} <span className="hint">({props.rows.length})</span>
      </h2>
      <div className="table-wrap">
        <table className="staff-table">
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="staff-sr">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((p) => (
              <tr key={p.address}>
                <td data-label="Account">
                  <code className="address-full">{p.address}</code>
                </td>
                <td data-label="Status">
                  <span className={`badge badge-${p.status.toLowerCase()}`}>{p.status}</span>
                </td>
                <td>
                  {props.busy === p.address ? (
                    <Loading label="Sending to the chain…" />
                  ) : p.status === 'Approved' ? (
                    <button
                      type="button"
                      disabled={!!props.busy}
                      onClick={() => props.onSuspend(p)}
                      aria-label={`Suspend ${p.address}`}
                    >
                      Suspend
                    </button>
                  ) : (
                    <button
                      type="button"
                      disabled={!!props.busy}
                      onClick={() => props.onReinstate(p)}
                      aria-label={`Reinstate ${p.address}`}
                    >
                      Reinstate
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}
