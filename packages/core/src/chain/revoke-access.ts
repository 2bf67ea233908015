import type { Address } from 'viem'
import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type RevokeAccessParameters = WriteParameters & { grantee: Address }

export type RevokeAccessReturnType = WriteReturnType

/** The sending patient ends its active grant to `grantee`. */
export async function revokeAccess(
  client: AnyClient,
  params: RevokeAccessParameters,
): Promise<RevokeAccessReturnType> {
  return executeWrite(client, { ...params, functionName: 'revoke', args: [params.grantee] })
}
