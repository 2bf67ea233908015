// Sequential DCT JPEG (ISO 10918-1 processes 1, 2 and 4: Huffman, 8- or 12-bit samples).
//
// Written here because no maintained npm package decodes 12-bit process 4 streams
// (1.2.840.10008.1.2.4.51) to their 12-bit values: @cornerstonejs/codec-libjpeg-turbo-8bit is an
// 8-bit build, jpeg-js and pdf.js clamp their output to 8 bits, jpeg-lossless-decoder-js parses DCT
// coefficients but has no IDCT, and cornerstone's 12-bit decoder is bundled inside
// @cornerstonejs/dicom-image-loader (which pulls in @cornerstonejs/core). 8-bit streams still go to
// libjpeg-turbo; this decoder is used for 12-bit precision only.
import { DicomDecodeError } from '../errors.js'

/** Decoded components, interleaved by pixel, at full resolution (subsampled ones replicated). */
export type JpegDctImage = {
  width: number
  height: number
  precision: number
  componentCount: number
  samples: Uint16Array
}

// Zig-zag index → natural (row-major) coefficient index (ISO 10918-1 Figure A.6).
const ZIGZAG = new Uint8Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
])

// COS[x * 8 + u] = C(u)/2 · cos((2x + 1)uπ/16), the 1-D IDCT basis.
const COS = new Float64Array(64)
for (let x = 0; x < 8; x++) {
  for (let u = 0; u < 8; u++)
    COS[x * 8 + u] = ((u === 0 ? Math.SQRT1_2 : 1) / 2) * Math.cos(((2 * x + 1) * u * Math.PI) / 16)
}

type HuffmanTable = { maxcode: Int32Array; valptr: Int32Array; mincode: Int32Array; values: Uint8Array }

type Component = {
  id: number
  h: number
  v: number
  tq: number
  blocksPerLine: number
  blocksPerColumn: number
  coefficients: Int32Array
  pred: number
  dc?: HuffmanTable | undefined
  ac?: HuffmanTable | undefined
}

function fail(details: string): DicomDecodeError {
  return new DicomDecodeError('Cannot decode the JPEG frame', { code: 'DICOM_DECODE_FAILED', details })
}

function buildHuffman(counts: Uint8Array, values: Uint8Array): HuffmanTable {
  const maxcode = new Int32Array(18).fill(-1)
  const valptr = new Int32Array(17)
  const mincode = new Int32Array(17)
  let code = 0
  let k = 0
  for (let length = 1; length <= 16; length++) {
    const n = counts[length - 1] ?? 0
    valptr[length] = k
    mincode[length] = code
    code += n
    k += n
    maxcode[length] = n > 0 ? code - 1 : -1
    code <<= 1
  }
  return { maxcode, valptr, mincode, values }
}

class BitReader {
  position: number
  private buffer = 0
  private count = 0
  private atMarker = false

  constructor(
    private readonly data: Uint8Array,
    start: number,
  ) {
    this.position = start
  }

  private fill(): void {
    this.count = 8
    this.buffer = 0
    if (this.atMarker) return
    for (;;) {
      if (this.position >= this.data.length) {
        this.atMarker = true
        return
      }
      const byte = this.data[this.position] ?? 0
      if (byte !== 0xff) {
        this.position++
        this.buffer = byte
        return
      }
      const next = this.data[this.position + 1]
      if (next === 0x00) {
        this.position += 2
        this.buffer = 0xff
        return
      }
      if (next === 0xff) {
        this.position++ // fill byte before a marker
        continue
      }
      // A marker ends the entropy-coded segment; the decoder sees zeros from here (F.2.2.5).
      this.atMarker = true
      return
    }
  }

  bit(): number {
    if (this.count === 0) this.fill()
    this.count--
    return (this.buffer >> this.count) & 1
  }

  receive(length: number): number {
    let value = 0
    for (let i = 0; i < length; i++) value = (value << 1) | this.bit()
    return value
  }

