import { type Address, hexToBytes, isAddress } from 'viem'
import { utf8 } from './bytes.js'
import { InvalidParameterError } from './errors.js'

/** What a wrapped DEK is bound to; a wrapped key moved to any other value of any field fails to open. */
export type DekWrapContext = {
  /** EIP-155 chain id of the chain the record is anchored on. */
  chainId: bigint
  /** The PCMIMS records contract on that chain. */
  contract: Address
  /** 32 bytes: the digest of the record's encrypted-manifest CID. */
  subject: Uint8Array
  /** The account the key is wrapped for. */
  recipient: Address
}

export const DEK_WRAP_LABEL = utf8('pcmims/v1/dek-wrap')
/** Length of the encoded context: label 18 + chain id 32 + contract 20 + subject 32 + recipient 20. */
export const DEK_WRAP_INFO_LENGTH = DEK_WRAP_LABEL.length + 32 + 20 + 32 + 20

const MAX_UINT256 = (1n << 256n) - 1n

/**
 * Canonical HPKE `info` for a DEK wrap: the ASCII label "pcmims/v1/dek-wrap", then the chain id as a
 * 32-byte big-endian unsigned integer, the contract address (20 bytes), the subject (32 bytes) and the
 * recipient address (20 bytes). Every field has a fixed width, so no two contexts encode alike.
 *
 * @throws {InvalidParameterError} a field is missing, out of range or malformed.
 */
export function encodeWrapContext(context: DekWrapContext): Uint8Array {
  const { chainId, contract, subject, recipient } = context
  if (typeof chainId !== 'bigint' || chainId <= 0n || chainId > MAX_UINT256) {
    throw new InvalidParameterError('Wrap context: chainId must be a positive uint256 bigint')
  }
  const info = new Uint8Array(DEK_WRAP_INFO_LENGTH)
  let offset = 0
  info.set(DEK_WRAP_LABEL, offset)
  offset += DEK_WRAP_LABEL.length
  let rest = chainId
  for (let i = offset + 31; i >= offset; i--) {
    info[i] = Number(rest & 0xffn)
    rest >>= 8n
  }
  offset += 32
  info.set(addressBytes(contract, 'contract'), offset)
  offset += 20
  if (!(subject instanceof Uint8Array) || subject.length !== 32) {
    throw new InvalidParameterError('Wrap context: subject must be 32 bytes')
  }
  info.set(subject, offset)
  offset += 32
  info.set(addressBytes(recipient, 'recipient'), offset)
  return info
}

function addressBytes(address: Address, field: string): Uint8Array {
  // isAddress also rejects a mixed-case address whose EIP-55 checksum is wrong (likely a typo).
  if (typeof address !== 'string' || !isAddress(address)) {
    throw new InvalidParameterError(`Wrap context: ${field} is not a valid address`, {
      details: String(address),
    })
  }
  return hexToBytes(address)
}
