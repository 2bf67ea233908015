import {
  discardHeldStudy,
  type HeldStudy,
  type IngestBatchStatus,
  listHeldStudies,
  resolveHeldStudy,
} from '@pcmims/core'
import { type FormEvent, useCallback, useId, useState } from 'react'
import type { Address } from 'viem'
import { useSession } from '../../session/session-context.js'
import { Dialog } from '../../ui/dialog.js'
import { formatBytes, formatTime } from '../../ui/format.js'
import { AsyncView, EmptyState, ErrorNote, Loading } from '../../ui/states.js'
import { useAction } from '../../ui/use-action.js'
import { useAsync } from '../../ui/use-async.js'
import { PatientAddressField } from '../common/patient-address-field.js'

/**
 * Uploader and unit admin: studies the node received (C-STORE, STOW-RS) for a Patient ID no account is
 * mapped to. They stay encrypted on the node until someone names the patient, or discards them.
 */
export function HeldStudies() {
  const { client } = useSession()
  const id = useId()
  const [resolving, setResolving] = useState<HeldStudy | undefined>()
  const [discarding, setDiscarding] = useState<HeldStudy | undefined>()
  const [done, setDone] = useState<string | undefined>()
  const state = useAsync((signal) => listHeldStudies(client, { signal }), [client])
  const closeResolve = useCallback(() => setResolving(undefined), [])
  const closeDiscard = useCallback(() => setDiscarding(undefined), [])

  const finished = (message: string) => {
    setDone(message)
    setResolving(undefined)
    setDiscarding(undefined)
    state.reload()
  }

  return (
    <section aria-labelledby={`${id}-title`} className="staff-section">
      <div className="section-head">
        <h2 id={`${id}-title`}>Studies waiting for their patient</h2>
        <button type="button" onClick={state.reload}>
          Refresh
        </button>
      </div>
      <p className="hint">
        Received from the unit’s modalities and PACS with a Patient ID (MRN) this node does not know. Name the
        patient to seal the study into a record for them, or discard it.
      </p>
      <div aria-live="polite">
        {done ? (
          <p className="notice" role="status">
            {done}
          </p>
        ) : null}
      </div>
      <AsyncView state={state} loadingLabel="Loading held studies…">
        {(studies) =>
          studies.length === 0 ? (
            <EmptyState title="No study is waiting">
              <p>Every study received so far was matched to its patient.</p>
            </EmptyState>
          ) : (
            <ul className="held-list">
              {studies.map((s) => (
                <li key={s.id} className="card held-card">
                  <HeldFacts study={s} />
                  <div className="actions">
                    <button
                      type="button"
                      className="primary"
                      onClick={() => setResolving(s)}
                      aria-label={`Resolve study of Patient ID ${s.patientId?.trim() || 'none'}`}
                    >
                      Resolve…
                    </button>
                    <button
                      type="button"
                      onClick={() => setDiscarding(s)}
                      aria-label={`Discard study of Patient ID ${s.patientId?.trim() || 'none'}`}
                    >
                      Discard…
                    </button>
                  </div>
                </li>
              ))}
            </ul>
          )
        }
      </AsyncView>
      {resolving ? <ResolveDialog study={resolving} onClose={closeResolve} onDone={finished} /> : null}
      {discarding ? <DiscardDialog study={discarding} onClose={closeDiscard} onDone={finished} /> : null}
    </section>
  )
}

function studyTitle(s: HeldStudy): string {
  return [s.modalities.join(', '), s.studyDescription].filter(Boolean).join(' · ') || 'Study'
}

function HeldFacts(props: { study: HeldStudy }) {
  const s = props.study
  return (
    <>
      <h3>{studyTitle(s)}</h3>
      <dl className="facts">
        <dt>Patient ID</dt>
        <dd>{s.patientId?.trim() ? <code>{s.patientId}</code> : '(none)'}</dd>
        <dt>Name in the study</dt>
        <dd>{s.patientName?.replaceAll('^', ' ').trim() || '—'}</dd>
        {s.patientBirthDate ? (
          <>
            <dt>Birth date</dt>
            <dd>{dicomDate(s.patientBirthDate)}</dd>
          </>
        ) : null}
        <dt>Study date</dt>
        <dd>{dicomDate(s.studyDate)}</dd>
        {s.accessionNumber ? (
          <>
            <dt>Accession</dt>
            <dd>{s.accessionNumber}</dd>
          </>
        ) : null}
        <dt>Instances</dt>
        <dd>
          {s.instances} ({formatBytes(s.bytes)})
        </dd>
        <dt>Received</dt>
        <dd>
          {formatTime(new Date(s.receivedAt).toISOString())} from {describeSource(s.source)}
        </dd>
        <dt>Why held</dt>
        <dd>{s.reason}</dd>
      </dl>
    </>
  )
}

