import {
  createGrant,
  kindsOf,
  RECORD_KINDS,
  type RecordKind,
  type RotateRecordKeyReturnType,
  revokeAccess,
  rotateRecordKey,
} from '@pcmims/core'
import { type FormEvent, useId, useState } from 'react'
import { getAddress, type Hex, isAddress } from 'viem'
import { useSession } from '../../session/session-context.js'
import { Dialog } from '../../ui/dialog.js'
import { formatRemaining, formatTime, shortAddress } from '../../ui/format.js'
import { EmptyState, ErrorNote, Loading } from '../../ui/states.js'
import { useAction } from '../../ui/use-action.js'
import { useAsync } from '../../ui/use-async.js'
import { KIND_LABELS, type RecordRow, recordTitle, rowDate, useRecordRows } from '../common/record-list.js'
import { Cell } from './cell.js'
import { describeCopies, makeDeidentifiedCopies } from './deidentified-copies.js'
import { fetchGrants, type Grant, scopeText } from './grants.js'
import { Person, roleOf, useAddressNames, useRoles } from './people.js'
import { choiceUntil, DEFAULT_DURATION, type DurationChoice, DurationPicker, expiryOf } from './terms.js'

type Editing = { mode: 'new' } | { mode: 'change'; grant: Grant }

/** Who may see the patient's records: grant, change, revoke, and rotate a record's key. */
export function PatientSharing() {
  const { client } = useSession()
  const grants = useAsync((signal) => fetchGrants(client, signal), [client])
  const records = useRecordRows()
  const [editing, setEditing] = useState<Editing>()
  const [revoking, setRevoking] = useState<Grant>()
  const [message, setMessage] = useState('')
  const roles = useRoles(grants.status === 'ready' ? grants.value.map((g) => g.grantee) : [])
  const rows = records.status === 'ready' ? records.rows : []

  return (
    <div className="sharing">
      <p className="lead">
        Only the people listed here can open your records, on the terms shown, until the time shown. Medics
        with emergency access are listed under Emergency access.
      </p>
      <div className="actions">
        <button type="button" className="primary" onClick={() => setEditing({ mode: 'new' })}>
          Share records…
        </button>
        <button type="button" onClick={grants.reload}>
          Refresh
        </button>
      </div>
      <p role="status" aria-live="polite" className="status-line">
        {message}
      </p>
      <section aria-labelledby="grants-title">
        <h2 id="grants-title">Active grants</h2>
        {grants.status === 'loading' ? <Loading label="Loading grants…" /> : null}
        {grants.status === 'error' ? <ErrorNote error={grants.error} onRetry={grants.reload} /> : null}
        {grants.status === 'ready' && grants.value.length === 0 ? (
          <EmptyState title="You share your records with nobody">
            <p>Use “Share records…” to let a medic or a requestor see them for a while.</p>
          </EmptyState>
        ) : null}
        {grants.status === 'ready' && grants.value.length > 0 ? (
          <div className="table-wrap">
            <table className="grants-table stack-table">
              <caption className="visually-hidden">People you share your records with</caption>
              <thead>
                <tr>
                  <th scope="col">Who</th>
                  <th scope="col">What</th>
                  <th scope="col">Terms</th>
                  <th scope="col">Until</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {grants.value.map((grant) => (
                  <GrantRowView
                    key={grant.grantee}
                    grant={grant}
                    participantRole={roleOf(roles, grant.grantee)}
                    rows={rows}
                    onChange={() => setEditing({ mode: 'change', grant })}
                    onRevoke={() => setRevoking(grant)}
                  />
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      <RotateKey rows={rows} onRotated={(text) => setMessage(text)} reloadRecords={records.reload} />
      {editing ? (
        <GrantDialog
          editing={editing}
          rows={rows}
          onClose={() => setEditing(undefined)}
          onDone={(text) => {
            setEditing(undefined)
            setMessage(text)
            grants.reload()
          }}
        />
      ) : null}
      {revoking ? (
        <RevokeDialog
          grant={revoking}
          onClose={() => setRevoking(undefined)}
          onDone={(text) => {
            setRevoking(undefined)
            setMessage(text)
            grants.reload()
          }}
        />
      ) : null}
    </div>
  )
}

function GrantRowView(props: {
  grant: Grant
  participantRole: string | undefined
  rows: RecordRow[]
  onChange: () => void
  onRevoke: () => void
}) {
  const { grant, rows } = props
  const nameOf = useAddressNames()
  const who = nameOf(grant.grantee) ?? shortAddress(grant.grantee)
  const endsSoon = grant.expiresAt - Date.now() / 1000 < 3600
  const titles = grant.records.map((id) => {
    const row = rows.find((r) => r.summary.id.toLowerCase() === id.toLowerCase())
    return row ? recordTitle(row) : shortAddress(id)
  })
  return (
    <tr>
      <Cell label="Who">
        <Person address={grant.grantee} participantRole={props.participantRole} />
      </Cell>
      <Cell label="What">
        {scopeText(grant)}
        {titles.length ? <span className="hint"> ({titles.join(', ')})</span> : null}
      </Cell>
      <Cell label="Terms">
        <span className={`badge ${grant.download ? 'badge-warn' : ''}`}>
          {grant.download ? 'View and download' : 'View only'}
        </span>
        {grant.deidentifiedOnly ? <span className="badge">De-identified only</span> : null}
      </Cell>
      <Cell label="Until">
        {formatTime(grant.expiresAt)}
        <br />
        <span className="hint">{formatRemaining(grant.expiresAt)} left</span>
      </Cell>
      <Cell label="Status">
        <span className={`badge ${endsSoon ? 'badge-warn' : 'badge-ok'}`}>
          {endsSoon ? 'Ends soon' : 'Active'}
        </span>
      </Cell>
      <td className="row-actions">
        <button type="button" onClick={props.onChange} aria-label={`Change access for ${who}`}>
          Change
        </button>
        <button
          type="button"
          className="danger"
          onClick={props.onRevoke}
          aria-label={`Revoke access for ${who}`}
        >
          Revoke
        </button>
      </td>
    </tr>
  )
}

type ScopeChoice = 'All' | 'Kinds' | 'Records'

function GrantDialog(props: {
  editing: Editing
  rows: RecordRow[]
  onClose: () => void
  onDone: (message: string) => void
}) {
  const { client } = useSession()
  const id = useId()
  const existing = props.editing.mode === 'change' ? props.editing.grant : undefined
  const [grantee, setGrantee] = useState<string>(existing?.grantee ?? '')
  const [scope, setScope] = useState<ScopeChoice>(existing?.scope ?? 'All')
  const [kinds, setKinds] = useState<RecordKind[]>(
    existing ? (kindsOf(existing.kindMask) as RecordKind[]) : [],
  )
  const [chosen, setChosen] = useState<Set<string>>(
    new Set(existing?.records.map((r) => r.toLowerCase()) ?? []),
  )
  const [duration, setDuration] = useState<DurationChoice>(
    existing ? choiceUntil(existing.expiresAt) : DEFAULT_DURATION,
  )
  const [download, setDownload] = useState(existing?.download ?? false)
  const [deidentifiedOnly, setDeidentifiedOnly] = useState(existing?.deidentifiedOnly ?? false)
  const { busy, error, run } = useAction()
  const [copying, setCopying] = useState<string>()
  const originals = props.rows.filter((r) => !r.summary.deidentifiedFrom)

  const granteeValid = isAddress(grantee.trim(), { strict: false })
  const problem = !granteeValid
    ? 'Enter the account address of the medic or requestor.'
    : scope === 'Kinds' && kinds.length === 0
      ? 'Choose at least one kind.'
      : scope === 'Records' && chosen.size === 0
        ? 'Choose at least one record.'
        : undefined

  async function submit(event: FormEvent) {
    event.preventDefault()
    if (problem) return
    await run(async () => {
      const expiresAt = await expiryOf(client, duration)
      const to = getAddress(grantee.trim())
      await createGrant(client, {
        grantee: to,
        ...(scope === 'Kinds' ? { kinds } : {}),
        ...(scope === 'Records' ? { records: [...chosen] as Hex[] } : {}),
        expiresAt,
        download,
        deidentifiedOnly,
      })
      const said = `${existing ? 'Changed access for' : 'Granted access to'} ${shortAddress(to)} until ${formatTime(expiresAt)}.`
      if (!deidentifiedOnly) return props.onDone(said)
      // They never get an original's key: what they can open is the copies made for them, here and now.
      const outcome = await makeDeidentifiedCopies(client, {
        audience: to,
        covers: (r) =>
          scope === 'All' ||
          (scope === 'Kinds' && kinds.includes(r.kind)) ||
          (scope === 'Records' && chosen.has(r.id.toLowerCase())),
        includeBurnedIn: false,
        onProgress: (p) =>
          setCopying(`Making de-identified copy ${p.index} of ${p.total} (${p.kind}): ${p.stage}…`),
      })
      props.onDone(`${said} ${describeCopies(outcome)}`)
    })
  }

  return (
    <Dialog
      title={existing ? 'Change access' : 'Share records'}
      onClose={props.onClose}
      busy={busy}
      className="grant-dialog"
    >
      <form onSubmit={submit} className="form">
        <label htmlFor={`${id}-grantee`}>Grantee account address</label>
        <input
          id={`${id}-grantee`}
          value={grantee}
          onChange={(e) => setGrantee(e.target.value)}
          readOnly={Boolean(existing)}
          spellCheck={false}
          autoComplete="off"
          placeholder="0x…"
          aria-describedby={`${id}-grantee-hint`}
        />
        <p className="hint" id={`${id}-grantee-hint`}>
          {existing ? (
            <>
              Changing replaces the current terms for <Person address={existing.grantee} />.
            </>
          ) : (
            'The medic or requestor gives you their address; they must be approved by a health unit.'
          )}
        </p>
        <fieldset>
          <legend>What they can see</legend>
          {(
            [
              ['All', 'All my records (also future ones)'],
              ['Kinds', 'Some kinds of records (also future ones)'],
              ['Records', 'Only records I choose'],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className="choice">
              <input
                type="radio"
                name={`${id}-scope`}
                checked={scope === value}
                onChange={() => setScope(value)}
              />
              {label}
            </label>
          ))}
          {scope === 'Kinds' ? (
            <fieldset className="nested">
              <legend>Kinds</legend>
              <div className="choice-row">
                {RECORD_KINDS.map((kind) => (
                  <label key={kind} className="choice">
                    <input
                      type="checkbox"
                      checked={kinds.includes(kind)}
                      onChange={(e) =>
                        setKinds(e.target.checked ? [...kinds, kind] : kinds.filter((k) => k !== kind))
                      }
                    />
                    {KIND_LABELS[kind]}
                  </label>
                ))}
              </div>
            </fieldset>
          ) : null}
          {scope === 'Records' ? (
            <fieldset className="nested record-choices">
              <legend>Records</legend>
              {originals.length === 0 ? <p className="hint">You have no records yet.</p> : null}
              {originals.map((row) => {
                const rid = row.summary.id.toLowerCase()
                return (
                  <label key={rid} className="choice">
                    <input
                      type="checkbox"
                      checked={chosen.has(rid)}
                      onChange={(e) => {
                        const next = new Set(chosen)
                        if (e.target.checked) next.add(rid)
                        else next.delete(rid)
                        setChosen(next)
                      }}
                    />
                    <span>
                      {recordTitle(row)}{' '}
                      <span className="hint">
                        · {KIND_LABELS[row.summary.kind]} · {rowDate(row)}
                      </span>
                    </span>
                  </label>
                )
              })}
            </fieldset>
          ) : null}
        </fieldset>
        <DurationPicker value={duration} onChange={setDuration} />
        <fieldset>
          <legend>Terms</legend>
          <label className="choice">
            <input type="checkbox" checked={download} onChange={(e) => setDownload(e.target.checked)} />
            <span>
              Allow downloading the files
              <span className="hint"> — otherwise view only, in the portal’s viewer</span>
            </span>
          </label>
          <label className="choice">
            <input
              type="checkbox"
              checked={deidentifiedOnly}
              onChange={(e) => setDeidentifiedOnly(e.target.checked)}
            />
            <span>
              De-identified copies only
              <span className="hint">
                {' '}
                — they never get the originals’ keys: copies of the studies this covers are made now, in your
                browser (reports are not copied); for studies added later, use Change to make theirs
              </span>
            </span>
          </label>
        </fieldset>
        <p className="hint">
          Your browser wraps each covered record’s key for them and signs the grant; the chain enforces it.
        </p>
        {problem && grantee ? <p className="field-problem">{problem}</p> : null}
        {error ? <ErrorNote error={error} /> : null}
        {busy ? (
          <Loading label={copying ?? 'Wrapping record keys and sending the grant to the chain…'} />
        ) : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || Boolean(problem)}>
            {existing ? 'Save changes' : 'Grant access'}
          </button>
          <button type="button" onClick={props.onClose} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  )
}

/** The honest warning, shown before a revoke is confirmed. */
export const REVOKE_WARNING =
  'Revoking stops new access now: nodes refuse to serve your records to them from the next block. ' +
  'Whatever they already downloaded or decrypted cannot be recalled. To also cut off copies of the key ' +
  'they may hold, rotate the records’ keys afterwards.'

function RevokeDialog(props: { grant: Grant; onClose: () => void; onDone: (message: string) => void }) {
  const { client } = useSession()
  const nameOf = useAddressNames()
  const who = nameOf(props.grant.grantee) ?? shortAddress(props.grant.grantee)
  const { busy, error, run } = useAction()

  const revoke = () =>
    run(async () => {
      await revokeAccess(client.walletClient, {
        contract: client.config.contract,
        grantee: props.grant.grantee,
      })
      props.onDone(`Revoked access for ${who}. Rotate record keys to cut off copies of the key too.`)
    })

  return (
    <Dialog title={`Revoke access for ${who}?`} onClose={props.onClose} busy={busy}>
      <p>
        <Person address={props.grant.grantee} /> can now see: {scopeText(props.grant)}.
      </p>
      <p className="warning" role="note">
        {REVOKE_WARNING}
      </p>
      {error ? <ErrorNote error={error} /> : null}
      {busy ? <Loading label="Sending the revocation to the chain…" /> : null}
      <div className="actions">
        <button type="button" className="danger" onClick={revoke} disabled={busy}>
          Revoke access
        </button>
        <button type="button" onClick={props.onClose} disabled={busy}>
          Cancel
        </button>
      </div>
    </Dialog>
  )
}

function RotateKey(props: {
  rows: RecordRow[]
  onRotated: (message: string) => void
  reloadRecords: () => void
}) {
  const id = useId()
  const [chosen, setChosen] = useState('')
  const [confirming, setConfirming] = useState(false)
  const rows = props.rows.filter((r) => r.state === 'ready')
  const row = rows.find((r) => r.summary.id === chosen)
  return (
    <section aria-labelledby={`${id}-title`} className="rotate">
      <h2 id={`${id}-title`}>Rotate a record’s key</h2>
      <p>
        Rotating re-encrypts every file of a record under a new key, here in your browser, and replaces the
        stored copy. Only you, your health unit and the people you still share with get the new key: someone
        whose access you revoked cannot use an old copy of the key on it any more. Files they already
        downloaded stay theirs.
      </p>
      {rows.length === 0 ? (
        <p className="hint">No records to rotate.</p>
      ) : (
        <div className="toolbar">
          <div>
            <label htmlFor={`${id}-record`}>Record</label>
            <select id={`${id}-record`} value={chosen} onChange={(e) => setChosen(e.target.value)}>
              <option value="">Choose a record…</option>
              {rows.map((r) => (
                <option key={r.summary.id} value={r.summary.id}>
                  {rowDate(r)} · {KIND_LABELS[r.summary.kind]} · {recordTitle(r)}
                </option>
              ))}
            </select>
          </div>
          <button type="button" disabled={!row} onClick={() => setConfirming(true)}>
            Rotate key…
          </button>
        </div>
      )}
      {confirming && row ? (
        <RotateDialog
          row={row}
          onClose={() => setConfirming(false)}
          onDone={(result) => {
            setConfirming(false)
            setChosen('')
            props.reloadRecords()
            props.onRotated(
              `Rotated the key of “${recordTitle(row)}”.` +
                (result.droppedGrantees.length
                  ? ` No longer readable by: ${result.droppedGrantees.map(shortAddress).join(', ')} (grant again if needed).`
                  : ''),
            )
          }}
        />
      ) : null}
    </section>
  )
}

function RotateDialog(props: {
  row: RecordRow
  onClose: () => void
  onDone: (result: RotateRecordKeyReturnType) => void
}) {
  const { client } = useSession()
  const { busy, error, run } = useAction()
  const rotate = () =>
    run(async () => {
      props.onDone(await rotateRecordKey(client, { recordId: props.row.summary.id }))
    })
  return (
    <Dialog title="Rotate this record’s key?" onClose={props.onClose} busy={busy}>
      <p>
        <strong>{recordTitle(props.row)}</strong> ({KIND_LABELS[props.row.summary.kind]}, {rowDate(props.row)}
        )
      </p>
      <ul>
        <li>Every file is downloaded, decrypted and encrypted again under a new key in this browser.</li>
        <li>The new copy replaces the old one on chain; the node stops keeping the old ciphertext.</li>
        <li>
          People with a grant covering it keep access; a grant naming only this record must be given again.
        </li>
        <li>Copies already downloaded or decrypted elsewhere cannot be recalled.</li>
      </ul>
      {error ? <ErrorNote error={error} /> : null}
      {busy ? <Loading label="Re-encrypting the record…" /> : null}
      <div className="actions">
        <button type="button" className="primary" onClick={rotate} disabled={busy}>
          Rotate key
        </button>
        <button type="button" onClick={props.onClose} disabled={busy}>
          Cancel
        </button>
      </div>
    </Dialog>
  )
}
