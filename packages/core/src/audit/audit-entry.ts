import { sha256 } from '@noble/hashes/sha2.js'
import { type Address, bytesToHex, type Hex, hexToBytes, isAddress } from 'viem'
import { z } from 'zod'
import { BaseError } from '../errors/base-error.js'
import { merkleLeafHash } from './merkle.js'

/**
 * What an audit entry records. Append new actions at the end: an entry's hash covers its action's name,
 * never its position in this list, so adding one leaves every existing hash valid.
 */
export const AUDIT_ACTIONS = [
  'session.sign-in',
  'session.sign-out',
  'record.list',
  'record.metadata',
  'record.read',
  'record.download-decrypted',
  'key-bundle.release',
  'grant.set',
  'grant.revoke',
  'request.create',
  'request.approve',
  'request.deny',
  'emergency.declare',
  'emergency.end',
  'emergency.read',
  'record.anchor',
  'registration.approve',
  'registration.reject',
  'registration.suspend',
  'audit.read',
  'ingest.store',
  'ingest.held-read',
  'ingest.resolve',
  'ingest.discard',
  'patient-map.set',
  'patient-map.remove',
] as const

export type AuditAction = (typeof AUDIT_ACTIONS)[number]

export const AUDIT_OUTCOMES = ['success', 'denied', 'error'] as const
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number]

/** `prevHash` of the first entry (seq 0). */
export const AUDIT_ZERO_HASH: Hex = `0x${'0'.repeat(64)}`

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
// Short machine codes only (no spaces): a free-text field would invite PHI into a log that is kept forever.
const SHORT_CODE = /^[A-Za-z0-9._:-]{1,64}$/
const ROLE = /^[A-Za-z0-9._-]{1,32}$/

const addressSchema = z
  .string()
  .refine((s) => isAddress(s, { strict: false }), 'not an Ethereum address')
  .transform((s) => s.toLowerCase() as Address)
const hex32Schema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, 'not a 32-byte hex string')
  .transform((s) => s.toLowerCase() as Hex)

/**
 * One audit entry (ATNA-shaped: who, what record, what action, when, from where, outcome). Addresses and
 * hashes are normalised to lower case, so an entry parsed from any spelling has one canonical encoding.
 */
export const auditEntrySchema = z
  .strictObject({
    /** 0-based position in the node's log: the Merkle leaf index. */
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    /** ISO-8601 UTC with milliseconds, e.g. `2025-01-31T12:00:00.000Z`. */
    time: z
      .string()
      .regex(ISO_UTC_MS, 'not an ISO-8601 UTC time with milliseconds')
      .refine((s) => !Number.isNaN(Date.parse(s)) && new Date(s).toISOString() === s, 'not a valid time'),
    /** Who acted; `null` for an anonymous caller. */
    actor: addressSchema.nullable(),
    /** The actor's role as the node saw it (`patient`, `medic`, `unit`...), if known. */
    actorRole: z.string().regex(ROLE, 'not a role name').nullable(),
    action: z.enum(AUDIT_ACTIONS),
    recordId: hex32Schema.nullable(),
    /** Whose data this is about: the patient a patient fetches entries for. */
    patient: addressSchema.nullable(),
    /** Client IP, or `chain` for what the node saw on chain, or `unknown`. */
    source: z.union([z.literal('chain'), z.literal('unknown'), z.ipv4(), z.ipv6()]),
    outcome: z.enum(AUDIT_OUTCOMES),
    /** A short code (`no-grant`, `expired`, `bad-signature`...); never PHI. */
    detail: z.string().regex(SHORT_CODE, 'not a short code').nullable(),
    /** `entryHash` of entry `seq - 1`; zero for seq 0. */
    prevHash: hex32Schema,
  })
  .refine((e) => (e.seq === 0) === (e.prevHash === AUDIT_ZERO_HASH), {
    message: 'prevHash is zero exactly for seq 0',
    path: ['prevHash'],
  })

export type AuditEntry = z.output<typeof auditEntrySchema>

