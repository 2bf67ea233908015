import { TransferSyntax } from '../transfer-syntax.js'

// The one table of transfer syntax UIDs is the reader's; rendering maps them to pixel encodings.
export { TransferSyntax }

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
  [TransferSyntax.JpegLosslessSv1]: 'jpeg-lossless',
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
