import { type DcmjsDataset, dcmjs } from '../dcmjs.js'
import { DicomWriteError } from '../errors.js'
import { Tags } from '../tags.js'
import { TransferSyntax } from '../transfer-syntax.js'

/** PCMIMS's Implementation Class UID (PS3.7 D.3.3.2), a UUID-derived UID (PS3.5 B.2). */
export const PCMIMS_IMPLEMENTATION_CLASS_UID = '2.25.221634527407665155669478275753372432222'
export const PCMIMS_IMPLEMENTATION_VERSION_NAME = 'PCMIMS_0_1'

export type WriteDicomFileParameters = {
  /** Tag-keyed dataset (as `parseDicomFile` returns); encapsulated pixel data as one buffer per frame. */
  dataset: DcmjsDataset
  /**
   * Explicit VR Little Endian (default), Implicit VR Little Endian, or the encapsulated syntax the pixel
   * data is already compressed in. Deflated and big endian are not written.
   */
  transferSyntaxUid?: string | undefined
  /** Extra file meta elements (group 0002), e.g. Source Application Entity Title. */
  meta?: DcmjsDataset | undefined
}

/**
 * Writes a Part 10 file with dcmjs: zero preamble, `DICM`, a file meta group built from the dataset's SOP
 * Class / Instance UIDs and PCMIMS's implementation UID, then the dataset.
 */
export function writeDicomFile(parameters: WriteDicomFileParameters): Uint8Array {
  const { dataset } = parameters
  const transferSyntaxUid = parameters.transferSyntaxUid ?? TransferSyntax.ExplicitVRLittleEndian
  if (
    transferSyntaxUid === TransferSyntax.DeflatedExplicitVRLittleEndian ||
    transferSyntaxUid === TransferSyntax.ExplicitVRBigEndian
  ) {
    throw new DicomWriteError('deflated and big endian transfer syntaxes are not written', {
      details: transferSyntaxUid,
    })
  }
  const sopClassUid = dataset[Tags.SOPClassUID]?.Value?.[0]
  const sopInstanceUid = dataset[Tags.SOPInstanceUID]?.Value?.[0]
  if (typeof sopClassUid !== 'string' || typeof sopInstanceUid !== 'string') {
    throw new DicomWriteError('the dataset has no SOP Class UID or SOP Instance UID')
  }
  const meta: DcmjsDataset = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    [Tags.MediaStorageSOPClassUID]: { vr: 'UI', Value: [sopClassUid] },
    [Tags.MediaStorageSOPInstanceUID]: { vr: 'UI', Value: [sopInstanceUid] },
    [Tags.TransferSyntaxUID]: { vr: 'UI', Value: [transferSyntaxUid] },
    '00020012': { vr: 'UI', Value: [PCMIMS_IMPLEMENTATION_CLASS_UID] },
    '00020013': { vr: 'SH', Value: [PCMIMS_IMPLEMENTATION_VERSION_NAME] },
    ...parameters.meta,
  }
  meta[Tags.TransferSyntaxUID] = { vr: 'UI', Value: [transferSyntaxUid] }
  try {
    const dict = new dcmjs.data.DicomDict(meta)
    dict.dict = dataset
    return new Uint8Array(dict.write())
  } catch (error) {
    throw new DicomWriteError('the dataset could not be written', {
      details: error instanceof Error ? error.message : String(error),
      cause: error,
    })
  }
}
