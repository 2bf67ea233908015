import { type Address, type Hex, hexToBytes } from 'viem'
import { IntegrityError } from '../records/errors.js'
import { verifyFileStream } from '../records/verify-file-stream.js'
import type { PcmimsClient } from './pcmims-client.js'

/** A record as its custodian node decrypts it for a caller without a key of their own. */
export type CustodialCopy = {
  id: Hex
  kind: string
  patient: { address: Address; name?: string; mrn?: string; birthDate?: string }
  appointment: string | null
  description: string | null
  date: string
  createdAt: string
  uploader: Address
  unit: Address
  access: { basis: string; until: number; download: boolean }
  files: Array<{ index: number; path: string; mediaType: string; size: number; sha256: Hex }>
}

export type GetCustodialCopyParameters = { recordId: Hex; signal?: AbortSignal | undefined }

/**
 * The decrypted manifest of a record, from its custodian node: for a medic in a declared emergency, or
 * a caller who may download but holds no key. The node checks the chain before it decrypts anything.
 */
export async function getCustodialCopy(
  client: PcmimsClient,
  { recordId, signal }: GetCustodialCopyParameters,
): Promise<CustodialCopy> {
  return client.node.json<CustodialCopy>('GET', `/api/v1/records/${recordId}/decrypted`, { signal })
}

export type ReadCustodialFileParameters = {
  copy: CustodialCopy
  index: number
  signal?: AbortSignal | undefined
  onProgress?: ((bytes: number) => void) | undefined
}

/** Streams one decrypted file from the custodian, checking its size and SHA-256 against the manifest. */
export async function* readCustodialFile(
  client: PcmimsClient,
  { copy, index, signal, onProgress }: ReadCustodialFileParameters,
): AsyncGenerator<Uint8Array, void, undefined> {
  const file = copy.files[index]
  if (!file) throw new IntegrityError('No such file in the record', { details: String(index) })
  const response = await client.node.raw('GET', `/api/v1/records/${copy.id}/decrypted/files/${index}`, {
    ...(signal ? { signal } : {}),
  })
  if (!response.body) throw new IntegrityError('The node returned no content', { details: file.path })
  yield* verifyFileStream(response.body as unknown as AsyncIterable<Uint8Array>, {
    size: file.size,
    sha256: hexToBytes(file.sha256),
    label: file.path,
    onProgress,
  })
}
