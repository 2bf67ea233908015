import { approveParticipant, rejectParticipant } from '@pcmims/core'
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

/** Unit admin: registrations waiting for the unit, to approve or reject after checking who asks. */
export function UnitRegistrations() {
  const { client } = useSession()
  const id = useId()
  const [rejecting, setRejecting] = useState<UnitParticipant | undefined>()
  const closeReject = useCallback(() => setRejecting(undefined), [])
  const state = useAsync((signal) => listUnitParticipants(client, { status: 'Pending', signal }), [client])
  const { busy, error, done, change } = useParticipantChange(state.reload)

  async function act(who: UnitParticipant, approve: boolean) {
    await change(who, approve ? approveParticipant : rejectParticipant, approve ? 'approved' : 'rejected')
    setRejecting(undefined)
  }

  return (
    <section aria-labelledby={`${id}-title`} className="staff-section">
      <div className="section-head">
        <h2 id={`${id}-title`}>Waiting for approval</h2>
        <button type="button" onClick={state.reload}>
          Refresh
        </button>
      </div>
      <p className="hint">
        Approve an account only after checking who holds it (at the desk, with an identity document). The
        address is what the person’s portal shows them.
      </p>
      <div aria-live="polite">
        {done ? (
          <p className="notice" role="status">
            {done}
          </p>
        ) : null}
      </div>
      {error ? <ErrorNote error={error} /> : null}
      <AsyncView state={state} loadingLabel="Loading registrations…">
        {(rows) =>
          rows.length === 0 ? (
            <EmptyState title="No registration is waiting" />
          ) : (
            <div className="table-wrap">
              <table className="staff-table">
                <caption className="staff-sr">Pending registrations</caption>
                <thead>
                  <tr>
                    <th scope="col">Account</th>
                    <th scope="col">Role asked</th>
                    <th scope="col">
                      <span className="staff-sr">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((p) => (
                    <tr key={p.address}>
                      <td data-label="Account">
                        <code className="address-full">{p.address}</code>
                      </td>
                      <td data-label="Role asked">{ROLE_LABELS[p.role] ?? p.role}</td>
                      <td>
                        {busy === p.address ? (
                          <Loading label="Sending to the chain…" />
                        ) : (
                          <div className="actions">
                            <button
                              type="button"
                              className="primary"
                              disabled={!!busy}
                              onClick={() => act(p, true)}
                              aria-label={`Approve ${p.address}`}
                            >
                              Approve
                            </button>
                            <button
                              type="button"
                              disabled={!!busy}
                              onClick={() => setRejecting(p)}
                              aria-label={`Reject ${p.address}`}
                            >
                              Reject
                            </button>
                          </div>
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
      {rejecting ? (
        <Dialog title="Reject this registration?" alert busy={!!busy} onClose={closeReject}>
          <p>
            <code className="address-full">{rejecting.address}</code> asked to register as{' '}
            {ROLE_LABELS[rejecting.role] ?? rejecting.role}. A rejected account cannot be approved later: the
            person would register again with a new account.
          </p>
          <div className="actions">
            <button type="button" className="danger" disabled={!!busy} onClick={() => act(rejecting, false)}>
              Reject registration
            </button>
            <button type="button" onClick={closeReject} disabled={!!busy}>
              Cancel
            </button>
          </div>
        </Dialog>
      ) : null}
    </section>
  )
}