  decode(table: HuffmanTable): number {
    let code = 0
    for (let length = 1; length <= 16; length++) {
      code = (code << 1) | this.bit()
      if (code <= (table.maxcode[length] ?? -1)) {
        return table.values[(table.valptr[length] ?? 0) + code - (table.mincode[length] ?? 0)] ?? 0
      }
    }
    throw fail('invalid Huffman code')
  }

  /** Skips to the RSTn marker that ends a restart interval and starts afresh after it. */
  restart(): void {
    this.count = 0
    this.atMarker = false
    while (this.position + 1 < this.data.length) {
      if (this.data[this.position] === 0xff) {
        const marker = this.data[this.position + 1] ?? 0
        if (marker >= 0xd0 && marker <= 0xd7) {
          this.position += 2
          return
        }
        if (marker !== 0x00 && marker !== 0xff) return
      }
      this.position++
    }
  }
}

function extend(value: number, length: number): number {
  return value < 1 << (length - 1) ? value - (1 << length) + 1 : value
}

function idctBlock(input: Int32Array, offset: number, out: Float64Array): void {
  const tmp = new Float64Array(64)
  for (let v = 0; v < 8; v++) {
    for (let x = 0; x < 8; x++) {
      let sum = 0
      for (let u = 0; u < 8; u++) sum += (COS[x * 8 + u] ?? 0) * (input[offset + v * 8 + u] ?? 0)
      tmp[v * 8 + x] = sum
    }
  }
  for (let x = 0; x < 8; x++) {
    for (let y = 0; y < 8; y++) {
      let sum = 0
      for (let v = 0; v < 8; v++) sum += (COS[y * 8 + v] ?? 0) * (tmp[v * 8 + x] ?? 0)
      out[y * 8 + x] = sum
    }
  }
}

/**
 * Decodes a baseline or extended sequential Huffman JPEG (SOF0/SOF1), 8- or 12-bit, without colour
 * conversion.
 *
 * @throws DicomDecodeError `DICOM_UNSUPPORTED_TRANSFER_SYNTAX` for progressive, lossless, hierarchical
 * or arithmetic-coded streams; `DICOM_DECODE_FAILED` for a damaged stream.
 */
