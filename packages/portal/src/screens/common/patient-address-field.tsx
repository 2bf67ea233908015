import { getParticipant } from '@pcmims/core'
import { useEffect, useId, useState } from 'react'
import { type Address, getAddress, isAddress } from 'viem'
import { useSession } from '../../session/session-context.js'

export type PatientCheck =
  | { state: 'empty' }
  | { state: 'invalid'; message: string }
  | { state: 'checking' }
  | { state: 'ok'; address: Address }

/**
 * A patient's account address, checked against the chain as it is typed: only an approved patient is
 * accepted. `onChange` receives the address once it is known good, or undefined.
 */
export function PatientAddressField(props: {
  label?: string | undefined
  hint?: string | undefined
  onChange: (patient: Address | undefined) => void
  disabled?: boolean | undefined
}) {
  const { client } = useSession()
  const id = useId()
  const [text, setText] = useState('')
  const [check, setCheck] = useState<PatientCheck>({ state: 'empty' })
  const onChange = props.onChange

  useEffect(() => {
    const value = text.trim()
    if (!value) {
      setCheck({ state: 'empty' })
      onChange(undefined)
      return
    }
    if (!isAddress(value, { strict: false })) {
      setCheck({ state: 'invalid', message: 'An account address is 0x and 40 hexadecimal digits.' })
      onChange(undefined)
      return
    }
    const address = getAddress(value)
    let live = true
    setCheck({ state: 'checking' })
    onChange(undefined)
    getParticipant(client.publicClient, { contract: client.config.contract, account: address }).then(
      (participant) => {
        if (!live) return
        if (participant.role !== 'Patient') {
          const what = participant.role === 'None' ? 'not registered' : `a ${participant.role.toLowerCase()}`
          setCheck({ state: 'invalid', message: `This account is ${what}, not a patient.` })
        } else if (participant.status !== 'Approved') {
          setCheck({
            state: 'invalid',
            message: `This patient’s registration is ${participant.status.toLowerCase()}, not approved.`,
          })
        } else {
          setCheck({ state: 'ok', address })
          onChange(address)
        }
      },
      () => {
        if (live) setCheck({ state: 'invalid', message: 'The chain could not be asked about this account.' })
      },
    )
    return () => {
      live = false
    }
  }, [text, client, onChange])

  return (
    <div className="patient-field">
      <label htmlFor={id}>{props.label ?? 'Patient (account address)'}</label>
      <input
        id={id}
        value={text}
        onChange={(event) => setText(event.target.value)}
        placeholder="0x…"
        spellCheck={false}
        autoComplete="off"
        disabled={props.disabled}
        aria-invalid={check.state === 'invalid'}
        aria-describedby={`${id}-status`}
      />
      <p
        id={`${id}-status`}
        className={check.state === 'invalid' ? 'field-problem' : 'hint'}
        aria-live="polite"
      >
        {check.state === 'invalid'
          ? check.message
          : check.state === 'checking'
            ? 'Checking the chain…'
            : check.state === 'ok'
              ? '✓ An approved patient.'
              : (props.hint ?? 'The patient tells you their account address (shown in their portal).')}
      </p>
    </div>
  )
}
