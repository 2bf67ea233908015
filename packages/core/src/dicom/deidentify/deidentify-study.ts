import type { AssessHoldParameters, HoldReason } from './burned-in-annotation.js'
import { type DeidentifiedFile, deidentifyFile } from './deidentify-file.js'
import { DeidentifyError } from './errors.js'
import { createUidRemapper } from './uid-remapper.js'

export type DeidentifyStudyParameters = AssessHoldParameters & {
  /**
   * Per-set secret for UID remapping, at least 16 bytes: a fresh random one per de-identified copy makes copies
   * for different requestors unlinkable; reusing one gives the same UIDs again (e.g. to extend a copy).
   */
  secret: Uint8Array
  /** Receives original → new UID mappings. Links the copy to its source: keep it private to the node. */
  uidMap?: Map<string, string> | undefined
  signal?: AbortSignal | undefined
  onProgress?: ((progress: { done: number; total: number }) => void) | undefined
}

export type DeidentifiedInstance = Omit<DeidentifiedFile, 'status'> & {
  /** Position of the source file in the input. */
  index: number
}

export type DeidentifyStudyReturnType = {
  /** The de-identified files, in input order, without the held ones. */
  files: DeidentifiedInstance[]
  /** Files left out, with why; `details` only for `unreadable` (the reader's message, never attribute values). */
  held: Array<{ index: number; reason: HoldReason; details?: string }>
  /**
   * What the remapping did, without the mapping itself: `remapped` counts the mappings this call added (UIDs
   * already in a `uidMap` passed in are not counted again); `studyInstanceUids` are the new Study Instance UIDs.
   */
  uids: { remapped: number; studyInstanceUids: string[] }
}

/**
 * De-identifies a set of Part 10 files (a study, or several studies of one patient) for a third-party requestor
 * with the PS3.15 Basic Application Level Confidentiality Profile ({@link deidentifyDataset}): one UID remapping
 * for the whole set, so a UID that appears in several files (Study, Series, Frame of Reference, referenced SOP
 * Instance UIDs inside sequences) gets the same new value everywhere and the copy is internally consistent.
 *
 * Images with Burned In Annotation = YES, or of a SOP class that usually carries burned-in text without a
 * Burned In Annotation value, are held back unless `includeBurnedIn`; images with Recognizable Visual Features =
 * YES unless `includeRecognizableVisualFeatures`. Unreadable files are held back too (`unreadable`), never
 * passed through.
 */
export async function deidentifyStudy(
  files: readonly Uint8Array[],
  params: DeidentifyStudyParameters,
): Promise<DeidentifyStudyReturnType> {
  const { signal, onProgress } = params
  signal?.throwIfAborted()
  const remapper = createUidRemapper({ secret: params.secret, uidMap: params.uidMap })
  const before = remapper.map.size
  const out: DeidentifiedInstance[] = []
  const held: DeidentifyStudyReturnType['held'] = []
  const studies = new Set<string>()
  let lastYield = now()

  for (const [index, bytes] of files.entries()) {
    signal?.throwIfAborted()
    try {
      const result = deidentifyFile(bytes, {
        secret: params.secret,
        remapper,
        includeBurnedIn: params.includeBurnedIn,
        includeRecognizableVisualFeatures: params.includeRecognizableVisualFeatures,
      })
      if (result.status === 'held') {
        held.push({ index, reason: result.reason })
      } else {
        const { status: _status, ...instance } = result
        out.push({ index, ...instance })
        if (instance.studyInstanceUid) studies.add(instance.studyInstanceUid)
      }
    } catch (error) {
      if (!(error instanceof DeidentifyError)) throw error
      held.push({ index, reason: 'unreadable', details: error.details ?? error.shortMessage })
    }
    onProgress?.({ done: index + 1, total: files.length })
    // Hand the event loop a turn now and then, so an abort (or anything else) can get through.
    if (now() - lastYield > 25) {
      await new Promise((resolve) => setTimeout(resolve, 0))
      lastYield = now()
    }
  }
  signal?.throwIfAborted()
  return {
    files: out,
    held,
    uids: { remapped: remapper.map.size - before, studyInstanceUids: [...studies] },
  }
}

function now(): number {
  return globalThis.performance?.now() ?? Date.now()
}
