import {
  type CodecResult,
  decodeWithCharls,
  decodeWithLibjpegTurbo,
  decodeWithOpenJpeg,
} from './decoders/codecs.js'
import { decodeJpegDct, readJpegFrameHeader } from './decoders/jpeg-dct.js'
import { decodeJpegLossless } from './decoders/jpeg-lossless.js'
import { decodeNativeFrame, interleavePlanes } from './decoders/native.js'
import { decodeRleFrame } from './decoders/rle.js'
import { DicomDecodeError } from './errors.js'
import type { ImageInfo } from './image-info.js'
import { type DecodedFrame, normalizeSamples } from './pixels.js'
import { pixelEncodingOf, TransferSyntax } from './transfer-syntax.js'

export type DecodeFrameParameters = {
  signal?: AbortSignal | undefined
}

export type DecodeFrameReturnType = DecodedFrame

function checkSize(width: number, height: number, info: ImageInfo, codec: string): void {
  if (width !== info.columns || height !== info.rows) {
    throw new DicomDecodeError('Decoded frame has the wrong size', {
      code: 'DICOM_DECODE_FAILED',
      details: `${codec} gave ${width}x${height}, the dataset says ${info.columns}x${info.rows}`,
      transferSyntaxUid: info.transferSyntaxUid,
    })
  }
}

function fromCodec(
  result: CodecResult,
  info: ImageInfo,
  codec: string,
  photometricInterpretation: string,
): DecodedFrame {
  const { frameInfo, bytes } = result
  checkSize(frameInfo.width, frameInfo.height, info, codec)
  const raw =
    frameInfo.bitsPerSample <= 8
      ? bytes
      : new Uint16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 2))
  const count = frameInfo.componentCount
  const pixelCount = info.rows * info.columns
  if (raw.length < pixelCount * count) {
    throw new DicomDecodeError('Decoded frame is too short', {
      code: 'DICOM_DECODE_FAILED',
      details: `${codec} gave ${raw.length} samples for ${pixelCount}x${count}`,
      transferSyntaxUid: info.transferSyntaxUid,
    })
  }
  let samples: ArrayLike<number> = raw.subarray(0, pixelCount * count)
  if (count > 1 && result.interleaveMode === 0) {
    samples = interleavePlanes(
      raw.subarray(0, pixelCount * count),
      pixelCount,
      count,
      (n) => new Uint16Array(n),
    )
  }
  return {
    pixels: normalizeSamples(samples, info),
    rows: info.rows,
    columns: info.columns,
    samplesPerPixel: count,
    photometricInterpretation,
  }
}

async function decodeJpegFamily(frame: Uint8Array, info: ImageInfo): Promise<DecodedFrame> {
  const header = readJpegFrameHeader(frame)
  if (!header) {
    throw new DicomDecodeError('Cannot decode the JPEG frame', {
      code: 'DICOM_DECODE_FAILED',
      details: 'no SOF marker found',
      transferSyntaxUid: info.transferSyntaxUid,
    })
  }
  if (header.precision <= 8 && (header.marker === 0xc0 || header.marker === 0xc1 || header.marker === 0xc2)) {
    const result = await decodeWithLibjpegTurbo(frame)
    // libjpeg-turbo converts YCbCr streams to RGB.
    const photometric = result.frameInfo.componentCount === 3 ? 'RGB' : info.photometricInterpretation
    return fromCodec(result, info, 'libjpeg-turbo', photometric)
  }
  const image = decodeJpegDct(frame)
  checkSize(image.width, image.height, info, 'JPEG DCT decoder')
  const photometric =
    image.componentCount === 3 && info.photometricInterpretation.startsWith('YBR_FULL')
      ? 'YBR_FULL'
      : info.photometricInterpretation
  return {
    pixels: normalizeSamples(image.samples, info),
    rows: info.rows,
    columns: info.columns,
    samplesPerPixel: image.componentCount,
    photometricInterpretation: photometric,
  }
}

/**
 * Decodes one frame (from {@link extractFrames}) into sample values, interleaved by pixel, masked
 * to BitsStored and sign-extended for PixelRepresentation 1.
 *
 * Codecs: native and RLE here; JPEG baseline 8-bit with libjpeg-turbo; JPEG 12-bit extended with
 * this module's DCT decoder; JPEG lossless with jpeg-lossless-decoder-js; JPEG-LS with CharLS;
 * JPEG 2000 with OpenJPEG.
 *
 * @throws DicomDecodeError `DICOM_UNSUPPORTED_TRANSFER_SYNTAX` for other syntaxes (deflate is undone
 * when the file is read), `DICOM_DECODE_FAILED` when a codec rejects the frame.
 */
export async function decodeFrame(
  frame: Uint8Array,
  imageInfo: ImageInfo,
  params: DecodeFrameParameters = {},
): Promise<DecodeFrameReturnType> {
  params.signal?.throwIfAborted()
  const encoding = pixelEncodingOf(imageInfo.transferSyntaxUid)
  const info = imageInfo
  let decoded: DecodedFrame
  switch (encoding) {
    case 'native':
      decoded = decodeNativeFrame(frame, info, info.transferSyntaxUid !== TransferSyntax.ExplicitVRBigEndian)
      break
    case 'rle':
      decoded = decodeRleFrame(frame, info)
      break
    case 'jpeg-baseline':
    case 'jpeg-extended':
      decoded = await decodeJpegFamily(frame, info)
      break
    case 'jpeg-lossless': {
      const image = decodeJpegLossless(frame, info)
      decoded = {
        pixels: normalizeSamples(image.samples, info),
        rows: info.rows,
        columns: info.columns,
        samplesPerPixel: image.componentCount,
        photometricInterpretation: info.photometricInterpretation,
      }
      break
    }
    case 'jpeg-ls':
      decoded = fromCodec(await decodeWithCharls(frame), info, 'CharLS', info.photometricInterpretation)
      break
    case 'jpeg-2000': {
      const result = await decodeWithOpenJpeg(frame)
      // OpenJPEG undoes the irreversible/reversible component transform itself.
      const mct = info.photometricInterpretation === 'YBR_ICT' || info.photometricInterpretation === 'YBR_RCT'
      decoded = fromCodec(result, info, 'OpenJPEG', mct ? 'RGB' : info.photometricInterpretation)
      break
    }
    default:
      throw new DicomDecodeError('Unsupported transfer syntax', {
        code: 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX',
        details: `no pixel decoder for ${info.transferSyntaxUid}`,
        transferSyntaxUid: info.transferSyntaxUid,
      })
  }
  params.signal?.throwIfAborted()
  return decoded
}
