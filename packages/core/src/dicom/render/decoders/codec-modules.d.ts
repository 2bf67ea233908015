// Types for the untyped WASM codec builds (Emscripten + embind factories) and for
// jpeg-lossless-decoder-js, whose package names a declaration file it does not ship.

type CornerstoneFrameInfo = {
  width: number
  height: number
  bitsPerSample: number
  componentCount: number
  isSigned: boolean
}

type CornerstoneDecoder = {
  getEncodedBuffer(length: number): Uint8Array
  getDecodedBuffer(): Uint8Array
  decode(): void
  getFrameInfo(): CornerstoneFrameInfo
  /** CharLS only: 0 planar, 1 line, 2 sample interleaved. */
  getInterleaveMode?(): number
  delete(): void
}

type CornerstoneModuleArgs = {
  locateFile?: (path: string, scriptDirectory: string) => string
  wasmBinary?: ArrayBuffer | Uint8Array
  print?: (text: string) => void
  printErr?: (text: string) => void
}

declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: (args?: CornerstoneModuleArgs) => Promise<{ J2KDecoder: new () => CornerstoneDecoder }>
  export default factory
}

declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  const factory: (args?: CornerstoneModuleArgs) => Promise<{ JPEGDecoder: new () => CornerstoneDecoder }>
  export default factory
}

declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: (args?: CornerstoneModuleArgs) => Promise<{ JpegLSDecoder: new () => CornerstoneDecoder }>
  export default factory
}

declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    decode(buffer: ArrayBuffer, offset?: number, length?: number, numBytes?: number): Uint8Array | Uint16Array
    numComp: number
    xDim: number
    yDim: number
  }
}
