import type { PcmimsClient } from '@pcmims/core'
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react'
import { type Identity, wipeIdentity } from './identity.js'
import { type Participant, readParticipant } from './open-session.js'
import { wipeDecrypted } from './secrets.js'

export type Session = {
  identity: Identity
  client: PcmimsClient
  participant: Participant
  /** Reads the account's chain entry again (after registering, or when a unit approved it). */
  refreshParticipant(): Promise<void>
  /** Ends the session: wipes keys and decrypted data, signs out of the node, reloads the page. */
  lock(reason: LockReason): void
}

export type LockReason = 'signed-out' | 'idle'

const SessionContext = createContext<Session | undefined>(undefined)

export function useSession(): Session {
  const session = useContext(SessionContext)
  if (!session) throw new Error('useSession outside a signed-in page')
  return session
}

const IDLE_KEY = 'pcmims.idle-minutes'
export const IDLE_CHOICES = [1, 5, 15, 30] as const

/** Minutes of inactivity before the session locks itself (a preference, not a secret). */
export function idleMinutes(): number {
  const stored = Number(localStorage.getItem(IDLE_KEY))
  return (IDLE_CHOICES as readonly number[]).includes(stored) ? stored : 15
}

export function setIdleMinutes(minutes: number): void {
  localStorage.setItem(IDLE_KEY, String(minutes))
}

/** Why the last session ended, shown once on the sign-in page. Only the reason is kept. */
export const LOCK_NOTE_KEY = 'pcmims.locked'
/** Set while a session is open in this tab (a flag, nothing secret): a reload finds it and says why. */
export const SIGNED_IN_KEY = 'pcmims.signed-in'

export function SessionProvider(props: {
  identity: Identity
  client: PcmimsClient
  participant: Participant
  children: ReactNode
}) {
  const [participant, setParticipant] = useState(props.participant)
  const locked = useRef(false)
  const { identity, client } = props

  const lock = useCallback(
    (reason: LockReason) => {
      if (locked.current) return
      locked.current = true
      wipeDecrypted()
      wipeIdentity(identity)
      sessionStorage.clear()
      sessionStorage.setItem(LOCK_NOTE_KEY, reason)
      // The node forgets the session too; the reload drops every decrypted byte still referenced.
      void client.node
        .signOut()
        .catch(() => undefined)
        .finally(() => window.location.replace('/'))
    },
    [identity, client],
  )

  useIdleLock(() => lock('idle'))

  useEffect(() => {
    sessionStorage.setItem(SIGNED_IN_KEY, '1')
  }, [])

  // Another account chosen in the wallet is another person: this session's keys are not theirs.
  useEffect(() => {
    const provider = identity.wallet?.provider
    if (!provider) return
    const onAccounts = (accounts: string[]) => {
      if (accounts[0]?.toLowerCase() !== identity.account.address.toLowerCase()) lock('signed-out')
    }
    provider.on('accountsChanged', onAccounts)
    return () => provider.removeListener('accountsChanged', onAccounts)
  }, [identity, lock])

  const refreshParticipant = useCallback(async () => {
    setParticipant(await readParticipant(client))
  }, [client])

  const value = useMemo<Session>(
    () => ({ identity, client, participant, refreshParticipant, lock }),
    [identity, client, participant, refreshParticipant, lock],
  )
  return <SessionContext.Provider value={value}>{props.children}</SessionContext.Provider>
}

function useIdleLock(onIdle: () => void): void {
  const onIdleRef = useRef(onIdle)
  onIdleRef.current = onIdle
  useEffect(() => {
    let last = Date.now()
    const touch = () => {
      last = Date.now()
    }
    const events = ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const
    for (const event of events) window.addEventListener(event, touch, { passive: true })
    // A timer, not only activity events: a laptop closed for an hour must come back locked.
    const timer = window.setInterval(() => {
      if (Date.now() - last >= idleMinutes() * 60_000) onIdleRef.current()
    }, 1000)
    return () => {
      for (const event of events) window.removeEventListener(event, touch)
      window.clearInterval(timer)
    }
  }, [])
}
