import type { Address, Hex } from 'viem'
import type { PcmimsClient } from './pcmims-client.js'

/**
 * The unit's ingest desk on its node: studies received over C-STORE or STOW-RS for a Patient ID no account is
 * mapped to, held (encrypted) until the unit's staff names the patient; and the unit's Patient ID (MRN) map,
 * private to the node. For the unit's operator and its approved uploaders.
 */
export type HeldStudy = {
  id: string
  /** `dimse:<calling AE title>` or `stow:<uploader>`. */
  source: string
  reason: string
  /** Unix milliseconds. */
  receivedAt: number
  instances: number
  bytes: number
  patientName?: string | undefined
  patientId?: string | undefined
  patientBirthDate?: string | undefined
  studyDate?: string | undefined
  studyDescription?: string | undefined
  accessionNumber?: string | undefined
  modalities: string[]
}

export type IngestBatchStatus = {
  id: string
  state: 'open' | 'sealing' | 'held' | 'sealed' | 'discarded'
  recordId: Hex | null
  reason: string | null
}

export type SignalParameters = { signal?: AbortSignal | undefined }

export async function listHeldStudies(
  client: PcmimsClient,
  params: SignalParameters = {},
): Promise<HeldStudy[]> {
  const answer = await client.node.json<{ studies: HeldStudy[] }>('GET', '/api/v1/unit/held-studies', {
    signal: params.signal,
  })
  return answer.studies
}

export type ResolveHeldStudyParameters = SignalParameters & {
  id: string
  patient: Address
  /** Also map the study's Patient ID to this patient, so its next studies go straight to them. */
  remember?: boolean | undefined
}

/** Names the patient of a held study; the node seals it into a record for them and anchors it. */
export async function resolveHeldStudy(
  client: PcmimsClient,
  params: ResolveHeldStudyParameters,
): Promise<IngestBatchStatus> {
  return client.node.json<IngestBatchStatus>(
    'POST',
    `/api/v1/unit/held-studies/${encodeURIComponent(params.id)}/resolve`,
    {
      body: { patient: params.patient, ...(params.remember ? { remember: true } : {}) },
      signal: params.signal,
    },
  )
}

export async function discardHeldStudy(
  client: PcmimsClient,
  params: SignalParameters & { id: string },
): Promise<IngestBatchStatus> {
  return client.node.json<IngestBatchStatus>(
    'DELETE',
    `/api/v1/unit/held-studies/${encodeURIComponent(params.id)}`,
    {
      signal: params.signal,
    },
  )
}

export type MapPatientIdParameters = SignalParameters & {
  patientId: string
  /** The patient's account; null removes the mapping. */
  patient: Address | null
}

export type MapPatientIdReturnType = {
  patientId: string
  patient: Address | null
  /** Held studies of this Patient ID sealed for the patient now. */
  released: number
  removed: boolean
}

export async function mapPatientId(
  client: PcmimsClient,
  params: MapPatientIdParameters,
): Promise<MapPatientIdReturnType> {
  return client.node.json<MapPatientIdReturnType>('PUT', '/api/v1/unit/patient-ids', {
    body: { patientId: params.patientId, patient: params.patient },
    signal: params.signal,
  })
}

export async function lookupPatientId(
  client: PcmimsClient,
  params: SignalParameters & { patientId: string },
): Promise<Address | null> {
  const answer = await client.node.json<{ patient: Address | null }>(
    'POST',
    '/api/v1/unit/patient-ids/lookup',
    {
      body: { patientId: params.patientId },
      signal: params.signal,
    },
  )
  return answer.patient
}
