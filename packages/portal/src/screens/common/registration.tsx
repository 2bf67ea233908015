import { registerParticipant } from '@pcmims/core'
import { type FormEvent, useId, useState } from 'react'
import { getAddress, isAddress, toHex } from 'viem'
import { useSession } from '../../session/session-context.js'
import { CopyableAddress } from '../../ui/address.js'
import { ErrorNote, Loading } from '../../ui/states.js'
import { useAction } from '../../ui/use-action.js'

const ROLES = [
  { value: 'Patient', label: 'Patient', help: 'Keep your images and reports, and decide who sees them.' },
  {
    value: 'Uploader',
    label: 'Radiologist or lab',
    help: 'Upload studies and reports for the unit’s patients.',
  },
  { value: 'Medic', label: 'Medic', help: 'Read what patients share with you; emergency access.' },
  {
    value: 'Requestor',
    label: 'Requestor',
    help: 'Ask patients for (de-identified) copies, e.g. for research.',
  },
] as const

/** For an account the chain does not know yet, or whose registration waits for (or was refused by) a unit. */
export function Registration() {
  const { participant, refreshParticipant } = useSession()
  if (participant.role === 'None') return <RegistrationForm />
  const statusText: Record<string, string> = {
    Pending:
      'Your registration waits for the health unit’s approval. The unit checks who you are, usually at the desk; this page updates when you check again.',
    Rejected:
      'The health unit rejected this registration. Ask the unit why; you can register elsewhere with a new account.',
    Suspended:
      'The health unit suspended this account. Records you hold stay yours; ask the unit to reinstate you.',
  }
  return (
    <section aria-labelledby="registration-title">
      <h1 id="registration-title">Registration: {participant.status.toLowerCase()}</h1>
      <dl className="facts">
        <dt>Your account</dt>
        <dd>
          <CopyableAddress address={participant.address} full label="Copy my account address" />
        </dd>
        <dt>Role</dt>
        <dd>{participant.role}</dd>
        <dt>Health unit</dt>
        <dd>
          <code>{participant.unit}</code>
        </dd>
        <dt>Status</dt>
        <dd>
          <span className={`badge badge-${participant.status.toLowerCase()}`}>{participant.status}</span>
        </dd>
      </dl>
      <p>{statusText[participant.status] ?? ''}</p>
      <CheckAgain onCheck={refreshParticipant} />
    </section>
  )
}

function CheckAgain(props: { onCheck: () => Promise<void> }) {
  const [checking, setChecking] = useState(false)
  return (
    <button
      type="button"
      disabled={checking}
      onClick={() => {
        setChecking(true)
        void props.onCheck().finally(() => setChecking(false))
      }}
    >
      {checking ? 'Checking…' : 'Check again'}
    </button>
  )
}

function RegistrationForm() {
  const { client, refreshParticipant } = useSession()
  const id = useId()
  const [role, setRole] = useState<(typeof ROLES)[number]['value']>('Patient')
  const [unit, setUnit] = useState<string>(client.config.unit)
  const { busy, error, run } = useAction()
  const unitValid = isAddress(unit, { strict: false })

  async function submit(event: FormEvent) {
    event.preventDefault()
    await run(async () => {
      if ((await client.publicClient.getBalance({ address: client.account.address })) === 0n) {
        // A new account has no gas: the development node funds it; a real network's unit does that.
        await client.node.json('POST', '/api/v1/dev/fund').catch(() => undefined)
      }
      await registerParticipant(client.walletClient, {
        contract: client.config.contract,
        unit: getAddress(unit),
        role,
        encryptionKey: toHex(client.encryptionKeyPair.publicKey),
      })
      await refreshParticipant()
    })
  }

  return (
    <form onSubmit={submit} aria-labelledby={`${id}-title`} className="form">
      <h1 id={`${id}-title`}>Register with a health unit</h1>
      <p>
        Your account is not registered yet. Choose your role; the health unit approves it after checking who
        you are. Your public encryption key is registered with it, so records can be encrypted for you.
      </p>
      <fieldset>
        <legend>Role</legend>
        {ROLES.map((r) => (
          <label key={r.value} className="choice">
            <input
              type="radio"
              name="role"
              value={r.value}
              checked={role === r.value}
              onChange={() => setRole(r.value)}
            />
            <span>
              <strong>{r.label}</strong> — {r.help}
            </span>
          </label>
        ))}
      </fieldset>
      <label htmlFor={`${id}-unit`}>Health unit (account address)</label>
      <input
        id={`${id}-unit`}
        value={unit}
        onChange={(event) => setUnit(event.target.value.trim())}
        aria-invalid={!unitValid}
        spellCheck={false}
      />
      <p className="hint">This node’s unit is filled in; another unit’s address works too.</p>
      {error ? <ErrorNote error={error} /> : null}
      {busy ? <Loading label="Sending your registration to the chain…" /> : null}
      <button type="submit" className="primary" disabled={busy || !unitValid}>
        Request registration
      </button>
    </form>
  )
}
