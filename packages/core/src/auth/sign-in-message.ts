import type { Address } from 'viem'
import { createSiweMessage } from 'viem/siwe'

export type CreateSignInMessageParameters = {
  address: Address
  /** The node's URL as the client reaches it: its host is the message's domain. */
  nodeUrl: string
  chainId: number
  nonce: string
  statement?: string | undefined
  issuedAt?: Date | undefined
  /** Sessions end no later than this. */
  expirationTime?: Date | undefined
}

/** The EIP-4361 (Sign-In with Ethereum) message a user signs to open a session on a node. */
export function createSignInMessage(params: CreateSignInMessageParameters): string {
  const url = new URL(params.nodeUrl)
  return createSiweMessage({
    address: params.address,
    chainId: params.chainId,
    domain: url.host,
    nonce: params.nonce,
    uri: url.origin,
    version: '1',
    scheme: url.protocol.slice(0, -1),
    issuedAt: params.issuedAt ?? new Date(),
    ...(params.statement ? { statement: params.statement } : {}),
    ...(params.expirationTime ? { expirationTime: params.expirationTime } : {}),
  })
}
