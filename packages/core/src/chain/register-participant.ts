import { Role } from '@pcmims/contracts'
import type { Address, Hex } from 'viem'
import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type RegistrableRole = 'Patient' | 'Uploader' | 'Medic' | 'Requestor'

export type RegisterParticipantParameters = WriteParameters & {
  /** The (Approved) health unit that will approve this account. */
  unit: Address
  role: RegistrableRole
  /** The account's X25519 public key (32 bytes). */
  encryptionKey: Hex
}

export type RegisterParticipantReturnType = WriteReturnType

/** The sending account asks `unit` to admit it in `role`; it stays Pending until the unit approves. */
export async function registerParticipant(
  client: AnyClient,
  params: RegisterParticipantParameters,
): Promise<RegisterParticipantReturnType> {
  return executeWrite(client, {
    ...params,
    functionName: 'register',
    args: [params.unit, Role[params.role], params.encryptionKey],
  })
}
