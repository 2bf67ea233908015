import type { KeystoreV3, PcmimsClient } from '@pcmims/core'
import { type FormEvent, useEffect, useId, useState } from 'react'
import type { EIP1193Provider } from 'viem'
import { shortAddress } from '../ui/format.js'
import { ErrorNote, Loading } from '../ui/states.js'
import { useAsync } from '../ui/use-async.js'
import {
  createKeystoreIdentity,
  type Identity,
  identityFromPrivateKey,
  unlockKeystore,
  wipeIdentity,
} from './identity.js'
import {
  type DevAccount,
  fetchDevAccounts,
  openSession,
  type Participant,
  readParticipant,
} from './open-session.js'
import { LOCK_NOTE_KEY, SIGNED_IN_KEY } from './session-context.js'
import { injectedWallet, walletIdentity } from './wallet.js'

export type SignedIn = { identity: Identity; client: PcmimsClient; participant: Participant }

/** The first page: a keystore file (opened here, never uploaded), a new account, or a development account. */
export function SignIn(props: { onSignedIn: (signed: SignedIn) => void }) {
  const [busy, setBusy] = useState<string | undefined>()
  const [error, setError] = useState<unknown>()
  const [lockNote] = useState(() => {
    // A session left without locking (still marked) was ended by a reload or a typed address.
    const note =
      sessionStorage.getItem(LOCK_NOTE_KEY) ?? (sessionStorage.getItem(SIGNED_IN_KEY) ? 'reloaded' : null)
    sessionStorage.removeItem(LOCK_NOTE_KEY)
    sessionStorage.removeItem(SIGNED_IN_KEY)
    return note
  })
  const dev = useAsync((signal) => fetchDevAccounts(signal), [])

  async function enter(make: () => Promise<Identity>, label: string) {
    setBusy(label)
    setError(undefined)
    let identity: Identity | undefined
    try {
      identity = await make()
      const client = await openSession(identity)
      props.onSignedIn({ identity, client, participant: await readParticipant(client) })
    } catch (caught) {
      if (identity) wipeIdentity(identity)
      setError(caught)
      setBusy(undefined)
    }
  }

  return (
    <main className="sign-in" aria-labelledby="sign-in-title">
      <header className="sign-in-header">
        <img src="/favicon.svg" alt="" width="40" height="40" />
        <div>
          <h1 id="sign-in-title">PCMIMS</h1>
          <p>Your medical images and reports, encrypted in this browser; you decide who sees them.</p>
        </div>
      </header>
      {lockNote === 'idle' ? (
        <p className="notice" role="status">
          Your session locked itself after a period without activity. Keys and decrypted images were wiped
          from this browser.
        </p>
      ) : lockNote === 'signed-out' ? (
        <p className="notice" role="status">
          You signed out. Keys and decrypted images were wiped from this browser.
        </p>
      ) : lockNote === 'reloaded' ? (
        <p className="notice" role="status">
          Reloading the page signed you out: your keys live only in this tab’s memory, never in storage. Sign
          in again to go on.
        </p>
      ) : null}
      {busy ? <Loading label={busy} /> : null}
      {error ? <ErrorNote error={error} /> : null}
      <div className="sign-in-options" aria-busy={busy ? 'true' : 'false'}>
        <KeystoreCard disabled={!!busy} onUnlock={(make) => enter(make, 'Opening your keystore…')} />
        <WalletCard
          disabled={!!busy}
          onConnect={(provider) => enter(() => walletIdentity(provider), 'Waiting for your wallet…')}
        />
        <NewAccountCard
          disabled={!!busy}
          onReady={(identity) => enter(async () => identity, 'Signing in…')}
        />
        {dev.status === 'ready' && dev.value.length > 0 ? (
          <DevAccountsCard
            accounts={dev.value}
            disabled={!!busy}
            onPick={(account) =>
              enter(
                () => identityFromPrivateKey(account.privateKey, 'development', account.name),
                `Signing in as ${account.name}…`,
              )
            }
          />
        ) : null}
      </div>
      <p className="fine-print">
        Your keys stay in this tab: they are never sent to the node, and they are wiped when you sign out,
        when the session locks after inactivity, or when you close the tab.
      </p>
    </main>
  )
}

function KeystoreCard(props: { disabled: boolean; onUnlock: (make: () => Promise<Identity>) => void }) {
  const fileId = useId()
  const passId = useId()
  const [file, setFile] = useState<File | undefined>()
  const [passphrase, setPassphrase] = useState('')
  function submit(event: FormEvent) {
    event.preventDefault()
    if (!file) return
    const chosen = file
    props.onUnlock(async () =>
      unlockKeystore({ keystoreJson: await chosen.text(), passphrase, label: chosen.name }),
    )
    setPassphrase('')
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby={`${fileId}-title`}>
      <h2 id={`${fileId}-title`}>Sign in with your keystore</h2>
      <p>
        The keystore file you downloaded when you created your account (or made with{' '}
        <code>pcmims account new</code>).
      </p>
      <label htmlFor={fileId}>Keystore file</label>
      <input
        id={fileId}
        type="file"
        accept=".json,application/json"
        onChange={(event) => setFile(event.target.files?.[0])}
        disabled={props.disabled}
      />
      <label htmlFor={passId}>Passphrase</label>
      <input
        id={passId}
        type="password"
        autoComplete="current-password"
        value={passphrase}
        onChange={(event) => setPassphrase(event.target.value)}
        disabled={props.disabled}
      />
      <button type="submit" className="primary" disabled={props.disabled || !file || passphrase === ''}>
        Unlock and sign in
      </button>
    </form>
  )
}

