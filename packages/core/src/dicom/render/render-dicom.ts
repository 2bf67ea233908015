import { decodeFrame } from './decode-frame.js'
import { DicomDecodeError } from './errors.js'
import { extractFrames } from './extract-frames.js'
import type { NaturalizedImageDataset } from './image-info.js'
import { type RenderFrameOptions, type RenderFrameReturnType, renderFrame } from './render-frame.js'

export type RenderDicomParameters = RenderFrameOptions & {
  /** 1-based frame number; defaults to 1. */
  frame?: number | undefined
  /** Needed for a naturalized dataset; overrides the file's for Part 10 bytes. */
  transferSyntaxUid?: string | undefined
  signal?: AbortSignal | undefined
}

/**
 * Extracts, decodes and renders one frame of a DICOM image: the whole path for a rendered or
 * thumbnail response.
 */
export async function renderDicom(
  source: Uint8Array | ArrayBuffer | NaturalizedImageDataset,
  params: RenderDicomParameters = {},
): Promise<RenderFrameReturnType> {
  params.signal?.throwIfAborted()
  const { imageInfo, frames } = extractFrames(source, { transferSyntaxUid: params.transferSyntaxUid })
  const number = params.frame ?? 1
  const frame = frames[number - 1]
  if (!Number.isInteger(number) || !frame) {
    throw new DicomDecodeError('Frame out of range', {
      code: 'DICOM_FRAME_OUT_OF_RANGE',
      details: `frame ${number} of ${frames.length}`,
    })
  }
  const decoded = await decodeFrame(frame, imageInfo, { signal: params.signal })
  return renderFrame(decoded, imageInfo, params)
}
