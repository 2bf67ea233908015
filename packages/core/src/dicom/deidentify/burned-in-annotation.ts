import type { DcmjsDataset, DcmjsElement } from '../dcmjs.js'

/** Why a file was left out of a de-identified copy. */
export type HoldReason =
  /** Burned In Annotation (0028,0301) is YES: the pixels show identifying text. */
  | 'burned-in-annotation'
  /**
   * No Burned In Annotation value, and the SOP class is one whose pixels commonly carry burned-in text
   * (secondary capture, ultrasound, endoscopy, photography), so it cannot be assumed clean.
   */
  | 'burned-in-annotation-unknown'
  /** Recognizable Visual Features (0028,0302) is YES (a face, say). */
  | 'recognizable-visual-features'
  /** The file could not be read or written back; see `details`. */
  | 'unreadable'

/**
 * SOP classes whose images are often screen grabs, scanned documents or camera frames with the patient's
 * name burned in, when the creator did not say otherwise with Burned In Annotation = NO.
 */
export const LIKELY_BURNED_IN_SOP_CLASSES: ReadonlySet<string> = new Set([
  '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture Image
  '1.2.840.10008.5.1.4.1.1.7.1', // Multi-frame Single Bit Secondary Capture Image
  '1.2.840.10008.5.1.4.1.1.7.2', // Multi-frame Grayscale Byte Secondary Capture Image
  '1.2.840.10008.5.1.4.1.1.7.3', // Multi-frame Grayscale Word Secondary Capture Image
  '1.2.840.10008.5.1.4.1.1.7.4', // Multi-frame True Color Secondary Capture Image
  '1.2.840.10008.5.1.4.1.1.6', // Ultrasound Image (retired)
  '1.2.840.10008.5.1.4.1.1.6.1', // Ultrasound Image
  '1.2.840.10008.5.1.4.1.1.3', // Ultrasound Multi-frame Image (retired)
  '1.2.840.10008.5.1.4.1.1.3.1', // Ultrasound Multi-frame Image
  '1.2.840.10008.5.1.4.1.1.77.1.1', // VL Endoscopic Image
  '1.2.840.10008.5.1.4.1.1.77.1.1.1', // Video Endoscopic Image
  '1.2.840.10008.5.1.4.1.1.77.1.4', // VL Photographic Image
  '1.2.840.10008.5.1.4.1.1.77.1.4.1', // Video Photographic Image
])

const PIXEL_DATA_TAGS = ['7FE00010', '7FE00008', '7FE00009'] // Pixel Data, Float and Double Float Pixel Data

export type AssessHoldParameters = {
  /** The patient explicitly includes images with (possibly) burned-in annotation. */
  includeBurnedIn?: boolean | undefined
  /** The patient explicitly includes images with recognizable visual features. */
  includeRecognizableVisualFeatures?: boolean | undefined
}

/**
 * Whether a file must be held back from a de-identified copy: the Basic Profile removes attributes, not text
 * drawn into the pixels (PS3.15 E.1.1 2 Note 5), and this de-identifier does not implement the Clean Pixel Data
 * option. Files without pixel data are never held.
 */
export function assessHold(dataset: DcmjsDataset, params: AssessHoldParameters = {}): HoldReason | undefined {
  if (!PIXEL_DATA_TAGS.some((tag) => dataset[tag] !== undefined)) return undefined
  const burnedIn = codeString(dataset['00280301'])
  if (!params.includeBurnedIn) {
    if (burnedIn === 'YES') return 'burned-in-annotation'
    if (burnedIn !== 'NO') {
      const sopClass = firstString(dataset['00080016'])
      if (sopClass !== undefined && LIKELY_BURNED_IN_SOP_CLASSES.has(sopClass))
        return 'burned-in-annotation-unknown'
    }
  }
  if (!params.includeRecognizableVisualFeatures && codeString(dataset['00280302']) === 'YES') {
    return 'recognizable-visual-features'
  }
  return undefined
}

function firstString(element: DcmjsElement | undefined): string | undefined {
  const value = Array.isArray(element?.Value) ? element.Value[0] : undefined
  return typeof value === 'string' ? value.replace(/[\0 ]+$/, '').trim() : undefined
}

function codeString(element: DcmjsElement | undefined): string | undefined {
  const value = firstString(element)
  return value === undefined || value === '' ? undefined : value.toUpperCase()
}
