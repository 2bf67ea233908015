import type { Hex } from 'viem'
import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type SetEncryptionKeyParameters = WriteParameters & { encryptionKey: Hex }

export type SetEncryptionKeyReturnType = WriteReturnType

/** An Approved participant rotates its X25519 public key. */
export async function setEncryptionKey(
  client: AnyClient,
  params: SetEncryptionKeyParameters,
): Promise<SetEncryptionKeyReturnType> {
  return executeWrite(client, { ...params, functionName: 'setEncryptionKey', args: [params.encryptionKey] })
}