function WalletCard(props: { disabled: boolean; onConnect: (provider: EIP1193Provider) => void }) {
  const id = useId()
  const provider = injectedWallet()
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Sign in with a browser wallet</h2>
      {provider ? (
        <>
          <p>
            Your wallet (MetaMask or another) signs in and sends your transactions. It also signs one message
            from which your encryption key is made here; sign that message only on this portal.
          </p>
          <button
            type="button"
            className="primary"
            disabled={props.disabled}
            onClick={() => props.onConnect(provider)}
          >
            Connect wallet
          </button>
        </>
      ) : (
        <p className="hint">No browser wallet was found in this browser. Use a keystore file instead.</p>
      )}
    </section>
  )
}

const MIN_PASSPHRASE = 12

function NewAccountCard(props: { disabled: boolean; onReady: (identity: Identity) => void }) {
  const id = useId()
  const [passphrase, setPassphrase] = useState('')
  const [again, setAgain] = useState('')
  const [creating, setCreating] = useState(false)
  const [created, setCreated] = useState<{ identity: Identity; keystore: KeystoreV3 } | undefined>()
  const [downloaded, setDownloaded] = useState(false)
  const [error, setError] = useState<unknown>()
  const problem =
    passphrase.length > 0 && passphrase.length < MIN_PASSPHRASE
      ? `At least ${MIN_PASSPHRASE} characters.`
      : again.length > 0 && again !== passphrase
        ? 'The two passphrases differ.'
        : undefined

  async function create(event: FormEvent) {
    event.preventDefault()
    setCreating(true)
    setError(undefined)
    try {
      setCreated(await createKeystoreIdentity({ passphrase }))
      setPassphrase('')
      setAgain('')
    } catch (caught) {
      setError(caught)
    } finally {
      setCreating(false)
    }
  }

  function download() {
    if (!created) return
    const blob = new Blob([`${JSON.stringify(created.keystore, null, 2)}\n`], { type: 'application/json' })
    const url = URL.createObjectURL(blob)
    const link = document.createElement('a')
    link.href = url
    link.download = `pcmims-keystore-${created.identity.account.address}.json`
    link.click()
    setTimeout(() => URL.revokeObjectURL(url), 1000)
    setDownloaded(true)
  }

  if (created) {
    return (
      <section className="card" aria-labelledby={`${id}-title`}>
        <h2 id={`${id}-title`}>Your new account</h2>
        <p>
          Account <code title={created.identity.account.address}>{created.identity.account.address}</code>
        </p>
        <p className="warning">
          Download the keystore now. It is the only copy of your keys: nobody, not your hospital, can recover
          your records without it and its passphrase.
        </p>
        <button type="button" className="primary" onClick={download}>
          Download keystore backup
        </button>
        <button
          type="button"
          disabled={!downloaded || props.disabled}
          onClick={() => props.onReady(created.identity)}
        >
          {downloaded ? 'Continue to registration' : 'Download the backup to continue'}
        </button>
      </section>
    )
  }
  return (
    <form className="card" onSubmit={create} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Create an account</h2>
      <p>New keys are made in this browser and protected by your passphrase.</p>
      <label htmlFor={`${id}-pass`}>Passphrase</label>
      <input
        id={`${id}-pass`}
        type="password"
        autoComplete="new-password"
        value={passphrase}
        onChange={(event) => setPassphrase(event.target.value)}
        aria-describedby={`${id}-problem`}
        disabled={props.disabled || creating}
      />
      <label htmlFor={`${id}-again`}>Passphrase again</label>
      <input
        id={`${id}-again`}
        type="password"
        autoComplete="new-password"
        value={again}
        onChange={(event) => setAgain(event.target.value)}
        aria-describedby={`${id}-problem`}
        disabled={props.disabled || creating}
      />
      <p id={`${id}-problem`} className="field-problem" aria-live="polite">
        {problem ?? ''}
      </p>
      {error ? <ErrorNote error={error} /> : null}
      <button
        type="submit"
        className="primary"
        disabled={
          props.disabled ||
          creating ||
          !!problem ||
          passphrase.length < MIN_PASSPHRASE ||
          again !== passphrase
        }
      >
        {creating ? 'Creating keys…' : 'Create account'}
      </button>
    </form>
  )
}

function DevAccountsCard(props: {
  accounts: DevAccount[]
  disabled: boolean
  onPick: (account: DevAccount) => void
}) {
  const id = useId()
  useEffect(() => {
    document.title = 'PCMIMS — development node'
  }, [])
  return (
    <section className="card dev-card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>
        Development accounts <span className="badge badge-dev">development only</span>
      </h2>
      <p>
        This node runs its own development chain. These accounts use publicly known keys: never put real
        patient data here.
      </p>
      <ul className="dev-accounts">
        {props.accounts.map((account) => (
          <li key={account.address}>
            <button type="button" disabled={props.disabled} onClick={() => props.onPick(account)}>
              <span>{account.name}</span>
              <code title={account.address}>{shortAddress(account.address)}</code>
            </button>
          </li>
        ))}
      </ul>
    </section>
  )
}