export function decodeJpegDct(data: Uint8Array): JpegDctImage {
  if (data[0] !== 0xff || data[1] !== 0xd8) throw fail('missing SOI marker')
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const quantTables: (Int32Array | undefined)[] = []
  const dcTables: (HuffmanTable | undefined)[] = []
  const acTables: (HuffmanTable | undefined)[] = []
  let components: Component[] = []
  let width = 0
  let height = 0
  let precision = 0
  let hmax = 1
  let vmax = 1
  let mcusPerLine = 0
  let mcusPerColumn = 0
  let restartInterval = 0
  let position = 2
  let sawScan = false
  while (position + 1 < data.length) {
    if (data[position] !== 0xff) {
      position++
      continue
    }
    const marker = data[position + 1] ?? 0
    position += 2
    if (marker === 0xff) {
      position--
      continue
    }
    if (marker === 0xd9) break
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue
    if (position + 2 > data.length) throw fail('marker segment runs past the end')
    const length = view.getUint16(position)
    const end = position + length
    if (length < 2 || end > data.length) throw fail(`marker ${marker.toString(16)} segment does not fit`)
    let p = position + 2
    switch (marker) {
      case 0xdb: // DQT
        while (p < end) {
          const pq = (data[p] ?? 0) >> 4
          const tq = (data[p] ?? 0) & 15
          p++
          const table = new Int32Array(64)
          for (let k = 0; k < 64; k++) {
            table[k] = pq === 0 ? (data[p + k] ?? 0) : view.getUint16(p + 2 * k)
          }
          p += pq === 0 ? 64 : 128
          quantTables[tq] = table
        }
        break
      case 0xc4: // DHT
        while (p < end) {
          const tc = (data[p] ?? 0) >> 4
          const th = (data[p] ?? 0) & 15
          const counts = data.subarray(p + 1, p + 17)
          let total = 0
          for (const n of counts) total += n
          const values = data.slice(p + 17, p + 17 + total)
          p += 17 + total
          if (p > end) throw fail('Huffman table does not fit')
          ;(tc === 0 ? dcTables : acTables)[th] = buildHuffman(counts, values)
        }
        break
      case 0xc0:
      case 0xc1: {
        precision = data[p] ?? 0
        height = view.getUint16(p + 1)
        width = view.getUint16(p + 3)
        const count = data[p + 5] ?? 0
        if (height === 0) throw fail('DNL-defined height is not supported')
        if (precision !== 8 && precision !== 12) throw fail(`sample precision ${precision}`)
        components = []
        for (let i = 0; i < count; i++) {
          const base = p + 6 + i * 3
          const sampling = data[base + 1] ?? 0
          const h = sampling >> 4
          const v = sampling & 15
          if (h < 1 || h > 4 || v < 1 || v > 4) throw fail('invalid sampling factors')
          components.push({
            id: data[base] ?? 0,
            h,
            v,
            tq: data[base + 2] ?? 0,
            blocksPerLine: 0,
            blocksPerColumn: 0,
            coefficients: new Int32Array(0),
            pred: 0,
          })
        }
        hmax = Math.max(...components.map((c) => c.h))
        vmax = Math.max(...components.map((c) => c.v))
        mcusPerLine = Math.ceil(width / (8 * hmax))
        mcusPerColumn = Math.ceil(height / (8 * vmax))
        for (const c of components) {
          c.blocksPerLine = mcusPerLine * c.h
          c.blocksPerColumn = mcusPerColumn * c.v
          c.coefficients = new Int32Array(c.blocksPerLine * c.blocksPerColumn * 64)
        }
        break
      }
      case 0xc2:
      case 0xc3:
      case 0xc5:
      case 0xc6:
      case 0xc7:
      case 0xc9:
      case 0xca:
      case 0xcb:
      case 0xcd:
      case 0xce:
      case 0xcf:
        throw new DicomDecodeError('Unsupported JPEG process', {
          code: 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX',
          details: `SOF marker ff${marker.toString(16)} (only sequential Huffman DCT is decoded here)`,
        })
      case 0xdd:
        restartInterval = view.getUint16(p)
        break
      case 0xda: {
        if (components.length === 0) throw fail('SOS before SOF')
        const count = data[p] ?? 0
        const scanComponents: Component[] = []
        for (let i = 0; i < count; i++) {
          const id = data[p + 1 + i * 2] ?? 0
          const tables = data[p + 2 + i * 2] ?? 0
          const component = components.find((c) => c.id === id)
          if (!component) throw fail(`scan names unknown component ${id}`)
          component.dc = dcTables[tables >> 4]
          component.ac = acTables[tables & 15]
          if (!component.dc || !component.ac) throw fail('scan uses an undefined Huffman table')
          scanComponents.push(component)
        }
        const reader = new BitReader(data, end)
        decodeScan(reader, scanComponents, quantTables, {
          width,
          height,
          hmax,
          vmax,
          mcusPerLine,
          mcusPerColumn,
          restartInterval,
        })
        sawScan = true
        position = reader.position
        continue
      }
      default:
        break
    }
    position = end
  }
  if (!sawScan) throw fail('no scan found')
  return assemble(components, { width, height, precision, hmax, vmax })
}

