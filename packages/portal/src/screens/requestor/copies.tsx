import { listReceivedGrants, listRecords, type RecordSummary } from '@pcmims/core'
import { useId } from 'react'
import { useRecordOpener } from '../../app/record-opener.js'
import { useSession } from '../../session/session-context.js'
import { formatTime, shortAddress } from '../../ui/format.js'
import { AsyncView, EmptyState } from '../../ui/states.js'
import { useAsync } from '../../ui/use-async.js'
import { KIND_NAMES } from '../common/request-access.js'

/**
 * Requestor: the de-identified copies patients made for this account. Each patient who approved a request
 * is asked for their records; only the copies whose audience is this account are shown.
 */
export function RequestorCopies() {
  const { client, participant } = useSession()
  const id = useId()
  const open = useRecordOpener()
  const state = useAsync(
    async (signal) => {
      const grants = await listReceivedGrants(client, { signal })
      const me = participant.address.toLowerCase()
      const patients = [...new Set(grants.map((g) => g.patient))]
      const copies: RecordSummary[] = []
      for (const patient of patients) {
        const records = await listRecords(client, { patient, signal })
        copies.push(...records.filter((r) => r.deidentifiedFrom && r.audience?.toLowerCase() === me))
      }
      return copies.sort((a, b) => b.createdAt - a.createdAt)
    },
    [client, participant.address],
  )
  return (
    <section aria-labelledby={`${id}-title`} className="staff-section">
      <div className="section-head">
        <h2 id={`${id}-title`}>De-identified copies made for you</h2>
        <button type="button" onClick={state.reload}>
          Refresh
        </button>
      </div>
      <p className="hint">
        Names, dates of birth, record numbers and other identifying attributes were removed by the patient’s
        browser before the copy was made; you cannot open the originals.
      </p>
      <AsyncView state={state} loadingLabel="Looking for copies made for you…">
        {(copies) =>
          copies.length === 0 ? (
            <EmptyState title="No copies received yet">
              <p>When a patient approves your request for de-identified copies, they appear here.</p>
            </EmptyState>
          ) : (
            <div className="table-wrap">
              <table className="staff-table">
                <caption className="staff-sr">De-identified copies you received</caption>
                <thead>
                  <tr>
                    <th scope="col">Kind</th>
                    <th scope="col">From patient</th>
                    <th scope="col">Made</th>
                    <th scope="col">
                      <span className="staff-sr">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {copies.map((copy, index) => {
                    const title = `De-identified ${KIND_NAMES[copy.kind]} copy ${index + 1}`
                    return (
                      <tr key={copy.id}>
                        <td data-label="Kind">
                          {KIND_NAMES[copy.kind]} <span className="badge badge-ok">De-identified</span>
                        </td>
                        <td data-label="From patient">
                          <code title={copy.patient}>{shortAddress(copy.patient)}</code>
                        </td>
                        <td data-label="Made">{formatTime(copy.createdAt)}</td>
                        <td>
                          <button
                            type="button"
                            onClick={() => open(copy.id, { title })}
                            aria-label={`Open ${title}`}
                          >
                            Open
                          </button>
                        </td>
                      </tr>
                    )
                  })}
                </tbody>
              </table>
            </div>
          )
        }
      </AsyncView>
    </section>
  )
}
