import { CID } from 'multiformats/cid'
import { type Address, getAddress, type Hex, isAddress } from 'viem'
import { BadRequestError } from './errors.js'

export function parseAddress(value: string | undefined, name: string): Address {
  if (!value || !isAddress(value, { strict: false })) throw new BadRequestError(`${name} is not an address`)
  return getAddress(value)
}

export function parseRecordIdParam(value: string | undefined): Hex {
  if (!value || !/^0x[0-9a-fA-F]{64}$/.test(value))
    throw new BadRequestError('Record id must be 32 bytes of hex')
  return value.toLowerCase() as Hex
}

export function parseCid(value: string | undefined, name = 'cid'): CID {
  if (!value || value.length > 128)
    throw new BadRequestError(`${name} is not a CID`, undefined, 'INVALID_CID')
  try {
    return CID.parse(value)
  } catch {
    throw new BadRequestError(`${name} is not a CID`, undefined, 'INVALID_CID')
  }
}
