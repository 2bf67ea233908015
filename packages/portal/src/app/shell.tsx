import { useCallback, useEffect, useId, useState } from 'react'
import { Registration } from '../screens/common/registration.js'
import { EmergencyBanner } from '../screens/patient/emergencies.js'
import { IDLE_CHOICES, idleMinutes, setIdleMinutes, useSession } from '../session/session-context.js'
import { CopyableAddress } from '../ui/address.js'
import { RecordOpenerProvider } from './record-opener.js'
import { SECTIONS, type Section } from './sections.js'

const ROLE_NAMES: Record<string, string> = {
  Patient: 'Patient',
  Medic: 'Medic',
  Uploader: 'Radiologist / lab',
  Requestor: 'Requestor',
  Unit: 'Health unit admin',
  None: 'Not registered',
}

/** The signed-in frame: who you are, your role's pages, and the lock button. */
export function Shell() {
  const { participant, identity } = useSession()
  const approved = participant.status === 'Approved'
  const sections = approved ? (SECTIONS[participant.role] ?? []) : []
  const [current, navigate] = useSectionPath(sections)
  const section = sections.find((s) => s.id === current) ?? sections[0]

  useEffect(() => {
    document.title = section ? `${section.label} · PCMIMS` : 'PCMIMS'
    // A new page starts at its top (the sign-in page may have been scrolled on a phone).
    window.scrollTo(0, 0)
  }, [section])

  return (
    <RecordOpenerProvider>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top-bar">
        <span className="brand">
          <img src="/favicon.svg" alt="" width="28" height="28" /> PCMIMS
        </span>
        {identity.source === 'development' ? (
          <span className="badge badge-dev">development account</span>
        ) : null}
        <span className="who">
          <span className="who-name">{identity.label}</span>
          <span className="badge">{ROLE_NAMES[participant.role] ?? participant.role}</span>
          <CopyableAddress address={participant.address} label="Copy my account address" />
        </span>
        <LockControls />
      </header>
      {sections.length > 0 ? (
        <nav className="side-nav" aria-label="Sections">
          <ul>
            {sections.map((s) => (
              <li key={s.id}>
                <a
                  href={`/${s.id}`}
                  aria-current={s.id === section?.id ? 'page' : undefined}
                  onClick={(event) => {
                    event.preventDefault()
                    navigate(s.id)
                  }}
                >
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      <main id="main" className={sections.length > 0 ? 'content' : 'content content-full'} tabIndex={-1}>
        {participant.role === 'Patient' && approved ? <EmergencyBanner /> : null}
        {section ? (
          <section aria-labelledby="page-title" key={section.id}>
            <h1 id="page-title">{section.label}</h1>
            <section.component />
          </section>
        ) : (
          <Registration />
        )}
      </main>
    </RecordOpenerProvider>
  )
}

function LockControls() {
  const { lock } = useSession()
  const id = useId()
  const [minutes, setMinutes] = useState(idleMinutes)
  return (
    <span className="lock-controls">
      <label htmlFor={id}>Lock after</label>
      <select
        id={id}
        value={minutes}
        onChange={(event) => {
          setIdleMinutes(Number(event.target.value))
          setMinutes(Number(event.target.value))
        }}
      >
        {IDLE_CHOICES.map((m) => (
          <option key={m} value={m}>
            {m} min idle
          </option>
        ))}
      </select>
      <button type="button" onClick={() => lock('signed-out')}>
        Sign out
      </button>
    </span>
  )
}

/** The current section from the path (`/sharing`), kept in the browser's history. */
function useSectionPath(sections: Section[]): [string | undefined, (id: string) => void] {
  const fromPath = useCallback(() => {
    const id = window.location.pathname.replace(/^\/+/, '').split('/')[0] ?? ''
    return sections.some((s) => s.id === id) ? id : sections[0]?.id
  }, [sections])
  const [current, setCurrent] = useState(fromPath)
  useEffect(() => {
    setCurrent(fromPath())
    const onPop = () => setCurrent(fromPath())
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [fromPath])
  const navigate = useCallback((id: string) => {
    window.history.pushState(null, '', `/${id}`)
    setCurrent(id)
    document.getElementById('main')?.focus()
  }, [])
  return [current, navigate]
}
