// Pixel decoding and rendering for DICOM images, isomorphic (browser and Node).
//
// Libraries, and why:
// - dicom-parser (cornerstone) reads Part 10 bytes and tells where Pixel Data and its items sit;
//   dcmjs naturalized datasets (the project's dataset model) are accepted as they are.
// - @cornerstonejs/codec-openjpeg, -libjpeg-turbo-8bit, -charls: WASM builds of OpenJPEG,
//   libjpeg-turbo and CharLS used by OHIF/Cornerstone3D; they run in browsers and Node.
// - jpeg-lossless-decoder-js: JPEG lossless process 14, all predictors, 8/16-bit.
// - fast-png and jpeg-js: pure-JS PNG and JPEG encoders; fflate inflates Deflated Explicit VR LE.
// - Written here, for want of a maintained standalone package: RLE Lossless (decoders/rle.ts) and
//   12-bit JPEG extended (decoders/jpeg-dct.ts); see the comments at the top of those files.
export { type DecodeFrameParameters, type DecodeFrameReturnType, decodeFrame } from './decode-frame.js'
export { type CodecName, type ConfigureCodecsParameters, configureCodecs } from './decoders/codecs.js'
export { decodeJpegDct, type JpegDctImage } from './decoders/jpeg-dct.js'
export { decodePackBits } from './decoders/rle.js'
export { type EncapsulatedItems, type PixelDataFragment, readEncapsulatedItems } from './encapsulated.js'
export { encodeJpeg, encodePng } from './encode.js'
export { DicomDecodeError, type DicomDecodeErrorCode, type DicomDecodeErrorParameters } from './errors.js'
export {
  type ExtractFramesParameters,
  type ExtractFramesReturnType,
  extractFrames,
} from './extract-frames.js'
export { decodedFrameBytes } from './frame-bytes.js'
export type { ImageInfo, NaturalizedImageDataset, PaletteColorLut, VoiWindow } from './image-info.js'
export type { DecodedFrame, PixelArray } from './pixels.js'
export { type RenderDicomParameters, renderDicom } from './render-dicom.js'
export {
  type RenderFrameOptions,
  type RenderFrameReturnType,
  renderFrame,
  voiFunction,
} from './render-frame.js'
export type { RenderedImage } from './rendered-image.js'
export { fitInside, resizeImage, thumbnail } from './resize.js'
export {
  isLosslessTransferSyntax,
  type PixelEncoding,
  pixelEncodingOf,
  supportedTransferSyntaxes,
} from './transfer-syntax.js'
