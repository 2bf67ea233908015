import type { Address } from 'viem'
import { type AnyClient, executeRead, type ReadParameters } from './internal/execute.js'

export type GetEmergencyParameters = ReadParameters & { medic: Address; patient: Address }

export type GetEmergencyReturnType = {
  /** Unix seconds the emergency access ends (or ended); 0 when none was ever declared. Active while > now. */
  until: number
  declaredAt: number
  unitIndex: number
  reasonCode: number
}

/** The latest emergency declared by `medic` for `patient`. */
export async function getEmergency(
  client: AnyClient,
  params: GetEmergencyParameters,
): Promise<GetEmergencyReturnType> {
  const e = await executeRead<{ until: number; declaredAt: number; unitIndex: number; reasonCode: number }>(
    client,
    {
      ...params,
      functionName: 'emergencyOf',
      args: [params.medic, params.patient],
    },
  )
  return { until: e.until, declaredAt: e.declaredAt, unitIndex: e.unitIndex, reasonCode: e.reasonCode }
}
