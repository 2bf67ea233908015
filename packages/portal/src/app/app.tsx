import type { PcmimsClient } from '@pcmims/core'
import { useState } from 'react'
import type { Identity } from '../session/identity.js'
import type { Participant } from '../session/open-session.js'
import { SessionProvider } from '../session/session-context.js'
import { SignIn } from '../session/sign-in.js'
import { Shell } from './shell.js'

type Signed = { identity: Identity; client: PcmimsClient; participant: Participant }

/** Signed out: the sign-in page. Signed in: the shell for the account's role and status. */
export function App() {
  const [signed, setSigned] = useState<Signed | undefined>()
  if (!signed) return <SignIn onSignedIn={setSigned} />
  return (
    <SessionProvider identity={signed.identity} client={signed.client} participant={signed.participant}>
      <Shell />
    </SessionProvider>
  )
}
