import { listReceivedGrants, type ReceivedGrant } from '@pcmims/core'
import { useId, useState } from 'react'
import type { Address } from 'viem'
import { useSession } from '../../session/session-context.js'
import { formatRemaining, formatTime, shortAddress } from '../../ui/format.js'
import { AsyncView, EmptyState } from '../../ui/states.js'
import { useAsync } from '../../ui/use-async.js'
import { RecordList } from '../common/record-list.js'
import { describeKinds } from '../common/request-access.js'
import { type EmergencyRow, emergencyReasonLabel } from './emergency-reasons.js'

type PatientAccess =
  | { basis: 'grant'; patient: Address; grant: ReceivedGrant }
  | { basis: 'emergency'; patient: Address; emergency: EmergencyRow }

/** Medic: the patients who let this medic read their records, and those under an emergency access. */
export function MedicPatients() {
  const { client, participant } = useSession()
  const id = useId()
  const [chosen, setChosen] = useState<PatientAccess | undefined>()
  const state = useAsync(
    async (signal): Promise<PatientAccess[]> => {
      const [grants, emergencies] = await Promise.all([
        listReceivedGrants(client, { signal }),
        client.node.json<{ emergencies: EmergencyRow[] }>('GET', '/api/v1/emergencies', { signal }),
      ])
      const me = participant.address.toLowerCase()
      return [
        ...emergencies.emergencies
          .filter((e) => e.active && e.medic.toLowerCase() === me)
          .map((e) => ({ basis: 'emergency' as const, patient: e.patient, emergency: e })),
        ...grants.map((g) => ({ basis: 'grant' as const, patient: g.patient, grant: g })),
      ]
    },
    [client, participant.address],
  )

  if (chosen) {
    return (
      <div className="staff-chosen">
        <button type="button" onClick={() => setChosen(undefined)}>
          ← All my patients
        </button>
        <h2>
          Records of patient <code title={chosen.patient}>{shortAddress(chosen.patient)}</code>
        </h2>
        <AccessSummary access={chosen} />
        <RecordList patient={chosen.patient} emptyTitle="No records you can see for this patient" />
      </div>
    )
  }

  return (
    <section aria-labelledby={`${id}-title`} className="staff-section">
      <div className="section-head">
        <h2 id={`${id}-title`}>Patients who gave you access</h2>
        <button type="button" onClick={state.reload}>
          Refresh
        </button>
      </div>
      <AsyncView state={state} loadingLabel="Loading your patients…">
        {(rows) =>
          rows.length === 0 ? (
            <EmptyState title="No patient has given you access">
              <p>
                Ask a patient for access on the Request access page; patients can also share with you on their
                own.
              </p>
            </EmptyState>
          ) : (
            <div className="table-wrap">
              <table className="staff-table">
                <caption className="staff-sr">Patients whose records you may read</caption>
                <thead>
                  <tr>
                    <th scope="col">Patient</th>
                    <th scope="col">Records</th>
                    <th scope="col">Until</th>
                    <th scope="col">Access</th>
                    <th scope="col">
                      <span className="staff-sr">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((row) => (
                    <tr key={`${row.basis}-${row.patient}`}>
                      <td data-label="Patient">
                        <code title={row.patient}>{shortAddress(row.patient)}</code>
                      </td>
                      <td data-label="Records">
                        {row.basis === 'grant'
                          ? describeKinds(row.grant.scope, row.grant.kindMask, row.grant.records.length)
                          : 'Records held by your unit'}
                      </td>
                      <td data-label="Until">
                        {formatTime(row.basis === 'grant' ? row.grant.expiresAt : row.emergency.until)}
                        <br />
                        <span className="hint">
                          {formatRemaining(row.basis === 'grant' ? row.grant.expiresAt : row.emergency.until)}{' '}
                          left
                        </span>
                      </td>
                      <td data-label="Access">
                        <AccessBadges access={row} />
                      </td>
                      <td>
                        <button
                          type="button"
                          onClick={() => setChosen(row)}
                          aria-label={`Open records of patient ${shortAddress(row.patient)}`}
                        >
                          Open records
                        </button>
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

function AccessBadges(props: { access: PatientAccess }) {
  const { access } = props
  if (access.basis === 'emergency')
    return (
      <span className="badge badge-danger" title={emergencyReasonLabel(access.emergency.reasonCode)}>
        Emergency access
      </span>
    )
  return (
    <span className="staff-badges">
      {access.grant.download ? (
        <span className="badge badge-ok">View and download</span>
      ) : (
        <span className="badge">View only</span>
      )}
      {access.grant.deidentifiedOnly ? <span className="badge badge-warn">De-identified only</span> : null}
    </span>
  )
}

function AccessSummary(props: { access: PatientAccess }) {
  const { access } = props
  if (access.basis === 'emergency')
    return (
      <p className="danger-note">
        Emergency access ({emergencyReasonLabel(access.emergency.reasonCode)}) until{' '}
        {formatTime(access.emergency.until)}. The patient sees it; every record you open is logged.
      </p>
    )
  return (
    <p className="notice">
      {describeKinds(access.grant.scope, access.grant.kindMask, access.grant.records.length)}, until{' '}
      {formatTime(access.grant.expiresAt)} ({formatRemaining(access.grant.expiresAt)} left).{' '}
      {access.grant.download ? 'You may view and download.' : 'View only: downloads are not allowed.'}
    </p>
  )
}
