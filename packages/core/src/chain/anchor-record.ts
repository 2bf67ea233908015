import { Kind } from '@pcmims/contracts'
import type { Address, Hex } from 'viem'
import {
  type AnyClient,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type AnchorRecordParameters = WriteParameters & {
  /** Record id: the sha-256 digest of the record envelope's CID (32 bytes). */
  id: Hex
  patient: Address
  /** The Approved uploader; the sender is the uploader itself or the uploader's unit (relaying). */
  uploader: Address
  kind: Kind
}

export type AnchorRecordReturnType = WriteReturnType & { id: Hex; unitIndex: number }

/** Anchors one record (a study or a report): one storage slot and one `RecordAnchored` event. */
export async function anchorRecord(
  client: AnyClient,
  params: AnchorRecordParameters,
): Promise<AnchorRecordReturnType> {
  const result = await executeWrite(client, {
    ...params,
    functionName: 'anchorRecord',
    args: [params.id, params.patient, params.uploader, Kind[params.kind]],
  })
  const event = result.events.find((e) => e.eventName === 'RecordAnchored')
  return {
    ...result,
    id: params.id,
    unitIndex: event?.eventName === 'RecordAnchored' ? event.args.unitIndex : 0,
  }
}