function decodeScan(
  reader: BitReader,
  scan: Component[],
  quantTables: (Int32Array | undefined)[],
  frame: {
    width: number
    height: number
    hmax: number
    vmax: number
    mcusPerLine: number
    mcusPerColumn: number
    restartInterval: number
  },
): void {
  for (const c of scan) c.pred = 0
  const decodeBlock = (c: Component, blockRow: number, blockCol: number) => {
    const q = quantTables[c.tq]
    if (!q) throw fail(`quantization table ${c.tq} is not defined`)
    const dc = c.dc as HuffmanTable
    const ac = c.ac as HuffmanTable
    const out = c.coefficients
    const offset = (blockRow * c.blocksPerLine + blockCol) * 64
    const t = reader.decode(dc)
    c.pred += t === 0 ? 0 : extend(reader.receive(t), t)
    out[offset] = c.pred * (q[0] ?? 0)
    for (let k = 1; k < 64; ) {
      const rs = reader.decode(ac)
      const s = rs & 15
      const r = rs >> 4
      if (s === 0) {
        if (r < 15) break
        k += 16
        continue
      }
      k += r
      if (k > 63) throw fail('coefficient index past 63')
      out[offset + (ZIGZAG[k] ?? 0)] = extend(reader.receive(s), s) * (q[k] ?? 0)
      k++
    }
  }
  const { restartInterval } = frame
  const restartIfDue = (unit: number) => {
    if (restartInterval > 0 && unit > 0 && unit % restartInterval === 0) {
      reader.restart()
      for (const c of scan) c.pred = 0
    }
  }
  const single = scan[0]
  if (scan.length === 1 && single) {
    // A non-interleaved scan covers just the component's own blocks, one block per MCU (A.2.2).
    const blocksWide = Math.ceil(Math.ceil((frame.width * single.h) / frame.hmax) / 8)
    const blocksHigh = Math.ceil(Math.ceil((frame.height * single.v) / frame.vmax) / 8)
    for (let n = 0; n < blocksWide * blocksHigh; n++) {
      restartIfDue(n)
      decodeBlock(single, Math.floor(n / blocksWide), n % blocksWide)
    }
    return
  }
  const total = frame.mcusPerLine * frame.mcusPerColumn
  for (let m = 0; m < total; m++) {
    restartIfDue(m)
    const mcuRow = Math.floor(m / frame.mcusPerLine)
    const mcuCol = m % frame.mcusPerLine
    for (const c of scan) {
      for (let v = 0; v < c.v; v++) {
        for (let h = 0; h < c.h; h++) decodeBlock(c, mcuRow * c.v + v, mcuCol * c.h + h)
      }
    }
  }
}

function assemble(
  components: Component[],
  frame: { width: number; height: number; precision: number; hmax: number; vmax: number },
): JpegDctImage {
  const { width, height, precision, hmax, vmax } = frame
  const max = (1 << precision) - 1
  const levelShift = 1 << (precision - 1)
  const count = components.length
  const samples = new Uint16Array(width * height * count)
  const block = new Float64Array(64)
  components.forEach((c, index) => {
    const planeWidth = c.blocksPerLine * 8
    const plane = new Uint16Array(planeWidth * c.blocksPerColumn * 8)
    for (let row = 0; row < c.blocksPerColumn; row++) {
      for (let col = 0; col < c.blocksPerLine; col++) {
        idctBlock(c.coefficients, (row * c.blocksPerLine + col) * 64, block)
        for (let y = 0; y < 8; y++) {
          const lineStart = (row * 8 + y) * planeWidth + col * 8
          for (let x = 0; x < 8; x++) {
            const value = Math.round((block[y * 8 + x] ?? 0) + levelShift)
            plane[lineStart + x] = Math.min(Math.max(value, 0), max)
          }
        }
      }
    }
    for (let y = 0; y < height; y++) {
      const sourceRow = Math.floor((y * c.v) / vmax) * planeWidth
      for (let x = 0; x < width; x++) {
        samples[(y * width + x) * count + index] = plane[sourceRow + Math.floor((x * c.h) / hmax)] ?? 0
      }
    }
  })
  return { width, height, precision, componentCount: count, samples }
}

/** The SOF header of a JPEG stream: which process, precision and size. */
export function readJpegFrameHeader(
  data: Uint8Array,
): { marker: number; precision: number; width: number; height: number; componentCount: number } | undefined {
  let position = 2
  while (position + 9 < data.length) {
    if (data[position] !== 0xff) {
      position++
      continue
    }
    const marker = data[position + 1] ?? 0
    if (marker === 0xff || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      position += marker === 0xff ? 1 : 2
      continue
    }
    const length = ((data[position + 2] ?? 0) << 8) | (data[position + 3] ?? 0)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return {
        marker,
        precision: data[position + 4] ?? 0,
        height: ((data[position + 5] ?? 0) << 8) | (data[position + 6] ?? 0),
        width: ((data[position + 7] ?? 0) << 8) | (data[position + 8] ?? 0),
        componentCount: data[position + 9] ?? 0,
      }
    }
    if (marker === 0xda || marker === 0xd9) return undefined
    position += 2 + length
  }
  return undefined
}
