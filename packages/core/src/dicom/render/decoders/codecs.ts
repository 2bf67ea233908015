/// <reference path="./codec-modules.d.ts" />
// The WASM codecs from cornerstone (Chris Hafey's builds of OpenJPEG, libjpeg-turbo and CharLS, used by
// OHIF/Cornerstone3D) run in browsers and Node alike. Node finds each .wasm beside its loader; a browser
// bundle may need to say where it serves them: see configureCodecs.
import { DicomDecodeError } from '../errors.js'

export type CodecName = 'openjpeg' | 'libjpeg-turbo' | 'charls'

export type ConfigureCodecsParameters = {
  /** Where to fetch a codec's .wasm file, when the bundler does not place it beside the loader. */
  locateWasm?: ((codec: CodecName, fileName: string) => string) | undefined
  /** The .wasm bytes themselves, e.g. for environments without fetch. */
  wasmBinaries?: Partial<Record<CodecName, ArrayBuffer | Uint8Array>> | undefined
}

let configuration: ConfigureCodecsParameters = {}
const modules = new Map<CodecName, Promise<unknown>>()

/** Sets how the WASM codecs are found; takes effect for codecs not loaded yet. */
export function configureCodecs(params: ConfigureCodecsParameters): void {
  configuration = { ...params }
}

type CodecFactory<T> = (args?: CornerstoneModuleArgs) => Promise<T>

function moduleArgs(codec: CodecName): CornerstoneModuleArgs {
  // OpenJPEG logs every header it reads; keep codec chatter out of server logs.
  const args: CornerstoneModuleArgs = { print: () => {}, printErr: () => {} }
  const binary = configuration.wasmBinaries?.[codec]
  if (binary) args.wasmBinary = binary
  const locate = configuration.locateWasm
  if (locate)
    args.locateFile = (path, scriptDirectory) =>
      path.endsWith('.wasm') ? locate(codec, path) : scriptDirectory + path
  return args
}

async function load<T>(codec: CodecName, importer: () => Promise<{ default: CodecFactory<T> }>): Promise<T> {
  let pending = modules.get(codec) as Promise<T> | undefined
  if (!pending) {
    pending = importer().then((m) => m.default(moduleArgs(codec)))
    modules.set(codec, pending)
    // A failed load (e.g. wasm not found) must not poison later attempts.
    pending.catch(() => modules.delete(codec))
  }
  try {
    return await pending
  } catch (cause) {
    throw new DicomDecodeError('Cannot load a pixel codec', {
      code: 'DICOM_DECODE_FAILED',
      details: `${codec} WebAssembly module failed to load`,
      cause,
    })
  }
}

/** What a codec reports about the frame it decoded. */
export type CodecFrameInfo = {
  width: number
  height: number
  bitsPerSample: number
  componentCount: number
  isSigned: boolean
}

export type CodecResult = {
  frameInfo: CodecFrameInfo
  bytes: Uint8Array
  interleaveMode?: number | undefined
}

function run(decoder: CornerstoneDecoder, frame: Uint8Array, codec: CodecName): CodecResult {
  try {
    decoder.getEncodedBuffer(frame.length).set(frame)
    decoder.decode()
    const frameInfo = decoder.getFrameInfo()
    // The decoded buffer is a view into WASM memory that the next decode overwrites: copy it out.
    const bytes = decoder.getDecodedBuffer().slice()
    return { frameInfo: { ...frameInfo }, bytes, interleaveMode: decoder.getInterleaveMode?.() }
  } catch (cause) {
    throw new DicomDecodeError('Cannot decode the frame', {
      code: 'DICOM_DECODE_FAILED',
      details: `${codec} rejected the compressed frame`,
      cause,
    })
  } finally {
    decoder.delete()
  }
}

/** Decodes a JPEG 2000 codestream (or JP2 file) with OpenJPEG. */
export async function decodeWithOpenJpeg(frame: Uint8Array): Promise<CodecResult> {
  const m = await load('openjpeg', () => import('@cornerstonejs/codec-openjpeg/decodewasmjs'))
  return run(new m.J2KDecoder(), frame, 'openjpeg')
}

/** Decodes an 8-bit JPEG (baseline or extended) with libjpeg-turbo; colour streams come back as RGB. */
export async function decodeWithLibjpegTurbo(frame: Uint8Array): Promise<CodecResult> {
  const m = await load('libjpeg-turbo', () => import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs'))
  return run(new m.JPEGDecoder(), frame, 'libjpeg-turbo')
}

/** Decodes a JPEG-LS stream with CharLS. */
export async function decodeWithCharls(frame: Uint8Array): Promise<CodecResult> {
  const m = await load('charls', () => import('@cornerstonejs/codec-charls/decodewasmjs'))
  return run(new m.JpegLSDecoder(), frame, 'charls')
}
