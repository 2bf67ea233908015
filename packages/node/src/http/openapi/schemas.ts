import { AccessBasis, Kind, Purpose, RequestStatus, Role, Scope, Status } from '@pcmims/contracts'
import { CID } from 'multiformats/cid'
import { getAddress } from 'viem'
import { z } from 'zod'

/**
 * What the OpenAPI document says about a schema beyond its shape. A registry of its own, not zod's
 * global one: this module may be loaded twice in one process (from src and from dist), and the global
 * registry refuses an id it already holds.
 */
export type ApiSchemaMeta = { id?: string | undefined; description?: string | undefined }

export const apiSchemas = z.registry<ApiSchemaMeta>()

/** A named schema: it becomes `#/components/schemas/<id>` and is referenced wherever it is used. */
export function component<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  apiSchemas.add(schema, { id, description })
  return schema
}

/**
 * A copy of `schema` with a description, for one use: the schema passed in keeps its own metadata (a
 * named component described here is inlined where it is used so).
 */
export function doc<T extends z.ZodType>(schema: T, description: string): T {
  const copy = schema.clone() as T
  apiSchemas.add(copy, { description })
  return copy
}

const problemCodes = new WeakMap<z.ZodType, string>()

/** The problem code a malformed path parameter is refused with, when not the generic INVALID_PARAMS. */
export function withProblemCode<T extends z.ZodType>(schema: T, code: string): T {
  problemCodes.set(schema, code)
  return schema
}

export function problemCodeOf(schema: z.ZodType | undefined): string | undefined {
  return schema ? problemCodes.get(schema) : undefined
}

const names = <T extends Record<string, number>>(mirror: T) =>
  Object.keys(mirror) as [keyof T & string, ...Array<keyof T & string>]

// ----------------------------------------------------------------------------------------------------
// Scalars
// ----------------------------------------------------------------------------------------------------

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

function checksummed(value: string): boolean {
  try {
    return getAddress(value) === value
  } catch {
    return false
  }
}

/** Addresses the node writes are always EIP-55 checksummed: a lowercase one is a bug here. */
export const Address = component(
  'Address',
  z
    .string()
    .regex(ADDRESS)
    .refine((value) => checksummed(value), 'not EIP-55 checksummed'),
  'An account address, EIP-55 checksummed.',
)

export const AddressInput = component(
  'AddressInput',
  z.string().regex(ADDRESS),
  'An account address: 0x and 40 hex digits, any case.',
)

export const RecordId = component(
  'RecordId',
  z.string().regex(/^0x[0-9a-f]{64}$/),
  "A record id: the SHA-256 digest of the record's envelope block, lowercase hex.",
)

export const RecordIdInput = component(
  'RecordIdInput',
  z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  'A record id: 0x and 64 hex digits, any case.',
)

export const TxHash = component('TxHash', z.string().regex(/^0x[0-9a-f]{64}$/), 'A transaction hash.')

export const Bytes32 = component('Bytes32', z.string().regex(/^0x[0-9a-f]{64}$/), '32 bytes, lowercase hex.')

function isCid(value: string): boolean {
  try {
    CID.parse(value)
    return true
  } catch {
    return false
  }
}

export const Cid = component(
  'Cid',
  z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9]+$/)
    .refine(isCid, 'not a CID'),
  'A content identifier (CIDv1 in base32, or CIDv0).',
)

export const UnixSeconds = component(
  'UnixSeconds',
  z.number().int().nonnegative(),
  'Unix time in seconds, by the chain clock (block timestamps).',
)

export const IsoTime = component('IsoTime', z.iso.datetime(), 'An instant, ISO 8601 in UTC.')

export const DecimalString = component(
  'DecimalString',
  z.string().regex(/^(0|[1-9][0-9]*)$/),
  'A non-negative integer in decimal: a string, as it may exceed 2^53.',
)

export const Count = z.number().int().nonnegative()

// ----------------------------------------------------------------------------------------------------
// Chain enums (names in the contract's order)
// ----------------------------------------------------------------------------------------------------

export const RoleName = component('Role', z.enum(names(Role)), 'A participant role.')
export const StatusName = component('ParticipantStatus', z.enum(names(Status)), 'A participant status.')
export const KindName = component('RecordKind', z.enum(names(Kind)), 'A record kind.')
export const ScopeName = component('GrantScope', z.enum(names(Scope)), 'What a grant or request covers.')
export const PurposeName = component('Purpose', z.enum(names(Purpose)), 'Why access is requested.')
export const RequestStatusName = component(
  'RequestStatus',
  z.enum(names(RequestStatus)),
  'Where an access request stands.',
)
export const AccessBasisName = component(
  'AccessBasis',
  z.enum(names(AccessBasis)),
  'Why the chain allows (or refuses) a read.',
)
export const OutboxStateName = component(
  'AnchorState',
  z.enum(['queued', 'submitted', 'confirmed', 'failed']),
  'Where a submitted record stands on its way to the chain.',
)

// ----------------------------------------------------------------------------------------------------
// Shared bodies
// ----------------------------------------------------------------------------------------------------

/** Every error the node answers, from `errorToResponse` (RFC 9457). */
export const Problem = component(
  'Problem',
  z.strictObject({
    type: z.literal('about:blank'),
    title: z.string().min(1),
    status: z.number().int().min(400).max(599),
    code: doc(z.string().regex(/^[A-Z][A-Z0-9_]*$/), 'A stable machine-readable code.'),
    detail: doc(z.string(), 'More about a client error; never present on a 5xx.').optional(),
    requestId: doc(z.string().min(1), 'Quote it when reporting a problem: the log has the same id.'),
  }),
  'An RFC 9457 problem. A 500 says nothing about its cause.',
)

export const Access = component(
  'Access',
  z.strictObject({
    allowed: z.boolean(),
    download: z.boolean(),
    deidentifiedOnly: z.boolean(),
    until: doc(
      z.number().int().nonnegative(),
      'Unix seconds when this basis lapses (2^40 - 1 for the patient and the custodian).',
    ),
    basis: AccessBasisName,
  }),
  "The chain's verdict on the caller reading a record.",
)

export const Participant = component(
  'Participant',
  z.strictObject({
    address: Address,
    unit: Address,
    role: RoleName,
    status: StatusName,
    unitIndex: Count,
    encryptionKey: doc(
      z.string().regex(/^0x[0-9a-f]{64}$/),
      'The X25519 public key records are wrapped for (zero when none).',
    ),
  }),
  'Public chain facts about one account.',
)

export const UploadStatus = component(
  'UploadStatus',
  z.strictObject({
    recordId: RecordId,
    envelopeCid: Cid,
    status: OutboxStateName,
    txHash: TxHash.nullable(),
    gasUsed: DecimalString.nullable(),
    blockNumber: DecimalString.nullable(),
    error: doc(z.string().nullable(), 'Why anchoring failed (for `failed`), or the last retryable error.'),
  }),
  'Anchoring status of a submitted record.',
)

export const StoredBlob = component(
  'StoredBlob',
  z.strictObject({ cid: Cid, size: Count }),
  'Ciphertext or a block the node now holds.',
)

export const Session = component(
  'Session',
  z.strictObject({
    address: Address,
    expiresAt: doc(IsoTime, 'The session ends then at the latest.'),
    idleExpiresAt: doc(IsoTime, 'The session ends then unless used before.'),
  }),
  'A signed-in session.',
)
