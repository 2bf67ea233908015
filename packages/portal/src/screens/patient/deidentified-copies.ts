import {
  createDeidentifiedCopy,
  listRecords,
  type PcmimsClient,
  PreconditionError,
  type RecordSummary,
} from '@pcmims/core'
import type { Address, Hex } from 'viem'
import { KIND_LABELS } from '../common/record-list.js'

export type CopyProgress = {
  index: number
  total: number
  kind: string
  stage: string
  done: number
  of: number
}
export type CopyOutcome = { made: number; held: number; skipped: string[] }

const STAGES = { read: 'reading', deidentify: 'de-identifying', store: 'encrypting and storing' } as const

/**
 * Like `pcmims respond --approve --deidentified`: in this browser, a de-identified copy for `audience` of
 * each of the patient's original studies that `covers` selects and that has none for them yet.
 */
export async function makeDeidentifiedCopies(
  client: PcmimsClient,
  params: {
    audience: Address
    covers: (record: RecordSummary) => boolean
    includeBurnedIn: boolean
    onProgress: (progress: CopyProgress) => void
  },
): Promise<CopyOutcome> {
  const own = await listRecords(client)
  const audience = params.audience.toLowerCase()
  const copied = new Set(
    own
      .filter((r) => r.deidentifiedFrom && r.audience?.toLowerCase() === audience)
      .map((r) => (r.deidentifiedFrom as Hex).toLowerCase()),
  )
  const inScope = own.filter(
    (r) => !r.deidentifiedFrom && !copied.has(r.id.toLowerCase()) && params.covers(r),
  )
  const outcome: CopyOutcome = { made: 0, held: 0, skipped: [] }
  for (const [i, record] of inScope.entries()) {
    const kind = KIND_LABELS[record.kind]
    const report = (stage: string, done: number, of: number) =>
      params.onProgress({ index: i + 1, total: inScope.length, kind, stage, done, of })
    report('starting', 0, 1)
    try {
      const made = await createDeidentifiedCopy(client, {
        recordId: record.id,
        audience: params.audience,
        includeBurnedIn: params.includeBurnedIn,
        onProgress: (p) => report(STAGES[p.stage], p.done, p.total),
      })
      outcome.made++
      outcome.held += made.held.length
    } catch (error) {
      // A report, or a study with an image the profile cannot process: said, never copied in part.
      if (!(error instanceof PreconditionError)) throw error
      outcome.skipped.push(
        `${kind} (${error.code === 'NOT_DEIDENTIFIABLE' ? 'a report cannot be de-identified automatically' : error.shortMessage})`,
      )
    }
  }
  return outcome
}

export function describeCopies(outcome: CopyOutcome): string {
  const parts = [`${outcome.made} de-identified ${outcome.made === 1 ? 'copy' : 'copies'} made.`]
  if (outcome.held > 0) parts.push(`${outcome.held} image(s) held back (may show burned-in text).`)
  if (outcome.skipped.length) parts.push(`Not copied: ${outcome.skipped.join('; ')}.`)
  return parts.join(' ')
}
