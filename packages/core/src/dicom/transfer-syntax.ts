/** Transfer Syntax UIDs the reader treats specially (PS3.5 Section 10, PS3.6 Annex A). */
export const TransferSyntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JpegBaseline: '1.2.840.10008.1.2.4.50',
  JpegExtended: '1.2.840.10008.1.2.4.51',
  JpegLossless: '1.2.840.10008.1.2.4.57',
  JpegLosslessSv1: '1.2.840.10008.1.2.4.70',
  JpegLsLossless: '1.2.840.10008.1.2.4.80',
  JpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  Jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  Jpeg2000: '1.2.840.10008.1.2.4.91',
  RleLossless: '1.2.840.10008.1.2.5',
} as const

/** How the bytes of a dataset are laid out: what a reader needs to walk it. */
export type DatasetEncoding = {
  explicitVr: boolean
  littleEndian: boolean
}

export const IMPLICIT_LE: DatasetEncoding = { explicitVr: false, littleEndian: true }
export const EXPLICIT_LE: DatasetEncoding = { explicitVr: true, littleEndian: true }
export const EXPLICIT_BE: DatasetEncoding = { explicitVr: true, littleEndian: false }

/** Standard transfer syntaxes whose pixel data is native (not encapsulated). */
const NATIVE = new Set<string>([
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
])

/** Every standard transfer syntax of PS3.6 Annex A (retired ones included), for "is this one known". */
const KNOWN = new Set<string>([
  ...NATIVE,
  '1.2.840.10008.1.2.1.98', // Encapsulated Uncompressed Explicit VR Little Endian
  '1.2.840.10008.1.2.4.50',
  '1.2.840.10008.1.2.4.51',
  '1.2.840.10008.1.2.4.52',
  '1.2.840.10008.1.2.4.53',
  '1.2.840.10008.1.2.4.54',
  '1.2.840.10008.1.2.4.55',
  '1.2.840.10008.1.2.4.56',
  '1.2.840.10008.1.2.4.57',
  '1.2.840.10008.1.2.4.58',
  '1.2.840.10008.1.2.4.59',
  '1.2.840.10008.1.2.4.60',
  '1.2.840.10008.1.2.4.61',
  '1.2.840.10008.1.2.4.62',
  '1.2.840.10008.1.2.4.63',
  '1.2.840.10008.1.2.4.64',
  '1.2.840.10008.1.2.4.65',
  '1.2.840.10008.1.2.4.66',
  '1.2.840.10008.1.2.4.70',
  '1.2.840.10008.1.2.4.80',
  '1.2.840.10008.1.2.4.81',
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.4.92',
  '1.2.840.10008.1.2.4.93',
  '1.2.840.10008.1.2.4.94',
  '1.2.840.10008.1.2.4.95',
  '1.2.840.10008.1.2.4.100',
  '1.2.840.10008.1.2.4.100.1',
  '1.2.840.10008.1.2.4.101',
  '1.2.840.10008.1.2.4.101.1',
  '1.2.840.10008.1.2.4.102',
  '1.2.840.10008.1.2.4.102.1',
  '1.2.840.10008.1.2.4.103',
  '1.2.840.10008.1.2.4.103.1',
  '1.2.840.10008.1.2.4.104',
  '1.2.840.10008.1.2.4.104.1',
  '1.2.840.10008.1.2.4.105',
  '1.2.840.10008.1.2.4.105.1',
  '1.2.840.10008.1.2.4.106',
  '1.2.840.10008.1.2.4.106.1',
  '1.2.840.10008.1.2.4.107',
  '1.2.840.10008.1.2.4.108',
  '1.2.840.10008.1.2.4.110',
  '1.2.840.10008.1.2.4.111',
  '1.2.840.10008.1.2.4.112',
  '1.2.840.10008.1.2.4.201',
  '1.2.840.10008.1.2.4.202',
  '1.2.840.10008.1.2.4.203',
  '1.2.840.10008.1.2.4.204',
  '1.2.840.10008.1.2.4.205',
  '1.2.840.10008.1.2.5',
  '1.2.840.10008.1.2.6.1',
  '1.2.840.10008.1.2.6.2',
])

export function isKnownTransferSyntax(uid: string): boolean {
  return KNOWN.has(uid)
}

/** True when pixel data in this transfer syntax is stored as fragments (PS3.5 A.4). */
export function isEncapsulatedTransferSyntax(uid: string): boolean {
  return !NATIVE.has(uid)
}

/** The byte layout of the dataset as stored (deflated data is described as it is once inflated). */
export function encodingOf(uid: string): DatasetEncoding {
  if (uid === TransferSyntax.ImplicitVRLittleEndian) return IMPLICIT_LE
  if (uid === TransferSyntax.ExplicitVRBigEndian) return EXPLICIT_BE
  return EXPLICIT_LE
}
