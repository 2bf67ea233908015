import { enumName, Kind, RecordFlag } from '@pcmims/contracts'
import { type Address, type Hex, zeroAddress } from 'viem'
import { type AnyClient, executeRead, type ReadParameters } from './internal/execute.js'

export type GetRecordParameters = ReadParameters & { id: Hex }

export type GetRecordReturnType = {
  id: Hex
  patient: Address
  kind: Kind
  createdAt: number
  /** Index of the custodian unit (the uploader's unit). */
  unitIndex: number
  superseded: boolean
  /** A de-identified copy made for one audience (`getCopyAudience`). */
  deidentified: boolean
  flags: number
} | null

/** The anchored record, or `null` when no record has this id. */
export async function getRecord(
  client: AnyClient,
  params: GetRecordParameters,
): Promise<GetRecordReturnType> {
  const r = await executeRead<{
    patient: Address
    kind: number
    createdAt: number
    unitIndex: number
    flags: number
  }>(client, { ...params, functionName: 'recordOf', args: [params.id] })
  if (r.patient === zeroAddress) return null
  return {
    id: params.id,
    patient: r.patient,
    kind: enumName(Kind, r.kind),
    createdAt: r.createdAt,
    unitIndex: r.unitIndex,
    superseded: (r.flags & RecordFlag.Superseded) !== 0,
    deidentified: (r.flags & RecordFlag.Deidentified) !== 0,
    flags: r.flags,
  }
}
