import type { Address } from 'viem'
import {
  type AnyClient,
  eventOf,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type DeclareEmergencyParameters = WriteParameters & {
  patient: Address
  /** Application-defined reason code (0-255), shown to the patient. */
  reasonCode: number
  /** 1 s .. 4 h (`MAX_EMERGENCY_DURATION`). */
  durationSeconds: number
}

export type DeclareEmergencyReturnType = WriteReturnType & { until: number }

/** Break-glass: the sending medic gets time-boxed access to the patient's records its unit is custodian of. */
export async function declareEmergency(
  client: AnyClient,
  params: DeclareEmergencyParameters,
): Promise<DeclareEmergencyReturnType> {
  const result = await executeWrite(client, {
    ...params,
    functionName: 'declareEmergency',
    args: [params.patient, params.reasonCode, params.durationSeconds],
  })
  return { ...result, until: eventOf(result, 'EmergencyDeclared').args.until }
}
