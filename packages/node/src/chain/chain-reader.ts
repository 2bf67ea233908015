import {
  canAccessBatch,
  getAccess,
  getEmergency,
  getEncryptionKey,
  getGrant,
  getParticipant,
  getRecord,
} from '@pcmims/core'
import { type Address, getAddress, type Hex, type PublicClient } from 'viem'
import type { ChainReader } from '../context.js'
import { ChainUnavailableError } from '../http/errors.js'

/** Turns any failure to read the chain into ChainUnavailableError, so every caller fails closed. */
async function guarded<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    if ((error as { code?: string })?.code === 'CONTRACT_REVERTED') throw error
    throw new ChainUnavailableError(error)
  }
}

export function createChainReader(publicClient: PublicClient, contract: Address): ChainReader {
  return {
    participant: (address) =>
      guarded(async () => {
        const [p, key] = await Promise.all([
          getParticipant(publicClient, { contract, account: address }),
          getEncryptionKey(publicClient, { contract, account: address }),
        ])
        return {
          address: getAddress(address),
          unit: getAddress(p.unit),
          role: p.role,
          status: p.status,
          unitIndex: p.unitIndex,
          encryptionKey: key,
        }
      }),
    record: (id) =>
      guarded(async () => {
        const r = await getRecord(publicClient, { contract, id })
        if (!r) return undefined
        return {
          id: id.toLowerCase() as Hex,
          patient: getAddress(r.patient),
          kind: r.kind,
          createdAt: r.createdAt,
          unitIndex: r.unitIndex,
          superseded: r.superseded,
        }
      }),
    access: (grantee, id) =>
      guarded(async () => {
        const a = await getAccess(publicClient, { contract, grantee, recordId: id })
        return {
          allowed: a.allowed,
          download: a.download,
          deidentifiedOnly: a.deidentifiedOnly,
          until: a.until,
          basis: a.basis,
        }
      }),
    canAccessBatch: (grantee, ids) =>
      guarded(() => canAccessBatch(publicClient, { contract, grantee, recordIds: ids })),
    grant: (patient, grantee) =>
      guarded(async () => {
        const g = await getGrant(publicClient, { contract, patient, grantee })
        return {
          patient: getAddress(patient),
          grantee: getAddress(grantee),
          scope: g.scope,
          kindMask: g.kindMask,
          expiresAt: g.expiresAt,
          flags: g.flags,
          epoch: g.epoch,
        }
      }),
    emergencyUntil: (medic, patient) =>
      guarded(async () => (await getEmergency(publicClient, { contract, medic, patient })).until),
    verifyMessage: (address, message, signature) =>
      guarded(async () => {
        const valid = await publicClient.verifyMessage({ address, message, signature })
        // viem reports a contract wallet it could not ask (the chain down) as an invalid signature: a
        // "no" is only a no when the chain answers.
        if (!valid) await publicClient.getBlockNumber({ cacheTime: 0 })
        return valid
      }),
    blockNumber: () => guarded(() => publicClient.getBlockNumber({ cacheTime: 0 })),
    now: () => guarded(async () => Number((await publicClient.getBlock({ blockTag: 'latest' })).timestamp)),
  }
}
