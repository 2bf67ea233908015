import { dcmjs } from './dcmjs.js'

/** `(GGGG,EEEE)` for a 32-bit tag. */
export function formatTag(tag: number): string {
  const hex = (tag >>> 0).toString(16).toUpperCase().padStart(8, '0')
  return `(${hex.slice(0, 4)},${hex.slice(4)})`
}

/** `(GGGG,EEEE) Keyword` when the dictionary knows the tag, for messages. */
export function describeTag(tag: number): string {
  const formatted = formatTag(tag)
  const name = dcmjs.data.DicomMetaDictionary.dictionary[formatted]?.name
  return name ? `${formatted} ${name}` : formatted
}

/** The dataset key (`7FE00010`) of a 32-bit tag. */
export function tagKey(tag: number): string {
  return (tag >>> 0).toString(16).toUpperCase().padStart(8, '0')
}

/** Dataset keys of the attributes this module reads. */
export const Tags = {
  TransferSyntaxUID: '00020010',
  MediaStorageSOPClassUID: '00020002',
  MediaStorageSOPInstanceUID: '00020003',
  SpecificCharacterSet: '00080005',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyDate: '00080020',
  StudyTime: '00080030',
  AccessionNumber: '00080050',
  Modality: '00080060',
  ReferringPhysicianName: '00080090',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  PatientName: '00100010',
  PatientID: '00100020',
  PatientBirthDate: '00100030',
  PatientSex: '00100040',
  BodyPartExamined: '00180015',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  StudyID: '00200010',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  ImagePositionPatient: '00200032',
  SamplesPerPixel: '00280002',
  PhotometricInterpretation: '00280004',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  BitsAllocated: '00280100',
  BitsStored: '00280101',
  PixelRepresentation: '00280103',
  BurnedInAnnotation: '00280301',
  WindowCenter: '00281050',
  WindowWidth: '00281051',
  RescaleIntercept: '00281052',
  RescaleSlope: '00281053',
  PixelData: '7FE00010',
} as const
