import type { Hex } from 'viem'
import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type RotateRecordParameters = WriteParameters & { oldId: Hex; newId: Hex }

export type RotateRecordReturnType = WriteReturnType & { id: Hex }

/**
 * Re-anchors a re-encrypted record under `newId` (same patient, kind and custodian) and supersedes `oldId`,
 * which then grants access to nobody. By the record's patient or its custodian unit.
 */
export async function rotateRecord(
  client: AnyClient,
  params: RotateRecordParameters,
): Promise<RotateRecordReturnType> {
  const result = await executeWrite(client, {
    ...params,
    functionName: 'rotateRecord',
    args: [params.oldId, params.newId],
  })
  return { ...result, id: params.newId }
}
