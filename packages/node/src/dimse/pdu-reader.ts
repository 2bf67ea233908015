import { Abort, PduType } from './constants.js'

// The upper-layer framing is read here, ahead of dcmjs-dimse, because the library buffers whatever length
// a PDU header declares (up to 4 GiB, re-concatenating on every chunk) and never checks a presentation
// context or a command's size. Each PDU is checked against the receiver's limits before one byte of it is
// buffered past its header, and then handed to the library whole.

/** A protocol violation by the peer: the association is aborted with this A-ABORT reason. */
export class PduProtocolError extends Error {
  override name = 'PduProtocolError'
  readonly reason: number
  constructor(message: string, reason: number) {
    super(message)
    this.reason = reason
  }
}

export type PduLimits = {
  /** Longest A-ASSOCIATE-RQ accepted (its presentation contexts and user information). */
  maxAssociateRqBytes: number
  /** The maximum length announced in the A-ASSOCIATE-AC: the longest P-DATA-TF accepted. */
  maxPduLength: number
}

export type Pdu = { type: number; bytes: Buffer }

const HEADER = 6
// A-RELEASE-RQ/RP and A-ABORT have 4-byte bodies; a little room for peers that pad.
const MAX_SMALL_PDU = 64

/**
 * Splits a byte stream into PDUs, refusing a PDU whose declared length is over its type's limit as soon
 * as its header has arrived. Holds at most one PDU (and the next header) in memory.
 */
export class PduReader {
  #chunks: Buffer[] = []
  #buffered = 0
  #expected: { type: number; length: number } | undefined
  readonly #limits: PduLimits

  constructor(limits: PduLimits) {
    this.#limits = limits
  }

  /** Bytes held for a PDU not yet complete. */
  get buffered(): number {
    return this.#buffered
  }

  /** Adds bytes from the wire; returns the PDUs they complete, in order. Throws PduProtocolError. */
  push(chunk: Buffer): Pdu[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk)
      this.#buffered += chunk.length
    }
    const out: Pdu[] = []
    for (;;) {
      if (this.#expected === undefined) {
        if (this.#buffered < HEADER) break
        const header = this.#peek(HEADER)
        const type = header[0] as number
        const length = header.readUInt32BE(2)
        const limit = this.#limitFor(type)
        if (length > limit) {
          throw new PduProtocolError(
            `PDU type ${type} declares ${length} bytes, over the limit of ${limit}`,
            Abort.reasonInvalidPduParameter,
          )
        }
        this.#expected = { type, length }
      }
      const total = HEADER + this.#expected.length
      if (this.#buffered < total) break
      out.push({ type: this.#expected.type, bytes: this.#take(total) })
      this.#expected = undefined
    }
    return out
  }

  #limitFor(type: number): number {
    switch (type) {
      case PduType.associateRq:
        return this.#limits.maxAssociateRqBytes
      case PduType.pData:
        return this.#limits.maxPduLength
      case PduType.releaseRq:
      case PduType.releaseRp:
      case PduType.abort:
      case PduType.associateAc:
      case PduType.associateRj:
        return MAX_SMALL_PDU
      default:
        throw new PduProtocolError(`Unrecognized PDU type ${type}`, Abort.reasonUnrecognizedPdu)
    }
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0] as Buffer
    if (first.length >= n) return first.subarray(0, n)
    return Buffer.concat(this.#chunks, this.#buffered).subarray(0, n)
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0] as Buffer
    let out: Buffer
    if (first.length >= n) {
      out = first.subarray(0, n)
      if (first.length === n) this.#chunks.shift()
      else this.#chunks[0] = first.subarray(n)
    } else {
      const all = Buffer.concat(this.#chunks, this.#buffered)
      out = all.subarray(0, n)
      this.#chunks = all.length > n ? [all.subarray(n)] : []
    }
    this.#buffered -= n
    return out
  }
}

export type Pdv = {
  presentationContextId: number
  isCommand: boolean
  isLast: boolean
  /** The fragment's bytes (a view into the PDU). */
  value: Buffer
}

/** The presentation data values of a P-DATA-TF PDU (PS3.8 9.3.5). Throws PduProtocolError. */
export function readPdvs(pdu: Buffer): Pdv[] {
  const end = pdu.length
  const pdvs: Pdv[] = []
  let offset = HEADER
  while (offset < end) {
    if (end - offset < 6) throw new PduProtocolError('Truncated PDV item', Abort.reasonInvalidPduParameter)
    const length = pdu.readUInt32BE(offset)
    if (length < 2 || length > end - offset - 4) {
      throw new PduProtocolError(
        `PDV item length ${length} does not fit its PDU`,
        Abort.reasonInvalidPduParameter,
      )
    }
    const presentationContextId = pdu[offset + 4] as number
    const header = pdu[offset + 5] as number
    pdvs.push({
      presentationContextId,
      isCommand: (header & 0x01) !== 0,
      isLast: (header & 0x02) !== 0,
      value: pdu.subarray(offset + 6, offset + 4 + length),
    })
    offset += 4 + length
  }
  if (pdvs.length === 0)
    throw new PduProtocolError('P-DATA-TF without a PDV', Abort.reasonInvalidPduParameter)
  return pdvs
}

export type CommandSummary = { commandField: number; dataSetType: number }

/**
 * Reads Command Field (0000,0100) and Command Data Set Type (0000,0800) from a command set (implicit VR
 * little endian, PS3.7 6.3.1). Throws PduProtocolError if either is missing or the set is malformed.
 */
export function readCommandSummary(command: Buffer): CommandSummary {
  let commandField: number | undefined
  let dataSetType: number | undefined
  let offset = 0
  while (offset + 8 <= command.length) {
    const group = command.readUInt16LE(offset)
    const element = command.readUInt16LE(offset + 2)
    const length = command.readUInt32LE(offset + 4)
    offset += 8
    if (group !== 0x0000 || length > command.length - offset) break
    if (element === 0x0100 && length === 2) commandField = command.readUInt16LE(offset)
    if (element === 0x0800 && length === 2) dataSetType = command.readUInt16LE(offset)
    offset += length
  }
  if (commandField === undefined || dataSetType === undefined || offset !== command.length) {
    throw new PduProtocolError('Malformed DIMSE command set', Abort.reasonInvalidPduParameter)
  }
  return { commandField, dataSetType }
}

/** An A-ABORT PDU. */
export function abortPdu(source: number, reason: number): Buffer {
  return Buffer.from([PduType.abort, 0, 0, 0, 0, 4, 0, 0, source, reason])
}
