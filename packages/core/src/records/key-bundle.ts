import type { CID } from 'multiformats/cid'
import { type Address, bytesToHex, type Hex, hexToBytes } from 'viem'
import { z } from 'zod'
import { encodeDagCborBlock } from './record-id.js'
import { addressBytesSchema, addressToBytes, bytesSchema, decodeDagCborWith } from './schema-helpers.js'

export const KEY_BUNDLE_TYPE = 'pcmims/key-bundle'
export const KEY_BUNDLE_LIMITS = { maxEntries: 10_000, maxBytes: 4 * 1024 * 1024 }

/**
 * What a patient publishes with a grant: the DEK of each record that exists at grant time, wrapped
 * for the grantee. Its digest goes on chain with the grant; records added later under a standing grant
 * carry the grantee's wrapped key in their own envelope instead.
 */
export type KeyBundle = {
  v: 1
  type: typeof KEY_BUNDLE_TYPE
  chainId: bigint
  contract: Address
  patient: Address
  grantee: Address
  entries: Array<{ record: Hex; enc: Uint8Array; ct: Uint8Array }>
}

const keyBundleSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal(KEY_BUNDLE_TYPE),
  chainId: z.union([z.number().int().positive(), z.bigint().positive()]).transform((v) => BigInt(v)),
  contract: addressBytesSchema,
  patient: addressBytesSchema,
  grantee: addressBytesSchema,
  entries: z
    .array(
      z.strictObject({
        record: bytesSchema(32, 32).transform((b) => bytesToHex(b)),
        enc: bytesSchema(32, 32),
        ct: bytesSchema(48, 48),
      }),
    )
    .max(KEY_BUNDLE_LIMITS.maxEntries),
})

export async function encodeKeyBundle(bundle: KeyBundle): Promise<{ bytes: Uint8Array; cid: CID }> {
  return encodeDagCborBlock({
    v: bundle.v,
    type: bundle.type,
    chainId: bundle.chainId <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(bundle.chainId) : bundle.chainId,
    contract: addressToBytes(bundle.contract),
    patient: addressToBytes(bundle.patient),
    grantee: addressToBytes(bundle.grantee),
    entries: bundle.entries.map((e) => ({ record: hexToBytes(e.record), enc: e.enc, ct: e.ct })),
  })
}

export function decodeKeyBundle(bytes: Uint8Array): KeyBundle {
  const value = decodeDagCborWith(keyBundleSchema, bytes, 'Key bundle', KEY_BUNDLE_LIMITS.maxBytes)
  return value as KeyBundle
}
