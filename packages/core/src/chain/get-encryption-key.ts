import type { Address, Hex } from 'viem'
import { type AnyClient, executeRead, type ReadParameters } from './internal/execute.js'

export type GetEncryptionKeyParameters = ReadParameters & { account: Address }

/** The account's registered X25519 public key (32 bytes, hex); zero when none. */
export type GetEncryptionKeyReturnType = Hex

export async function getEncryptionKey(
  client: AnyClient,
  params: GetEncryptionKeyParameters,
): Promise<GetEncryptionKeyReturnType> {
  return executeRead<Hex>(client, { ...params, functionName: 'encryptionKeyOf', args: [params.account] })
}
