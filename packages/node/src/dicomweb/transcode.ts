import {
  decodedFrameBytes,
  decodeFrame,
  extractFrames,
  isEncapsulatedTransferSyntax,
  isLosslessTransferSyntax,
  parseDicomFile,
  pixelEncodingOf,
  DicomTransferSyntax as TransferSyntax,
  writeDicomFile,
} from '@pcmims/core'

/** Whether {@link toExplicitLittleEndian} can rewrite an instance stored in `syntax`. */
export function canTranscode(syntax: string): boolean {
  return pixelEncodingOf(syntax) !== undefined
}

/**
 * The instance rewritten as Explicit VR Little Endian Part 10 (PS3.18 8.7.3.5.2, a transcoded answer):
 * compressed frames are decoded with core's decoders and stored native, colour by pixel, in the
 * colour space the decoder gives (JPEG YCbCr and JPEG 2000 YBR_ICT/RCT come out RGB). A lossy source
 * keeps Lossy Image Compression = 01 so no viewer takes the result for an original.
 */
export async function toExplicitLittleEndian(
  bytes: Uint8Array,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<Uint8Array> {
  const parsed = parseDicomFile(bytes)
  const dataset = parsed.dataset
  const stored = parsed.transferSyntaxUid
  if (isEncapsulatedTransferSyntax(stored) && parsed.pixelData) {
    const { imageInfo, frames } = extractFrames(bytes)
    const parts: Uint8Array[] = []
    let photometric = imageInfo.photometricInterpretation
    for (const frame of frames) {
      options.signal?.throwIfAborted()
      const decoded = await decodeFrame(frame, imageInfo, { signal: options.signal })
      photometric = decoded.photometricInterpretation
      parts.push(decodedFrameBytes(decoded, imageInfo.bitsAllocated))
    }
    const total = parts.reduce((n, p) => n + p.length, 0)
    // Native Pixel Data has an even length (PS3.5 7.1.1).
    const pixelData = new Uint8Array(total + (total % 2))
    let at = 0
    for (const part of parts) {
      pixelData.set(part, at)
      at += part.length
    }
    dataset['7FE00010'] = { vr: imageInfo.bitsAllocated > 8 ? 'OW' : 'OB', Value: [pixelData.buffer] }
    dataset['00280004'] = { vr: 'CS', Value: [photometric] }
    if (imageInfo.samplesPerPixel > 1) dataset['00280006'] = { vr: 'US', Value: [0] }
    // Offset tables belong to encapsulated data only.
    delete dataset['7FE00001']
    delete dataset['7FE00002']
    if (!isLosslessTransferSyntax(stored)) dataset['00282110'] = { vr: 'CS', Value: ['01'] }
  }
  return writeDicomFile({ dataset, transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian })
}