function describeSource(source: string): string {
  if (source.startsWith('dimse:')) return `modality ${source.slice(6)} (C-STORE)`
  if (source.startsWith('stow:')) return `upload by ${source.slice(5, 11)}…${source.slice(-4)} (STOW-RS)`
  return source
}

function dicomDate(value: string | undefined): string {
  if (!value) return '—'
  return value.replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3')
}

function ResolveDialog(props: { study: HeldStudy; onClose: () => void; onDone: (message: string) => void }) {
  const { client } = useSession()
  const id = useId()
  const [patient, setPatient] = useState<Address | undefined>()
  const [remember, setRemember] = useState(true)
  const { busy, error, run } = useAction()
  const onPatient = useCallback((value: Address | undefined) => setPatient(value), [])
  const hasMrn = !!props.study.patientId?.trim()

  async function submit(event: FormEvent) {
    event.preventDefault()
    if (!patient) return
    await run(async () => {
      const status: IngestBatchStatus = await resolveHeldStudy(client, {
        id: props.study.id,
        patient,
        remember: hasMrn && remember,
      })
      props.onDone(
        status.recordId
          ? `Sealed into a record for the patient; the record id is ${status.recordId} (anchoring on the chain).`
          : `The study is now ${status.state}${status.reason ? `: ${status.reason}` : ''}.`,
      )
    })
  }

  return (
    <Dialog title="Resolve: name the patient" busy={busy} onClose={props.onClose}>
      <form onSubmit={submit} aria-labelledby={`${id}-what`}>
        <p id={`${id}-what`}>
          {studyTitle(props.study)}, Patient ID {hasMrn ? <code>{props.study.patientId}</code> : '(none)'},{' '}
          {props.study.instances} instances.
        </p>
        <PatientAddressField onChange={onPatient} disabled={busy} />
        {hasMrn ? (
          <label className="choice">
            <input
              type="checkbox"
              checked={remember}
              onChange={(event) => setRemember(event.target.checked)}
              disabled={busy}
            />
            <span>Remember this MRN: its next studies go to this patient directly</span>
          </label>
        ) : null}
        <p className="hint">
          The node seals the study into a record encrypted for the patient and your unit, and anchors it.
        </p>
        {error ? <ErrorNote error={error} /> : null}
        {busy ? <Loading label="Sealing the study…" /> : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || !patient}>
            Seal for this patient
          </button>
          <button type="button" onClick={props.onClose} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  )
}

function DiscardDialog(props: { study: HeldStudy; onClose: () => void; onDone: (message: string) => void }) {
  const { client } = useSession()
  const { busy, error, run } = useAction()

  const discard = () =>
    run(async () => {
      await discardHeldStudy(client, { id: props.study.id })
      props.onDone('The study was discarded; the node released its encrypted copy.')
    })

  return (
    <Dialog title="Discard this study?" alert busy={busy} onClose={props.onClose}>
      <p>
        {studyTitle(props.study)}, Patient ID{' '}
        {props.study.patientId?.trim() ? <code>{props.study.patientId}</code> : '(none)'},{' '}
        {props.study.instances} instances. The node deletes it; to keep it, the modality must send it again.
      </p>
      {error ? <ErrorNote error={error} /> : null}
      {busy ? <Loading label="Discarding…" /> : null}
      <div className="actions">
        <button type="button" className="danger" onClick={discard} disabled={busy}>
          Discard study
        </button>
        <button type="button" onClick={props.onClose} disabled={busy}>
          Cancel
        </button>
      </div>
    </Dialog>
  )
}