/** Fixed key order of the canonical encoding. */
export const AUDIT_ENTRY_FIELDS = [
  'seq',
  'time',
  'actor',
  'actorRole',
  'action',
  'recordId',
  'patient',
  'source',
  'outcome',
  'detail',
  'prevHash',
] as const satisfies ReadonlyArray<keyof AuditEntry>

/** An audit entry failed validation. */
export class InvalidAuditEntryError extends BaseError {
  override name = 'InvalidAuditEntryError'
  constructor(details: string, cause?: unknown) {
    super('Invalid audit entry', { details, cause, code: 'INVALID_AUDIT_ENTRY' })
  }
}

/** Validates and normalises an entry; throws `InvalidAuditEntryError` naming the first bad fields. */
export function parseAuditEntry(value: unknown): AuditEntry {
  const result = auditEntrySchema.safeParse(value)
  if (!result.success) {
    const issues = result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(entry)'}: ${i.message}`)
      .join('; ')
    throw new InvalidAuditEntryError(issues, result.error)
  }
  return result.data
}

/**
 * The canonical encoding of an entry, version 1: the UTF-8 bytes of a JSON object with exactly the keys of
 * {@link AUDIT_ENTRY_FIELDS} in that order, no whitespace, `null` for absent values, `seq` as a decimal
 * integer, addresses and hashes as lower-case 0x hex, strings escaped as `JSON.stringify` does (the
 * schema allows ASCII only, so no escaping question arises). The entry is validated first.
 *
 * @example {"seq":0,"time":"2025-01-31T12:00:00.000Z","actor":null,"actorRole":null,"action":"session.sign-in","recordId":null,"patient":null,"source":"127.0.0.1","outcome":"denied","detail":"bad-signature","prevHash":"0x0000…0000"}
 */
export function encodeAuditEntry(entry: AuditEntry): Uint8Array {
  return new TextEncoder().encode(canonicalAuditEntryJson(entry))
}

/** The canonical encoding as a string (see {@link encodeAuditEntry}). */
export function canonicalAuditEntryJson(entry: AuditEntry): string {
  return canonicalJsonOfParsed(parseAuditEntry(entry))
}

/**
 * SHA-256 of the canonical encoding: the next entry's `prevHash`, and the data of the entry's Merkle leaf
 * (leaf hash = SHA-256(0x00 ‖ entryHash)).
 */
export function auditEntryHash(entry: AuditEntry): Hex {
  return hashOfParsed(parseAuditEntry(entry))
}

/**
 * Validates `value` once and returns the normalised entry, its canonical JSON and its hash (what a log
 * stores for an append).
 */
export function canonicalizeAuditEntry(value: unknown): { entry: AuditEntry; json: string; hash: Hex } {
  const entry = parseAuditEntry(value)
  const json = canonicalJsonOfParsed(entry)
  return { entry, json, hash: bytesToHex(sha256(new TextEncoder().encode(json))) }
}

/** @internal For entries that already went through the schema (the verifiers): no second validation. */
export function canonicalJsonOfParsed(entry: AuditEntry): string {
  const ordered: Record<string, unknown> = {}
  for (const field of AUDIT_ENTRY_FIELDS) ordered[field] = entry[field]
  return JSON.stringify(ordered)
}

/** @internal */
export function hashOfParsed(entry: AuditEntry): Hex {
  return bytesToHex(sha256(new TextEncoder().encode(canonicalJsonOfParsed(entry))))
}

/** The entry's Merkle leaf hash: SHA-256(0x00 ‖ entryHash). */
export function auditLeafHash(entryHash: Hex): Uint8Array {
  return merkleLeafHash(hexToBytes(entryHash))
}

/** "entry 5 (record.read at 2025-01-31T12:00:00.000Z)": how reports name an entry. */
export function describeAuditEntry(entry: Pick<AuditEntry, 'seq' | 'action' | 'time'>): string {
  return `entry ${entry.seq} (${entry.action} at ${entry.time})`
}
