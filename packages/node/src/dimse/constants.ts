/** DICOM UIDs and codes the receiver negotiates and answers with (PS3.4, PS3.5, PS3.7, PS3.8). */
import { DicomTransferSyntax as TS } from '@pcmims/core'

export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1'
export const IMPLICIT_VR_LITTLE_ENDIAN = TS.ImplicitVRLittleEndian
export const EXPLICIT_VR_LITTLE_ENDIAN = TS.ExplicitVRLittleEndian

/**
 * Transfer syntaxes a storage context is accepted in by default: whatever the sender proposes first among
 * these is what the instance is kept in, byte for byte (no transcoding on the node).
 */
export const DEFAULT_STORAGE_TRANSFER_SYNTAXES: readonly string[] = [
  TS.ImplicitVRLittleEndian,
  TS.ExplicitVRLittleEndian,
  TS.DeflatedExplicitVRLittleEndian,
  TS.ExplicitVRBigEndian, // retired, still sent by old modalities
  TS.RleLossless,
  TS.JpegBaseline, // process 1
  TS.JpegExtended, // processes 2 & 4
  TS.JpegLossless, // process 14
  TS.JpegLosslessSv1, // process 14, first-order prediction
  TS.JpegLsLossless,
  TS.JpegLsNearLossless,
  TS.Jpeg2000Lossless,
  TS.Jpeg2000,
  '1.2.840.10008.1.2.4.201', // HTJ2K lossless
  '1.2.840.10008.1.2.4.202', // HTJ2K lossless RPCL
  '1.2.840.10008.1.2.4.203', // HTJ2K
]

/** Verification is answered in the uncompressed syntaxes only (it carries no data set). */
export const VERIFICATION_TRANSFER_SYNTAXES: readonly string[] = [
  IMPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
]

// Storage SOP classes outside the 1.2.840.10008.5.1.4.1.1 subtree (PS3.4 Annex B table B.5-1).
const OTHER_STORAGE_SOP_CLASSES = new Set([
  '1.2.840.10008.5.1.4.38.1', // Hanging Protocol Storage
  '1.2.840.10008.5.1.4.39.1', // Color Palette Storage
  '1.2.840.10008.5.1.4.43.1', // Generic Implant Template Storage
  '1.2.840.10008.5.1.4.44.1', // Implant Assembly Template Storage
  '1.2.840.10008.5.1.4.45.1', // Implant Template Group Storage
  '1.2.840.10008.5.1.4.34.10', // RT Beams Delivery Instruction Storage
])

/**
 * Whether a SOP class UID is a standard Storage SOP class: every class under 1.2.840.10008.5.1.4.1.1
 * (images, SR, SEG, RT, encapsulated documents, waveforms…) and the few storage classes outside it.
 * A rule rather than a list, so a class added to the standard after this code is still taken.
 */
export function isStorageSopClass(uid: string): boolean {
  return uid.startsWith('1.2.840.10008.5.1.4.1.1.') || OTHER_STORAGE_SOP_CLASSES.has(uid)
}

/** A UID as PS3.5 §9.1 allows: 1–64 characters, digits and dots, no empty or zero-led components. */
export function isValidUid(uid: unknown): uid is string {
  return (
    typeof uid === 'string' &&
    uid.length > 0 &&
    uid.length <= 64 &&
    /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(uid)
  )
}

/** C-STORE response statuses (PS3.4 B.2.3, PS3.7 C). */
export const StoreStatus = {
  Success: 0x0000,
  /** Refused: out of resources (disk, size limit). */
  OutOfResources: 0xa700,
  /** Error: data set does not match SOP class. */
  DataSetDoesNotMatchSopClass: 0xa900,
  /** Error: cannot understand. */
  CannotUnderstand: 0xc000,
  /** Refused: SOP class not supported (on this presentation context). */
  SopClassNotSupported: 0x0122,
  /** Refused: not authorized. */
  NotAuthorized: 0x0124,
  /** Failure: processing failure. */
  ProcessingFailure: 0x0110,
} as const

/** A-ASSOCIATE-RJ fields (PS3.8 9.3.4). */
export const AssociateReject = {
  permanent: 1,
  transient: 2,
  sourceServiceUser: 1,
  sourceServiceProviderAcse: 2,
  sourceServiceProviderPresentation: 3,
  /** Service user: no reason given. */
  noReasonGiven: 1,
  /** Service user: application context name not supported. */
  applicationContextNotSupported: 2,
  /** Service provider (ACSE): protocol version not supported. */
  protocolVersionNotSupported: 2,
  /** Service user: calling AE title not recognized. */
  callingAeNotRecognized: 3,
  /** Service user: called AE title not recognized. */
  calledAeNotRecognized: 7,
  /** Service provider (presentation): local limit exceeded. */
  localLimitExceeded: 2,
} as const

/** A-ABORT fields (PS3.8 9.3.8). */
export const Abort = {
  sourceServiceUser: 0,
  sourceServiceProvider: 2,
  reasonNotSpecified: 0,
  reasonUnrecognizedPdu: 1,
  reasonUnexpectedPdu: 2,
  reasonUnrecognizedPduParameter: 4,
  reasonUnexpectedPduParameter: 5,
  reasonInvalidPduParameter: 6,
} as const

/** PDU types (PS3.8 9.3). */
export const PduType = {
  associateRq: 0x01,
  associateAc: 0x02,
  associateRj: 0x03,
  pData: 0x04,
  releaseRq: 0x05,
  releaseRp: 0x06,
  abort: 0x07,
} as const

/** DIMSE command fields (PS3.7 E.1). */
export const CommandField = {
  cStoreRq: 0x0001,
  cEchoRq: 0x0030,
} as const

/** (0000,0800) Command Data Set Type value meaning "no data set". */
export const NO_DATA_SET = 0x0101
