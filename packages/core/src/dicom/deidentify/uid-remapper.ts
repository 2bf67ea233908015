import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { InvalidDeidentifySecretError } from './errors.js'

/** Shortest per-set secret accepted: 128 bits, so new UIDs cannot be linked back by guessing the key. */
export const MIN_DEIDENTIFY_SECRET_BYTES = 16

const DOMAIN = new TextEncoder().encode('pcmims/dicom/deidentify/uid/v1\0')
/** UIDs of the DICOM registry (SOP classes, transfer syntaxes, well-known frames of reference): not PHI. */
const DICOM_ROOT = '1.2.840.10008.'

/**
 * Maps original UIDs to new ones for one de-identified set ("retain UID consistency", PS3.15 E.1.1 action
 * `U`). Each new UID is `2.25.<decimal>` (PS3.5 B.2), the integer being the first 128 bits of
 * HMAC-SHA-256(secret, original) shaped as an RFC 9562 version 8 UUID. The mapping is deterministic per secret:
 * the same original UID gets the same new UID in every file of the set (and in every later run with the same
 * secret), so references between instances stay valid; without the secret the new UIDs cannot be linked to the
 * originals, and sets de-identified with different secrets share no UIDs.
 */
export type UidRemapper = {
  /** New UID for `uid`; well-known DICOM registry UIDs (`1.2.840.10008.*`) and empty values are returned as is. */
  remap(uid: string): string
  /** Every mapping made so far (original → new). Links the copy to the source: keep it private to the node. */
  readonly map: ReadonlyMap<string, string>
}

export type CreateUidRemapperParameters = {
  /** Per-set secret, at least {@link MIN_DEIDENTIFY_SECRET_BYTES} bytes (e.g. 32 random bytes per request). */
  secret: Uint8Array
  /** Receives the mappings as they are made, e.g. to keep them beside the source record. */
  uidMap?: Map<string, string> | undefined
}

export function createUidRemapper({ secret, uidMap }: CreateUidRemapperParameters): UidRemapper {
  if (!(secret instanceof Uint8Array) || secret.length < MIN_DEIDENTIFY_SECRET_BYTES) {
    throw new InvalidDeidentifySecretError(
      `The de-identification secret must be at least ${MIN_DEIDENTIFY_SECRET_BYTES} bytes`,
    )
  }
  const key = secret.slice()
  const map = uidMap ?? new Map<string, string>()
  return {
    map,
    remap(uid: string): string {
      const original = normalizeUid(uid)
      if (original === '' || original.startsWith(DICOM_ROOT)) return original
      const known = map.get(original)
      if (known !== undefined) return known
      const fresh = deriveUid(key, original)
      map.set(original, fresh)
      return fresh
    },
  }
}

/** UI values are padded with NUL (and some writers use spaces); the padding is not part of the UID. */
function normalizeUid(uid: string): string {
  return uid.replace(/[\0 ]+$/, '').replace(/^ +/, '')
}

function deriveUid(key: Uint8Array, original: string): string {
  const message = new Uint8Array(DOMAIN.length + original.length * 3)
  message.set(DOMAIN)
  const { written } = new TextEncoder().encodeInto(original, message.subarray(DOMAIN.length))
  const digest = hmac(sha256, key, message.subarray(0, DOMAIN.length + written))
  const uuid = digest.subarray(0, 16)
  // RFC 9562 version 8 (custom) with the RFC variant, as PS3.5 B.2 derives 2.25 UIDs from UUIDs.
  uuid[6] = ((uuid[6] ?? 0) & 0x0f) | 0x80
  uuid[8] = ((uuid[8] ?? 0) & 0x3f) | 0x80
  let value = 0n
  for (const byte of uuid) value = (value << 8n) | BigInt(byte)
  return `2.25.${value.toString(10)}`
}
