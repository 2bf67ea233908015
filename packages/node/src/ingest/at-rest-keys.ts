import { createHmac, hkdfSync } from 'node:crypto'
import type { UnitIdentity } from '../context.js'

/**
 * Keys for what the node keeps about studies it has received but not yet sealed into records, derived
 * from the unit's encryption key so nothing new has to be stored or backed up: `dataKey` seals the data
 * keys and metadata of open and held studies, `indexKey` turns identifiers (MRNs, study and SOP UIDs) into
 * lookup keys. UIDs and MRNs are low-entropy PHI: a plain hash of them in the database could be reversed by
 * trying candidates, a keyed one cannot without the unit's key.
 */
export type AtRestKeys = {
  dataKey: Uint8Array
  /** Lookup key for an identifier in a namespace (`mrn`, `study`, `sop`). */
  lookup(namespace: string, value: string): string
}

export function deriveAtRestKeys(unit: UnitIdentity): AtRestKeys {
  const derive = (info: string) =>
    new Uint8Array(hkdfSync('sha256', unit.encryptionKeyPair.privateKey, new Uint8Array(0), info, 32))
  const dataKey = derive('pcmims/node-at-rest/data/v1')
  const indexKey = derive('pcmims/node-at-rest/index/v1')
  return {
    dataKey,
    lookup: (namespace, value) =>
      createHmac('sha256', indexKey).update(`${namespace}\0${value}`).digest('base64url'),
  }
}
