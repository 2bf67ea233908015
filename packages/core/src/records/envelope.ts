import type { CID } from 'multiformats/cid'
import { type Address, bytesToHex, hexToBytes } from 'viem'
import { z } from 'zod'
import { encodeDagCborBlock, type RecordId, recordIdFromCid } from './record-id.js'
import {
  addressBytesSchema,
  addressToBytes,
  bytesSchema,
  cidSchema,
  decodeDagCborWith,
  type RecordKind,
  recordKindSchema,
} from './schema-helpers.js'

export const ENVELOPE_TYPE = 'pcmims/record-envelope'
export const ENVELOPE_LIMITS = { maxRecipients: 1024, maxBytes: 1024 * 1024 }

export const RECIPIENT_ROLES = ['patient', 'custodian', 'grantee'] as const
export type RecipientRole = (typeof RECIPIENT_ROLES)[number]

/** The DEK wrapped with HPKE for one recipient. */
export type WrappedKey = {
  address: Address
  role: RecipientRole
  /** HPKE encapsulated key. */
  enc: Uint8Array
  /** HPKE ciphertext of the DEK. */
  ct: Uint8Array
}

/**
 * The plaintext half of a record, stored as a DAG-CBOR block whose digest is the record id on chain.
 * It holds only what the chain already shows (pseudonymous addresses, kind) plus wrapped keys.
 */
export type RecordEnvelope = {
  v: 1
  type: typeof ENVELOPE_TYPE
  chainId: bigint
  contract: Address
  kind: RecordKind
  patient: Address
  uploader: Address
  unit: Address
  /** CID of the encrypted manifest. */
  manifest: CID
  manifestSize: number
  recipients: WrappedKey[]
  /** The record this one replaces after a key rotation. */
  previous?: RecordId | undefined
}

const envelopeSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal(ENVELOPE_TYPE),
  chainId: z.union([z.number().int().positive(), z.bigint().positive()]).transform((v) => BigInt(v)),
  contract: addressBytesSchema,
  kind: recordKindSchema,
  patient: addressBytesSchema,
  uploader: addressBytesSchema,
  unit: addressBytesSchema,
  manifest: cidSchema,
  manifestSize: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  recipients: z
    .array(
      z.strictObject({
        address: addressBytesSchema,
        role: z.enum(RECIPIENT_ROLES),
        enc: bytesSchema(32, 32),
        ct: bytesSchema(48, 48),
      }),
    )
    .min(1)
    .max(ENVELOPE_LIMITS.maxRecipients),
  previous: bytesSchema(32, 32)
    .transform((b) => bytesToHex(b) as RecordId)
    .optional(),
})

function toCbor(envelope: RecordEnvelope): Record<string, unknown> {
  const value: Record<string, unknown> = {
    v: envelope.v,
    type: envelope.type,
    // Small chain ids encode as CBOR integers, which every decoder reads back.
    chainId:
      envelope.chainId <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(envelope.chainId) : envelope.chainId,
    contract: addressToBytes(envelope.contract),
    kind: envelope.kind,
    patient: addressToBytes(envelope.patient),
    uploader: addressToBytes(envelope.uploader),
    unit: addressToBytes(envelope.unit),
    manifest: envelope.manifest,
    manifestSize: envelope.manifestSize,
    recipients: envelope.recipients.map((r) => ({
      address: addressToBytes(r.address),
      role: r.role,
      enc: r.enc,
      ct: r.ct,
    })),
  }
  if (envelope.previous) value.previous = hexToBytes(envelope.previous)
  return value
}

/** Encodes an envelope into its block; the record id is the block's sha2-256 digest. */
export async function encodeEnvelope(
  envelope: RecordEnvelope,
): Promise<{ bytes: Uint8Array; cid: CID; recordId: RecordId }> {
  const { bytes, cid } = await encodeDagCborBlock(toCbor(envelope))
  return { bytes, cid, recordId: recordIdFromCid(cid) }
}

export function decodeEnvelope(bytes: Uint8Array): RecordEnvelope {
  const value = decodeDagCborWith(envelopeSchema, bytes, 'Envelope', ENVELOPE_LIMITS.maxBytes)
  return value as RecordEnvelope
}
