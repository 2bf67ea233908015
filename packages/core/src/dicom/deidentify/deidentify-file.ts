import { type DcmjsDataset, type DcmjsElement, dcmjs } from '../dcmjs.js'
import { parseDicomFile } from '../parse/parse-dicom-file.js'
import { type AssessHoldParameters, assessHold, type HoldReason } from './burned-in-annotation.js'
import { deidentifyDatasetWith } from './deidentify-dataset.js'
import { DeidentifyError } from './errors.js'
import { locatePixelData } from './pixel-data-element.js'
import { createUidRemapper, type UidRemapper } from './uid-remapper.js'

/**
 * File meta of every de-identified copy (PS3.15 E.1.1 item 7: the meta information and preamble are replaced
 * with a description of the de-identifying application). A 2.25 UID made once for this implementation.
 */
export const DEIDENTIFY_IMPLEMENTATION_CLASS_UID = '2.25.68878669581084771669362684279685648138'
export const DEIDENTIFY_IMPLEMENTATION_VERSION_NAME = 'PCMIMS_DEID_1'

const EXPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2.1'
const DEFLATED_EXPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99'
const PIXEL_DATA = '7FE00010'

export type DeidentifyFileParameters = AssessHoldParameters & {
  /** Per-set secret for UID remapping (at least 16 bytes). */
  secret: Uint8Array
  /** Receives original → new UID mappings. Links the copy to its source: keep it private to the node. */
  uidMap?: Map<string, string> | undefined
  /** Shared remapper for the files of one set (what `deidentifyStudy` passes); overrides `secret`/`uidMap`. */
  remapper?: UidRemapper | undefined
}

export type DeidentifiedFile = {
  status: 'deidentified'
  /** The de-identified Part 10 file: zeroed preamble, new file meta, same transfer syntax (deflated → explicit). */
  bytes: Uint8Array
  studyInstanceUid: string
  seriesInstanceUid: string
  sopInstanceUid: string
  sopClassUid: string
  transferSyntaxUid: string
  /**
   * `verbatim`: the Pixel Data element is byte for byte the original; `re-encoded`: dcmjs wrote it (frames
   * identical, fragmentation and offset table may differ); `none`: no top-level pixel data.
   */
  pixelData: 'verbatim' | 're-encoded' | 'none'
}

export type HeldFile = {
  status: 'held'
  reason: Exclude<HoldReason, 'unreadable'>
}

export type DeidentifyFileReturnType = DeidentifiedFile | HeldFile

/**
 * De-identifies one Part 10 file ({@link deidentifyDataset} on its dataset), or reports that it is held back for
 * burned-in annotation or recognizable features. Throws {@link DeidentifyError} when the file cannot be read or
 * lacks the SOP Class / SOP Instance UID a Part 10 file needs.
 */
export function deidentifyFile(
  bytes: Uint8Array,
  params: DeidentifyFileParameters,
): DeidentifyFileReturnType {
  const remapper = params.remapper ?? createUidRemapper({ secret: params.secret, uidMap: params.uidMap })
  let parsed: { meta: DcmjsDataset; dict: DcmjsDataset }
  try {
    parsed = dcmjs.data.DicomMessage.readFile(exactArrayBuffer(bytes))
  } catch (cause) {
    // dcmjs alone trips over some encapsulated pixel data (XA_angio_jpegll.dcm: "Invalid tag in sequence"); the
    // hardened reader checks every length, cuts the pixel data out before dcmjs reads the rest and attaches the
    // frames itself.
    try {
      const read = parseDicomFile(bytes)
      parsed = { meta: read.meta, dict: read.dataset }
    } catch {
      throw new DeidentifyError('not a readable DICOM file', { cause, details: messageOf(cause) })
    }
  }

  const hold = assessHold(parsed.dict, params)
  if (hold) return { status: 'held', reason: hold as HeldFile['reason'] }

  const sopClassUid = firstString(parsed.dict['00080016'])
  if (!sopClassUid || !firstString(parsed.dict['00080018'])) {
    throw new DeidentifyError('the dataset has no SOP Class UID or SOP Instance UID')
  }

  const dataset = deidentifyDatasetWith(parsed.dict, remapper)
  const sopInstanceUid = firstString(dataset['00080018']) ?? ''
  const studyInstanceUid = firstString(dataset['0020000D']) ?? ''
  const seriesInstanceUid = firstString(dataset['0020000E']) ?? ''

  const sourceSyntax = firstString(parsed.meta['00020010'])
  // dcmjs reads the deflated syntax but writes datasets uncompressed: say so in the meta.
  const transferSyntaxUid =
    !sourceSyntax || sourceSyntax === DEFLATED_EXPLICIT_LITTLE_ENDIAN ? EXPLICIT_LITTLE_ENDIAN : sourceSyntax
  const meta: DcmjsDataset = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: [sopClassUid] },
    '00020003': { vr: 'UI', Value: [sopInstanceUid] },
    '00020010': { vr: 'UI', Value: [transferSyntaxUid] },
    '00020012': { vr: 'UI', Value: [DEIDENTIFY_IMPLEMENTATION_CLASS_UID] },
    '00020013': { vr: 'SH', Value: [DEIDENTIFY_IMPLEMENTATION_VERSION_NAME] },
  }

  // Carry the original Pixel Data element verbatim when it can be located with certainty and is the last
  // element written (dcmjs writes in tag order; nothing that sorts after it is left once private groups are gone).
  let pixelData: DeidentifiedFile['pixelData'] = dataset[PIXEL_DATA] ? 're-encoded' : 'none'
  let rawPixelData: Uint8Array | undefined
  if (dataset[PIXEL_DATA] && transferSyntaxUid === sourceSyntax) {
    const located = locatePixelData(bytes)
    const lastTag = Object.keys(dataset).sort().at(-1)
    if (located?.pixelData && located.transferSyntaxUid === sourceSyntax && lastTag === PIXEL_DATA) {
      rawPixelData = bytes.subarray(located.pixelData.start, located.pixelData.end)
      delete dataset[PIXEL_DATA]
      pixelData = 'verbatim'
    }
  }

  let written: Uint8Array
  try {
    const dict = new dcmjs.data.DicomDict(meta)
    dict.dict = dataset
    written = new Uint8Array(dict.write({ allowInvalidVRLength: true }))
  } catch (cause) {
    throw new DeidentifyError('the de-identified dataset could not be written', {
      cause,
      details: messageOf(cause),
    })
  }
  let output = written
  if (rawPixelData) {
    output = new Uint8Array(written.length + rawPixelData.length)
    output.set(written)
    output.set(rawPixelData, written.length)
  }
  return {
    status: 'deidentified',
    bytes: output,
    studyInstanceUid,
    seriesInstanceUid,
    sopInstanceUid,
    sopClassUid,
    transferSyntaxUid,
    pixelData,
  }
}

function exactArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer
}

function firstString(element: DcmjsElement | undefined): string | undefined {
  const value = Array.isArray(element?.Value) ? element.Value[0] : undefined
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** dcmjs error messages describe structure, never values; keep them short all the same. */
function messageOf(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause)
  return message.slice(0, 200)
}
