import { getParticipant } from '@pcmims/core'
import { useEffect, useState } from 'react'
import { type Address, getAddress, isAddress } from 'viem'
import { type DevAccount, fetchDevAccounts } from '../../session/open-session.js'
import { useSession } from '../../session/session-context.js'
import { shortAddress } from '../../ui/format.js'

// Development accounts have public names (the node lists them); a real network has none, and an
// address is then shown as such. Nothing here is secret, so it may outlive a session.
let devNames: Promise<Map<string, DevAccount>> | undefined

function loadDevNames(): Promise<Map<string, DevAccount>> {
  devNames ??= fetchDevAccounts()
    .then((accounts) => new Map(accounts.map((a) => [a.address.toLowerCase(), a])))
    .catch(() => new Map())
  return devNames
}

/** A name for an address when one is known (development accounts), else undefined. */
export function useAddressNames(): (address: string) => string | undefined {
  const [names, setNames] = useState<Map<string, DevAccount>>()
  useEffect(() => {
    let live = true
    void loadDevNames().then((map) => {
      if (live) setNames(map)
    })
    return () => {
      live = false
    }
  }, [])
  return (address) => names?.get(address.toLowerCase())?.name
}

/** An account for people: its known name and short address (full address on hover and for screen readers). */
export function Person(props: { address: string; participantRole?: string | undefined }) {
  const nameOf = useAddressNames()
  const name = nameOf(props.address)
  // The audit log keeps addresses in lower case; people compare them as shown everywhere else (EIP-55).
  const address = isAddress(props.address, { strict: false }) ? getAddress(props.address) : props.address
  return (
    <span className="person">
      {name ? <span className="person-name">{name}</span> : null}
      <code title={address}>{shortAddress(address)}</code>
      {props.participantRole ? <span className="badge">{roleName(props.participantRole)}</span> : null}
    </span>
  )
}

const ROLE_NAMES: Record<string, string> = {
  Patient: 'Patient',
  Medic: 'Medic',
  Uploader: 'Radiologist / lab',
  Requestor: 'Requestor',
  Unit: 'Health unit',
  None: 'Not registered',
}

export function roleName(role: string): string {
  return ROLE_NAMES[role] ?? role
}

/** The chain's role of each address (Medic, Requestor…), read once per address. */
export function useRoles(addresses: readonly string[]): Record<string, string> {
  const { client } = useSession()
  const [roles, setRoles] = useState<Record<string, string>>({})
  const key = [...new Set(addresses.map((a) => a.toLowerCase()))].sort().join(',')
  useEffect(() => {
    let live = true
    const wanted = key ? key.split(',') : []
    void Promise.all(
      wanted.map(async (address) => {
        try {
          const p = await getParticipant(client.publicClient, {
            contract: client.config.contract,
            account: getAddress(address) as Address,
          })
          return [address, p.role] as const
        } catch {
          return [address, ''] as const
        }
      }),
    ).then((pairs) => {
      if (live) setRoles(Object.fromEntries(pairs.filter(([, role]) => role)))
    })
    return () => {
      live = false
    }
  }, [key, client])
  return roles
}

export function roleOf(roles: Record<string, string>, address: string): string | undefined {
  return roles[address.toLowerCase()]
}
