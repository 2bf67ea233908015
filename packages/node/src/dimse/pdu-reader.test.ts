import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PduProtocolError, PduReader, readCommandSummary, readPdvs } from './pdu-reader.js'

const limits = { maxAssociateRqBytes: 1024, maxPduLength: 4096 }

function pdu(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(6)
  header[0] = type
  header.writeUInt32BE(body.length, 2)
  return Buffer.concat([header, body])
}

function pdv(pcId: number, flags: number, value: Buffer): Buffer {
  const head = Buffer.alloc(6)
  head.writeUInt32BE(value.length + 2, 0)
  head[4] = pcId
  head[5] = flags
  return Buffer.concat([head, value])
}

describe('PduReader', () => {
  it('yields the same PDUs however the stream is cut', () => {
    const arbPdu = fc.oneof(
      fc.uint8Array({ maxLength: 1024 }).map((b) => pdu(0x01, Buffer.from(b))),
      fc.uint8Array({ maxLength: 4096 }).map((b) => pdu(0x04, Buffer.from(b))),
      fc.constant(pdu(0x05, Buffer.alloc(4))),
    )
    fc.assert(
      fc.property(
        fc.array(arbPdu, { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 5000 })),
        (pdus, cuts) => {
          const stream = Buffer.concat(pdus)
          const reader = new PduReader(limits)
          const out: Buffer[] = []
          let offset = 0
          for (const cut of cuts) {
            if (offset >= stream.length) break
            for (const p of reader.push(stream.subarray(offset, offset + cut))) out.push(p.bytes)
            offset += cut
          }
          for (const p of reader.push(stream.subarray(offset))) out.push(p.bytes)
          expect(out.map((b) => b.toString('hex'))).toEqual(pdus.map((b) => b.toString('hex')))
          expect(reader.buffered).toBe(0)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('refuses a PDU over its limit from the header alone, and unknown PDU types', () => {
    const over = Buffer.from([0x04, 0, 0, 0, 0x10, 0x01]) // 4097
    expect(() => new PduReader(limits).push(over)).toThrow(PduProtocolError)
    expect(() => new PduReader(limits).push(Buffer.from([0x01, 0, 0, 0, 0x04, 0x01]))).toThrow(
      /over the limit/,
    )
    expect(() => new PduReader(limits).push(Buffer.from([0x05, 0, 0, 0, 1, 0]))).toThrow(/over the limit/)
    expect(() => new PduReader(limits).push(Buffer.from('GET / HTTP/1.1'))).toThrow(
      /Unrecognized PDU type 71/,
    )
  })
})

describe('readPdvs', () => {
  it('reads fragments and their flags', () => {
    const bytes = pdu(
      0x04,
      Buffer.concat([pdv(1, 0x03, Buffer.from('cmd')), pdv(1, 0x00, Buffer.from('data'))]),
    )
    expect(readPdvs(bytes)).toEqual([
      { presentationContextId: 1, isCommand: true, isLast: true, value: Buffer.from('cmd') },
      { presentationContextId: 1, isCommand: false, isLast: false, value: Buffer.from('data') },
    ])
  })

  it('refuses items that do not fit, and an empty P-DATA-TF', () => {
    const bad = pdv(1, 0, Buffer.from('abc'))
    bad.writeUInt32BE(100, 0)
    expect(() => readPdvs(pdu(0x04, bad))).toThrow(/does not fit/)
    expect(() => readPdvs(pdu(0x04, Buffer.from([0, 0, 0, 1, 1, 0])))).toThrow(/does not fit/)
    expect(() => readPdvs(pdu(0x04, Buffer.alloc(0)))).toThrow(/without a PDV/)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (body) => {
        try {
          readPdvs(pdu(0x04, Buffer.from(body)))
        } catch (error) {
          expect(error).toBeInstanceOf(PduProtocolError)
        }
      }),
    )
  })
})

describe('readCommandSummary', () => {
  it('finds the command field and data set type, and refuses a malformed set', () => {
    const element = (el: number, value: number) => {
      const b = Buffer.alloc(10)
      b.writeUInt16LE(0, 0)
      b.writeUInt16LE(el, 2)
      b.writeUInt32LE(2, 4)
      b.writeUInt16LE(value, 8)
      return b
    }
    const command = Buffer.concat([element(0x0100, 0x0001), element(0x0800, 0x0000)])
    expect(readCommandSummary(command)).toEqual({ commandField: 1, dataSetType: 0 })
    expect(() => readCommandSummary(command.subarray(0, 15))).toThrow(PduProtocolError)
    expect(() => readCommandSummary(element(0x0100, 0x0030))).toThrow(PduProtocolError)
  })
})
