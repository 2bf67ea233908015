import type { Address, Hex } from 'viem'
import {
  type AnyClient,
  eventOf,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type AdmitUnitParameters = WriteParameters & {
  unit: Address
  /** The unit's X25519 public key (32 bytes). */
  encryptionKey: Hex
}

export type AdmitUnitReturnType = WriteReturnType & { unitIndex: number }

/** Governance admits a health unit: it becomes an Approved participant with role Unit and the next unit index. */
export async function admitUnit(
  client: AnyClient,
  params: AdmitUnitParameters,
): Promise<AdmitUnitReturnType> {
  const result = await executeWrite(client, {
    ...params,
    functionName: 'admitUnit',
    args: [params.unit, params.encryptionKey],
  })
  return { ...result, unitIndex: eventOf(result, 'UnitAdmitted').args.unitIndex }
}
