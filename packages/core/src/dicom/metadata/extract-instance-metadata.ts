import type { DcmjsDataset } from '../dcmjs.js'
import { Tags } from '../tags.js'
import { readNumber, readNumbers, readString, readUid } from './values.js'

/**
 * What search and display need from one instance. Strings are as stored (DA `YYYYMMDD`, TM `HHMMSS.ffffff`,
 * PN `Family^Given^Middle^Prefix^Suffix`, `=`-separated groups), trimmed; absent or invalid values are undefined.
 */
export type InstanceMetadata = {
  patientName?: string | undefined
  patientId?: string | undefined
  patientBirthDate?: string | undefined
  patientSex?: string | undefined
  studyInstanceUid?: string | undefined
  studyDate?: string | undefined
  studyTime?: string | undefined
  accessionNumber?: string | undefined
  studyDescription?: string | undefined
  referringPhysicianName?: string | undefined
  modality?: string | undefined
  seriesInstanceUid?: string | undefined
  seriesNumber?: number | undefined
  seriesDescription?: string | undefined
  sopClassUid?: string | undefined
  sopInstanceUid?: string | undefined
  instanceNumber?: number | undefined
  rows?: number | undefined
  columns?: number | undefined
  numberOfFrames?: number | undefined
  bitsAllocated?: number | undefined
  bitsStored?: number | undefined
  photometricInterpretation?: string | undefined
  windowCenter?: number[] | undefined
  windowWidth?: number[] | undefined
  rescaleSlope?: number | undefined
  rescaleIntercept?: number | undefined
  /** `YES` / `NO` as stored; undefined when the attribute is absent (treat as unknown, not as `NO`). */
  burnedInAnnotation?: string | undefined
  transferSyntaxUid?: string | undefined
}

/** A dataset, or a parse result (whose meta supplies the transfer syntax and fallback SOP UIDs). */
export type ExtractInstanceMetadataSource =
  | DcmjsDataset
  | { dataset: DcmjsDataset; meta?: DcmjsDataset | undefined; transferSyntaxUid?: string | undefined }

/** Reads the attributes of {@link InstanceMetadata} from a dataset. */
export function extractInstanceMetadata(source: ExtractInstanceMetadataSource): InstanceMetadata {
  const parsed = isParsed(source) ? source : undefined
  const dataset = parsed ? parsed.dataset : (source as DcmjsDataset)
  const meta = parsed?.meta ?? {}
  const metadata: InstanceMetadata = {
    patientName: readString(dataset, Tags.PatientName),
    patientId: readString(dataset, Tags.PatientID),
    patientBirthDate: readString(dataset, Tags.PatientBirthDate),
    patientSex: readString(dataset, Tags.PatientSex),
    studyInstanceUid: readUid(dataset, Tags.StudyInstanceUID),
    studyDate: readString(dataset, Tags.StudyDate),
    studyTime: readString(dataset, Tags.StudyTime),
    accessionNumber: readString(dataset, Tags.AccessionNumber),
    studyDescription: readString(dataset, Tags.StudyDescription),
    referringPhysicianName: readString(dataset, Tags.ReferringPhysicianName),
    modality: readString(dataset, Tags.Modality),
    seriesInstanceUid: readUid(dataset, Tags.SeriesInstanceUID),
    seriesNumber: readNumber(dataset, Tags.SeriesNumber),
    seriesDescription: readString(dataset, Tags.SeriesDescription),
    sopClassUid: readUid(dataset, Tags.SOPClassUID) ?? readUid(meta, Tags.MediaStorageSOPClassUID),
    sopInstanceUid: readUid(dataset, Tags.SOPInstanceUID) ?? readUid(meta, Tags.MediaStorageSOPInstanceUID),
    instanceNumber: readNumber(dataset, Tags.InstanceNumber),
    rows: readNumber(dataset, Tags.Rows),
    columns: readNumber(dataset, Tags.Columns),
    numberOfFrames: readNumber(dataset, Tags.NumberOfFrames),
    bitsAllocated: readNumber(dataset, Tags.BitsAllocated),
    bitsStored: readNumber(dataset, Tags.BitsStored),
    photometricInterpretation: readString(dataset, Tags.PhotometricInterpretation),
    windowCenter: readNumbers(dataset, Tags.WindowCenter),
    windowWidth: readNumbers(dataset, Tags.WindowWidth),
    rescaleSlope: readNumber(dataset, Tags.RescaleSlope),
    rescaleIntercept: readNumber(dataset, Tags.RescaleIntercept),
    burnedInAnnotation: readString(dataset, Tags.BurnedInAnnotation)?.toUpperCase(),
    transferSyntaxUid: parsed?.transferSyntaxUid ?? readUid(meta, Tags.TransferSyntaxUID),
  }
  for (const key of Object.keys(metadata) as (keyof InstanceMetadata)[]) {
    if (metadata[key] === undefined) delete metadata[key]
  }
  return metadata
}

function isParsed(
  source: ExtractInstanceMetadataSource,
): source is { dataset: DcmjsDataset; meta?: DcmjsDataset; transferSyntaxUid?: string } {
  const candidate = (source as { dataset?: unknown }).dataset
  return typeof candidate === 'object' && candidate !== null && !('vr' in candidate)
}
