import * as dagCbor from '@ipld/dag-cbor'
import { Kind } from '@pcmims/contracts'
import { CID } from 'multiformats/cid'
import { bytesToHex, getAddress, hexToBytes, isAddress } from 'viem'
import { z } from 'zod'
import { InvalidFormatError } from './errors.js'

/** Record kinds by name, in the contract's enum order. */
export const RECORD_KINDS = Object.keys(Kind) as [Kind, ...Kind[]]
export type RecordKind = Kind
export const recordKindSchema = z.enum(RECORD_KINDS)

/** 20 raw bytes in CBOR, a checksummed 0x string in TypeScript. */
export const addressBytesSchema = z
  .instanceof(Uint8Array)
  .refine((b) => b.length === 20, 'an address is 20 bytes')
  .transform((b) => getAddress(bytesToHex(b)))

export const addressStringSchema = z
  .string()
  .refine((s) => isAddress(s, { strict: false }), 'not an Ethereum address')
  .transform((s) => getAddress(s))

export const bytesSchema = (min: number, max: number) =>
  z.instanceof(Uint8Array).refine((b) => b.length >= min && b.length <= max, `expected ${min}..${max} bytes`)

export const cidSchema = z
  .custom<CID>((value) => CID.asCID(value) !== null, 'not a CID')
  .transform((v) => CID.asCID(v)!)

export const cidStringSchema = z
  .string()
  .max(128)
  .transform((s, ctx) => {
    try {
      return CID.parse(s)
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a CID' })
      return z.NEVER
    }
  })

export function addressToBytes(address: string): Uint8Array {
  return hexToBytes(getAddress(address))
}

/**
 * Decodes untrusted DAG-CBOR under a size bound and checks it against a schema, so that every format
 * reader fails the same way: a typed error naming the format and the first offending fields.
 */
export function decodeDagCborWith<S extends z.ZodType>(
  schema: S,
  bytes: Uint8Array,
  what: string,
  maxBytes: number,
): z.output<S> {
  if (bytes.length > maxBytes) throw new InvalidFormatError(`${what} is too large`)
  let raw: unknown
  try {
    raw = dagCbor.decode(bytes)
  } catch (cause) {
    throw new InvalidFormatError(`${what} is not valid DAG-CBOR`, { cause })
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success) {
    throw new InvalidFormatError(`${what} does not match the v1 schema`, {
      details: parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; '),
    })
  }
  return parsed.data
}
