import { Kind, kindMask } from '@pcmims/contracts'
import { type Address, getAddress, type Hex, hexToBytes, zeroHash } from 'viem'
import { getEncryptionKey } from '../chain/get-encryption-key.js'
import { getParticipant } from '../chain/get-participant.js'
import { grantAccess } from '../chain/grant-access.js'
import { wrapKey } from '../crypto/wrap-key.js'
import { encodeKeyBundle, type KeyBundle } from '../records/key-bundle.js'
import { recordIdFromCid } from '../records/record-id.js'
import { recordWrapContext } from '../records/record-keys.js'
import type { RecordKind } from '../records/schema-helpers.js'
import { getChainTime } from './chain-time.js'
import { PreconditionError } from './errors.js'
import { listRecords } from './list-records.js'
import { closeRecord, openRecord } from './open-record.js'
import type { PcmimsClient } from './pcmims-client.js'

/** Shortest grant accepted, in seconds. */
export const MIN_GRANT_SECONDS = 60

export type CreateGrantParameters = {
  grantee: Address
  /** Limit to these kinds (scope Kinds); with `records` empty and no kinds the grant covers all records. */
  kinds?: RecordKind[] | undefined
  /** Limit to these records (scope Records). */
  records?: Hex[] | undefined
  /** Expiry, unix seconds. */
  expiresAt: number
  download: boolean
  deidentifiedOnly?: boolean | undefined
  signal?: AbortSignal | undefined
}

export type CreateGrantReturnType = {
  hash: Hex
  gasUsed: bigint
  /** CID of the key bundle; absent for a de-identified-only grant, which carries no keys. */
  keyBundle: string | undefined
  scope: 'All' | 'Kinds' | 'Records'
  records: Hex[]
}

/**
 * The patient grants: wraps the DEK of every existing record the scope covers for the grantee into a
 * key bundle stored on the node, then records the grant on chain with the bundle's digest. Records
 * added later reach the grantee through their own envelopes (uploaders wrap for standing grantees).
 */
export async function createGrant(
  client: PcmimsClient,
  params: CreateGrantParameters,
): Promise<CreateGrantReturnType> {
  const grantee = getAddress(params.grantee)
  const patient = client.account.address
  if (grantee === patient) throw new PreconditionError('A patient does not grant to themselves')
  const participant = await getParticipant(client.publicClient, {
    contract: client.config.contract,
    account: grantee,
  })
  if (participant.status !== 'Approved') {
    throw new PreconditionError('The grantee is not an approved participant', {
      details: `${grantee}: ${participant.status}`,
    })
  }
  // The contract judges expiry by the block that includes the grant: leave that block some time.
  if (params.expiresAt < (await getChainTime(client.publicClient)) + MIN_GRANT_SECONDS) {
    throw new PreconditionError('The expiry must be at least a minute after the chain’s current time', {
      code: 'INVALID_EXPIRY',
    })
  }
  const scope = params.records?.length ? 'Records' : params.kinds?.length ? 'Kinds' : 'All'
  const mask = scope === 'Kinds' ? kindMask(params.kinds ?? []) : 0
  const prepared = await prepareKeyBundle(client, {
    grantee,
    scope,
    kindMask: mask,
    records: params.records ?? [],
    deidentifiedOnly: params.deidentifiedOnly,
    signal: params.signal,
  })
  const receipt = await grantAccess(client.walletClient, {
    contract: client.config.contract,
    grantee,
    scope,
    kindMask: mask,
    recordIds: scope === 'Records' ? prepared.records : [],
    expiresAt: params.expiresAt,
    download: params.download,
    deidentifiedOnly: params.deidentifiedOnly ?? false,
    keyBundle: prepared.digest,
  })
  return {
    hash: receipt.hash,
    gasUsed: receipt.gasUsed,
    keyBundle: prepared.cid,
    scope,
    records: prepared.records,
  }
}

export type PrepareKeyBundleParameters = {
  grantee: Address
  scope: 'All' | 'Kinds' | 'Records'
  kindMask: number
  records: Hex[]
  /**
   * A de-identified-only grantee must never hold the keys of the originals: no bundle is made, and
   * the grantee reads only de-identified copies made for it.
   */
  deidentifiedOnly?: boolean | undefined
  signal?: AbortSignal | undefined
}

/**
 * Wraps, for `grantee`, the DEK of every current record of the calling patient that the scope covers,
 * and stores the bundle on the node. Returns the bundle's CID and the digest that goes on chain (zero
 * and no CID for a de-identified-only grant).
 */
export async function prepareKeyBundle(
  client: PcmimsClient,
  params: PrepareKeyBundleParameters,
): Promise<{ cid: string | undefined; digest: Hex; records: Hex[] }> {
  const patient = client.account.address
  const grantee = getAddress(params.grantee)
  const mask = params.kindMask
  const scope = params.scope
  const mine = await listRecords(client, { patient, signal: params.signal })
  const covered =
    scope === 'Records'
      ? params.records.map((id) => id.toLowerCase() as Hex)
      : mine.filter((r) => scope === 'All' || ((mask >> Kind[r.kind]) & 1) === 1).map((r) => r.id)
  const known = new Set(mine.map((r) => r.id.toLowerCase()))
  for (const id of covered) {
    if (!known.has(id)) throw new PreconditionError('Not a current record of this patient', { details: id })
  }
  if (params.deidentifiedOnly) return { cid: undefined, digest: zeroHash, records: covered }
  const publicKey = await getEncryptionKey(client.publicClient, {
    contract: client.config.contract,
    account: grantee,
  })
  const entries: KeyBundle['entries'] = []
  for (const recordId of covered) {
    const opened = await openRecord(client, { recordId, signal: params.signal })
    try {
      const { enc, ct } = await wrapKey({
        key: opened.dek,
        recipientPublicKey: hexToBytes(publicKey),
        context: recordWrapContext(opened.envelope, grantee),
      })
      entries.push({ record: recordId, enc, ct })
    } finally {
      closeRecord(opened)
    }
  }
  const bundle = await encodeKeyBundle({
    v: 1,
    type: 'pcmims/key-bundle',
    chainId: BigInt(client.config.chainId),
    contract: getAddress(client.config.contract),
    patient,
    grantee,
    entries,
  })
  await client.node.raw('PUT', `/api/v1/blocks/${bundle.cid}`, {
    body: bundle.bytes,
    contentType: 'application/vnd.ipld.dag-cbor',
    ...(params.signal ? { signal: params.signal } : {}),
  })
  return { cid: bundle.cid.toString(), digest: recordIdFromCid(bundle.cid), records: covered }
}
