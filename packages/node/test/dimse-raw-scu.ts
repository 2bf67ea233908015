import net from 'node:net'

// A deliberately small DICOM upper-layer client that writes PDUs byte by byte as the test says, so the
// receiver can be fed exact data sets (to check they are kept byte for byte) and broken or hostile input
// that no well-behaved toolkit would send.

export type ProposedContext = { id: number; abstractSyntax: string; transferSyntaxes: string[] }

export type ReceivedPdu = { type: number; bytes: Buffer }

export class RawScu {
  readonly socket: net.Socket
  readonly closed: Promise<void>
  #buffer = Buffer.alloc(0)
  #queue: ReceivedPdu[] = []
  #waiters: Array<(pdu: ReceivedPdu | undefined) => void> = []
  #ended = false

  private constructor(socket: net.Socket) {
    this.socket = socket
    socket.on('data', (chunk: Buffer) => {
      for (const pdu of this.#frame(chunk)) {
        const waiter = this.#waiters.shift()
        if (waiter) waiter(pdu)
        else this.#queue.push(pdu)
      }
    })
    socket.on('error', () => {})
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.#ended = true
        for (const waiter of this.#waiters.splice(0)) waiter(undefined)
        resolve()
      }),
    )
  }

  #frame(chunk: Buffer): ReceivedPdu[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk])
    const out: ReceivedPdu[] = []
    while (this.#buffer.length >= 6) {
      const total = 6 + this.#buffer.readUInt32BE(2)
      if (this.#buffer.length < total) break
      out.push({ type: this.#buffer[0] as number, bytes: this.#buffer.subarray(0, total) })
      this.#buffer = this.#buffer.subarray(total)
    }
    return out
  }

  static connect(port: number): Promise<RawScu> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawScu(socket)))
      socket.once('error', reject)
    })
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  /** The next PDU from the receiver, or undefined once the connection closed. */
  next(timeoutMs = 10_000): Promise<ReceivedPdu | undefined> {
    const queued = this.#queue.shift()
    if (queued) return Promise.resolve(queued)
    if (this.#ended) return Promise.resolve(undefined)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no PDU in time')), timeoutMs)
      this.#waiters.push((pdu) => {
        clearTimeout(timer)
        resolve(pdu)
      })
    })
  }

  async associate(params: AssociateRqParameters): Promise<AssociateAc> {
    this.send(associateRq(params))
    const pdu = await this.next()
    if (pdu?.type !== 0x02) throw new Error(`association not accepted (PDU ${pdu?.type})`)
    return parseAssociateAc(pdu.bytes)
  }

  /** Sends one DIMSE message (command, then data set) in PDVs of at most `maxPdv` bytes. */
  sendMessage(pcId: number, command: Buffer, dataSet?: Buffer, maxPdv = 16_000): void {
    this.send(pData(pcId, true, true, command))
    if (dataSet === undefined) return
    for (let offset = 0; offset < dataSet.length || offset === 0; offset += maxPdv) {
      const end = Math.min(offset + maxPdv, dataSet.length)
      this.send(pData(pcId, false, end === dataSet.length, dataSet.subarray(offset, end)))
      if (end === dataSet.length) break
    }
  }

  /** Reads one response's command set and returns its Status (0000,0900). */
  async status(): Promise<number> {
    const pdu = await this.next()
    if (pdu?.type !== 0x04) throw new Error(`expected P-DATA-TF, got ${pdu?.type}`)
    const value = pdu.bytes.subarray(12)
    const status = readCommandElement(value, 0x0900)
    if (status === undefined) throw new Error('no status in response')
    return status.readUInt16LE(0)
  }

  async release(): Promise<void> {
    this.send(Buffer.from([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]))
    const pdu = await this.next()
    if (pdu?.type !== 0x06) throw new Error(`expected A-RELEASE-RP, got ${pdu?.type}`)
    this.socket.end()
    await this.closed
  }
}

export type AssociateRqParameters = {
  calling: string
  called: string
  contexts: ProposedContext[]
  maxPdu?: number
}

export type AssociateAc = { results: Map<number, { result: number; transferSyntax: string }>; maxPdu: number }

export function associateRq({ calling, called, contexts, maxPdu = 16384 }: AssociateRqParameters): Buffer {
  const items: Buffer[] = [item(0x10, Buffer.from('1.2.840.10008.3.1.1.1'))]
  for (const pc of contexts) {
    items.push(
      item(
        0x20,
        Buffer.concat([
          Buffer.from([pc.id, 0, 0, 0]),
          item(0x30, Buffer.from(pc.abstractSyntax)),
          ...pc.transferSyntaxes.map((ts) => item(0x40, Buffer.from(ts))),
        ]),
      ),
    )
  }
  const max = Buffer.alloc(4)
  max.writeUInt32BE(maxPdu)
  items.push(item(0x50, Buffer.concat([item(0x51, max), item(0x52, Buffer.from('1.2.3.4'))])))
  const fixed = Buffer.alloc(68)
  fixed.writeUInt16BE(1, 0)
  fixed.write(called.padEnd(16), 4, 'latin1')
  fixed.write(calling.padEnd(16), 20, 'latin1')
  return pdu(0x01, Buffer.concat([fixed, ...items]))
}

