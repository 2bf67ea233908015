/// <reference path="./codec-modules.d.ts" />
import { Decoder } from 'jpeg-lossless-decoder-js'
import { DicomDecodeError } from '../errors.js'
import type { ImageInfo } from '../image-info.js'

/** Decodes a JPEG lossless (process 14, any predictor) frame with jpeg-lossless-decoder-js. */
export function decodeJpegLossless(
  frame: Uint8Array,
  info: ImageInfo,
): { samples: Uint8Array | Uint16Array; componentCount: number } {
  const decoder = new Decoder()
  let samples: Uint8Array | Uint16Array
  try {
    samples = decoder.decode(
      frame.buffer as ArrayBuffer,
      frame.byteOffset,
      frame.byteLength,
      info.bitsAllocated <= 8 ? 1 : 2,
    )
  } catch (cause) {
    throw new DicomDecodeError('Cannot decode the JPEG lossless frame', {
      code: 'DICOM_DECODE_FAILED',
      details: cause instanceof Error ? cause.message : 'jpeg-lossless-decoder-js rejected the frame',
      cause,
      transferSyntaxUid: info.transferSyntaxUid,
    })
  }
  if (decoder.xDim !== info.columns || decoder.yDim !== info.rows) {
    throw new DicomDecodeError('Decoded frame has the wrong size', {
      code: 'DICOM_DECODE_FAILED',
      details: `jpeg-lossless-decoder-js gave ${decoder.xDim}x${decoder.yDim}, the dataset says ${info.columns}x${info.rows}`,
      transferSyntaxUid: info.transferSyntaxUid,
    })
  }
  const componentCount = decoder.numComp
  return { samples: samples.subarray(0, info.rows * info.columns * componentCount), componentCount }
}
