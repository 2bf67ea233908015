// Mirrors of the contract's enums and constants (contracts/PcmimsTypes.sol). Order matters: the value of a
// name is its position in the Solidity enum; test/constants.test.ts checks both against the compiler's AST.

export const Role = { None: 0, Unit: 1, Patient: 2, Uploader: 3, Medic: 4, Requestor: 5 } as const
export type Role = keyof typeof Role

export const Status = { None: 0, Pending: 1, Approved: 2, Rejected: 3, Suspended: 4 } as const
export type Status = keyof typeof Status

/** Record kinds; a kind mask has bit `1 << Kind[name]` set for each kind it covers. */
export const Kind = { MRI: 0, CT: 1, XRAY: 2, US: 3, REPORT: 4, OTHER: 5 } as const
export type Kind = keyof typeof Kind

export const Scope = { None: 0, All: 1, Kinds: 2, Records: 3 } as const
export type Scope = keyof typeof Scope

export const RequestStatus = { None: 0, Pending: 1, Approved: 2, Denied: 3 } as const
export type RequestStatus = keyof typeof RequestStatus

/** Grant flags bitfield. */
export const GrantFlag = { Download: 1, DeidentifiedOnly: 2 } as const
export type GrantFlag = keyof typeof GrantFlag
export const GRANT_FLAGS_MASK = 3

/**
 * Bit offsets of the packed grant terms, low bits first: the `Grant` storage slot, which `GrantSet` logs as
 * `terms`. Widths: expiresAt 40, kindMask 16, scope 8, flags 8, epoch 32 bits.
 */
export const GrantTermsBits = { expiresAt: 0, kindMask: 40, scope: 56, flags: 64, epoch: 72 } as const

/** Purpose code of an access request (`MAX_PURPOSE_CODE` = 4 on chain). */
export const Purpose = { Treatment: 0, Research: 1, Insurance: 2, Legal: 3, Other: 4 } as const
export type Purpose = keyof typeof Purpose

/** Why `accessOf` allowed (or refused) a read. */
export const AccessBasis = { None: 0, Patient: 1, Custodian: 2, Grant: 3, Emergency: 4 } as const
export type AccessBasis = keyof typeof AccessBasis

/** Record flags. */
export const RecordFlag = { Superseded: 1, Deidentified: 2 } as const

export const KIND_MASK_ALL = 0x3f
export const MAX_EMERGENCY_DURATION = 4 * 60 * 60

/** Name of an enum value, e.g. `enumName(Role, 4) === 'Medic'`; throws on a value the mirror does not know. */
export function enumName<const E extends Record<string, number>>(
  mirror: E,
  value: number | bigint,
): keyof E & string {
  const n = Number(value)
  for (const [name, v] of Object.entries(mirror)) if (v === n) return name as keyof E & string
  throw new RangeError(`Unknown enum value ${value}`)
}

/** Kind mask covering `kinds`, e.g. `kindMask(['CT', 'MRI']) === 3`. */
export function kindMask(kinds: readonly Kind[]): number {
  let mask = 0
  for (const kind of kinds) mask |= 1 << Kind[kind]
  return mask
}

/** Kinds in a mask, in enum order. */
export function kindsOf(mask: number): Kind[] {
  return (Object.keys(Kind) as Kind[]).filter((kind) => (mask >> Kind[kind]) & 1)
}

/** Grant flags byte from booleans. */
export function grantFlags(options: { download?: boolean; deidentifiedOnly?: boolean }): number {
  return (
    (options.download ? GrantFlag.Download : 0) | (options.deidentifiedOnly ? GrantFlag.DeidentifiedOnly : 0)
  )
}