export function parseAssociateAc(bytes: Buffer): AssociateAc {
  const results = new Map<number, { result: number; transferSyntax: string }>()
  let maxPdu = 0
  let offset = 6 + 68
  while (offset < bytes.length) {
    const type = bytes[offset] as number
    const length = bytes.readUInt16BE(offset + 2)
    const body = bytes.subarray(offset + 4, offset + 4 + length)
    if (type === 0x21) {
      const tsLength = body.readUInt16BE(6)
      results.set(body[0] as number, {
        result: body[2] as number,
        transferSyntax: body.subarray(8, 8 + tsLength).toString('latin1'),
      })
    } else if (type === 0x50) {
      for (let o = 0; o < body.length; ) {
        const subLength = body.readUInt16BE(o + 2)
        if (body[o] === 0x51) maxPdu = body.readUInt32BE(o + 4)
        o += 4 + subLength
      }
    }
    offset += 4 + length
  }
  return { results, maxPdu }
}

export function pData(pcId: number, isCommand: boolean, isLast: boolean, value: Buffer): Buffer {
  const pdv = Buffer.alloc(6)
  pdv.writeUInt32BE(value.length + 2, 0)
  pdv[4] = pcId
  pdv[5] = (isCommand ? 1 : 0) | (isLast ? 2 : 0)
  return pdu(0x04, Buffer.concat([pdv, value]))
}

export function pdu(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(6)
  header[0] = type
  header.writeUInt32BE(body.length, 2)
  return Buffer.concat([header, body])
}

export function cStoreCommand(messageId: number, sopClassUid: string, sopInstanceUid: string): Buffer {
  return commandSet([
    [0x0002, uid(sopClassUid)],
    [0x0100, us(0x0001)],
    [0x0110, us(messageId)],
    [0x0700, us(0)],
    [0x0800, us(0x0000)],
    [0x1000, uid(sopInstanceUid)],
  ])
}

export function cEchoCommand(messageId: number): Buffer {
  return commandSet([
    [0x0002, uid('1.2.840.10008.1.1')],
    [0x0100, us(0x0030)],
    [0x0110, us(messageId)],
    [0x0800, us(0x0101)],
  ])
}

/** The parts of a Part 10 file: meta values and the data set bytes after the meta group. */
export function splitPart10(file: Uint8Array): {
  sopClassUid: string
  sopInstanceUid: string
  transferSyntaxUid: string
  dataSet: Buffer
  meta: Map<number, string>
} {
  const bytes = Buffer.from(file)
  if (bytes.toString('latin1', 128, 132) !== 'DICM') throw new Error('not a Part 10 file')
  const meta = new Map<number, string>()
  let offset = 132
  while (offset < bytes.length && bytes.readUInt16LE(offset) === 0x0002) {
    const element = bytes.readUInt16LE(offset + 2)
    const vr = bytes.toString('latin1', offset + 4, offset + 6)
    let length: number
    let start: number
    if (['OB', 'OW', 'UN', 'SQ', 'UT', 'UC', 'UR'].includes(vr)) {
      length = bytes.readUInt32LE(offset + 8)
      start = offset + 12
    } else {
      length = bytes.readUInt16LE(offset + 6)
      start = offset + 8
    }
    meta.set(element, bytes.toString('latin1', start, start + length).replace(/[\0 ]+$/, ''))
    offset = start + length
  }
  return {
    sopClassUid: meta.get(0x0002) ?? '',
    sopInstanceUid: meta.get(0x0003) ?? '',
    transferSyntaxUid: meta.get(0x0010) ?? '',
    dataSet: bytes.subarray(offset),
    meta,
  }
}

function item(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4)
  header[0] = type
  header.writeUInt16BE(body.length, 2)
  return Buffer.concat([header, body])
}

function uid(value: string): Buffer {
  return Buffer.from(value.length % 2 ? `${value}\0` : value, 'latin1')
}

function us(value: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16LE(value)
  return b
}

function commandSet(elements: Array<[number, Buffer]>): Buffer {
  const encoded = elements.map(([element, value]) => {
    const header = Buffer.alloc(8)
    header.writeUInt16LE(0x0000, 0)
    header.writeUInt16LE(element, 2)
    header.writeUInt32LE(value.length, 4)
    return Buffer.concat([header, value])
  })
  const body = Buffer.concat(encoded)
  const groupLength = Buffer.alloc(12)
  groupLength.writeUInt32LE(4, 4)
  groupLength.writeUInt32LE(body.length, 8)
  return Buffer.concat([groupLength, body])
}

function readCommandElement(command: Buffer, wanted: number): Buffer | undefined {
  for (let offset = 0; offset + 8 <= command.length; ) {
    const element = command.readUInt16LE(offset + 2)
    const length = command.readUInt32LE(offset + 4)
    if (element === wanted) return command.subarray(offset + 8, offset + 8 + length)
    offset += 8 + length
  }
  return undefined
}
