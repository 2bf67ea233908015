/** Transfer syntax UIDs whose pixel data this module decodes (PS3.5 §10, Annex A). */
export const TransferSyntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JpegBaseline: '1.2.840.10008.1.2.4.50',
  JpegExtended: '1.2.840.10008.1.2.4.51',
  JpegLossless: '1.2.840.10008.1.2.4.57',
  JpegLosslessSV1: '1.2.840.10008.1.2.4.70',
  JpegLsLossless: '1.2.840.10008.1.2.4.80',
  JpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  Jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  Jpeg2000: '1.2.840.10008.1.2.4.91',
  RleLossless: '1.2.840.10008.1.2.5',
} as const

export type PixelEncoding =
  | 'native'
  | 'rle'
  | 'jpeg-baseline'
  | 'jpeg-extended'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg-2000'

const encodings: Record<string, PixelEncoding> = {
  [TransferSyntax.ImplicitVRLittleEndian]: 'native',
  [TransferSyntax.ExplicitVRLittleEndian]: 'native',
  [TransferSyntax.DeflatedExplicitVRLittleEndian]: 'native',
  [TransferSyntax.ExplicitVRBigEndian]: 'native',
  [TransferSyntax.RleLossless]: 'rle',
  [TransferSyntax.JpegBaseline]: 'jpeg-baseline',
  [TransferSyntax.JpegExtended]: 'jpeg-extended',
  [TransferSyntax.JpegLossless]: 'jpeg-lossless',
  [TransferSyntax.JpegLosslessSV1]: 'jpeg-lossless',
  [TransferSyntax.JpegLsLossless]: 'jpeg-ls',
  [TransferSyntax.JpegLsNearLossless]: 'jpeg-ls',
  [TransferSyntax.Jpeg2000Lossless]: 'jpeg-2000',
  [TransferSyntax.Jpeg2000]: 'jpeg-2000',
}

/** How the pixel data of `transferSyntaxUid` is encoded, or `undefined` when it is not decodable here. */
export function pixelEncodingOf(transferSyntaxUid: string): PixelEncoding | undefined {
  return encodings[transferSyntaxUid]
}

/** Whether frames of this syntax are lossless (decoded values must equal the original ones). */
export function isLosslessTransferSyntax(transferSyntaxUid: string): boolean {
  const encoding = pixelEncodingOf(transferSyntaxUid)
  return (
    encoding === 'native' ||
    encoding === 'rle' ||
    encoding === 'jpeg-lossless' ||
    transferSyntaxUid === TransferSyntax.JpegLsLossless ||
    transferSyntaxUid === TransferSyntax.Jpeg2000Lossless
  )
}

/** The transfer syntaxes whose frames {@link decodeFrame} decodes. */
export const supportedTransferSyntaxes: readonly string[] = Object.keys(encodings)
