import { useState } from 'react'
import { shortAddress } from './format.js'

/**
 * An account address, short on screen, whole in a copy button: people read out or paste their address
 * to a medic, a lab or their health unit.
 */
export function CopyableAddress(props: {
  address: string
  full?: boolean | undefined
  label?: string | undefined
}) {
  const [copied, setCopied] = useState(false)
  async function copy() {
    await navigator.clipboard?.writeText(props.address).catch(() => undefined)
    setCopied(true)
    window.setTimeout(() => setCopied(false), 2000)
  }
  return (
    <span className="copyable-address">
      <code title={props.address}>{props.full ? props.address : shortAddress(props.address)}</code>
      <button
        type="button"
        className="link-button"
        onClick={copy}
        aria-label={props.label ?? 'Copy the address'}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
      <span className="visually-hidden" aria-live="polite">
        {copied ? 'Address copied' : ''}
      </span>
    </span>
  )
}
