import type { Address } from 'viem'
import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type EndEmergencyParameters = WriteParameters & { medic: Address }

export type EndEmergencyReturnType = WriteReturnType

/** The sending patient ends a medic's active emergency access now. */
export async function endEmergency(
  client: AnyClient,
  params: EndEmergencyParameters,
): Promise<EndEmergencyReturnType> {
  return executeWrite(client, { ...params, functionName: 'endEmergency', args: [params.medic] })
}
