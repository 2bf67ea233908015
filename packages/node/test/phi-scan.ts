import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { encodeAbiParameters, keccak256 } from 'viem'

// Everything needed to prove "no PHI on chain, in any encoding" (DESIGN principle 1): the encodings
// a value could take on its way to the chain, the chain's artifacts as bytes, and a one-pass matcher.

export type Needle = { value: string; encoding: string; bytes: Buffer }
export type ArtifactClass = 'tx' | 'block' | 'receipt' | 'logs' | 'storage' | 'dump'
export type Artifact = { kind: ArtifactClass; where: string; bytes: Buffer }
export type Hit = { value: string; encoding: string; kind: ArtifactClass; where: string; offset: number }

const utf16be = (text: string) => {
  const le = Buffer.from(text, 'utf16le')
  for (let i = 0; i + 1 < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1] as number, le[i] as number]
  return le
}
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest()
const keccak = (bytes: Uint8Array) => Buffer.from(keccak256(bytes, 'bytes'))

/**
 * The base64 characters that encode `bytes` wherever they sit in a longer base64 text: one core per
 * alignment (0, 1 or 2 bytes before), without the characters that depend on neighbouring bytes.
 */
export function base64Cores(bytes: Uint8Array): string[] {
  const cores: string[] = []
  for (const shift of [0, 1, 2]) {
    const padded = Buffer.concat([Buffer.alloc(shift), Buffer.from(bytes)])
    let text = padded.toString('base64').replace(/=+$/, '')
    if (padded.length % 3 !== 0) text = text.slice(0, -1)
    const core = text.slice(Math.ceil((8 * shift) / 6))
    if (core.length >= 4) cores.push(core)
  }
  return cores
}

/** Spellings of a name: as given, DICOM PN (`Family^Given`, and the other order), and with spaces for `^`. */
export function nameForms(name: string): string[] {
  const forms = new Set([name])
  if (name.includes('^')) {
    forms.add(name.replaceAll('^', ' '))
    const [family, given] = name.split('^')
    if (family && given) forms.add(`${given} ${family}`)
  } else if (name.includes(' ')) {
    const parts = name.split(' ')
    const family = parts.pop() as string
    const given = parts.join(' ')
    forms.add(`${family}^${given}`)
    forms.add(`${given}^${family}`)
    forms.add(`${family}, ${given}`)
  }
  return [...forms]
}

/** Every encoding of `value` we look for. Case variants; hashes also of DICOM-padded forms. */
export function needlesFor(value: string, options: { forms?: string[] } = {}): Needle[] {
  const out: Needle[] = []
  const add = (encoding: string, bytes: Uint8Array) =>
    out.push({ value, encoding, bytes: Buffer.from(bytes) })
  const texts = new Set<string>()
  for (const form of options.forms ?? [value]) {
    texts.add(form)
    texts.add(form.toLowerCase())
    texts.add(form.toUpperCase())
  }
  for (const text of texts) {
    const utf8 = Buffer.from(text, 'utf8')
    add(`utf8 "${text}"`, utf8)
    add(`utf16le "${text}"`, Buffer.from(text, 'utf16le'))
    add(`utf16be "${text}"`, utf16be(text))
    if ([...text].some((c) => c.charCodeAt(0) > 0x7f)) add(`latin1 "${text}"`, Buffer.from(text, 'latin1'))
    // The text written out as hex digits (a string field holding "0x5a65…").
    add(`hex text "${text}"`, Buffer.from(utf8.toString('hex'), 'latin1'))
    add(`HEX text "${text}"`, Buffer.from(utf8.toString('hex').toUpperCase(), 'latin1'))
    for (const [alphabet, cores] of [
      ['base64', base64Cores(utf8)],
      ['base64url', base64Cores(utf8).map((c) => c.replaceAll('+', '-').replaceAll('/', '_'))],
      ['base64(utf16le)', base64Cores(Buffer.from(text, 'utf16le'))],
    ] as const) {
      for (const [i, core] of cores.entries()) add(`${alphabet}[${i}] "${text}"`, Buffer.from(core, 'latin1'))
    }
    // Hashes, and hashes of what a careless contract or client would hash instead: DICOM's even-length
    // padding (space, or NUL for UIDs), UTF-16, abi.encode(string).
    const preimages: Array<[string, Uint8Array]> = [
      ['utf8', utf8],
      ['utf8+" "', Buffer.concat([utf8, Buffer.from(' ')])],
      ['utf8+NUL', Buffer.concat([utf8, Buffer.alloc(1)])],
      ['utf16le', Buffer.from(text, 'utf16le')],
      ['abi.encode(string)', Buffer.from(encodeAbiParameters([{ type: 'string' }], [text]).slice(2), 'hex')],
    ]
    for (const [what, preimage] of preimages) {
      for (const [hash, digest] of [
        ['sha256', sha256(preimage)],
        ['keccak256', keccak(preimage)],
        ['sha256d', sha256(sha256(preimage))],
      ] as const) {
        // Both halves: a digest stored whole, or truncated from either end (bytes16, address-like).
        add(`${hash}(${what} "${text}")[0:16]`, digest.subarray(0, 16))
        add(`${hash}(${what} "${text}")[16:32]`, digest.subarray(16, 32))
      }
    }
  }
  return out
}

/** Finds every needle in one pass over each artifact (needles are indexed by their first 4 bytes). */
export function scan(artifacts: Artifact[], needles: Needle[]): Hit[] {
  const index = new Map<number, Needle[]>()
  for (const needle of needles) {
    if (needle.bytes.length < 4) throw new Error(`needle too short to search safely: ${needle.encoding}`)
    const key = needle.bytes.readUInt32LE(0)
    const list = index.get(key)
    if (list) list.push(needle)
    else index.set(key, [needle])
  }
  const hits: Hit[] = []
  for (const artifact of artifacts) {
    const b = artifact.bytes
    for (let i = 0; i + 4 <= b.length; i++) {
      const candidates = index.get(b.readUInt32LE(i))
      if (!candidates) continue
      for (const needle of candidates) {
        if (
          i + needle.bytes.length <= b.length &&
          b.compare(needle.bytes, 0, needle.bytes.length, i, i + needle.bytes.length) === 0
        ) {
          hits.push({
            value: needle.value,
            encoding: needle.encoding,
            kind: artifact.kind,
            where: artifact.where,
            offset: i,
          })
        }
      }
    }
  }
  return hits
}

type Rpc = <T>(method: string, params?: unknown[]) => Promise<T>

/** Bytes of every string in a JSON value: hex strings decoded, other strings as UTF-8. */
function stringsOf(value: unknown, path: string, out: Array<{ where: string; bytes: Buffer }>): void {
  if (typeof value === 'string') {
    const hex = /^0x([0-9a-fA-F]*)$/.exec(value)
    if (hex) {
      const digits = (hex[1] as string).length % 2 ? `0${hex[1]}` : (hex[1] as string)
      out.push({ where: path, bytes: Buffer.from(digits, 'hex') })
    } else {
      out.push({ where: path, bytes: Buffer.from(value, 'utf8') })
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      stringsOf(v, `${path}[${i}]`, out)
    })
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      // A key can hold data too (storage slots are keys).
      stringsOf(k, `${path}.<key>`, out)
      stringsOf(v, `${path}.${k}`, out)
    }
  }
}

export type AnvilState = {
  accounts: Record<string, { nonce: number; balance: string; code: string; storage: Record<string, string> }>
  [key: string]: unknown
}

export type ChainArtifacts = {
  artifacts: Artifact[]
  state: AnvilState
  blocks: number
  transactions: number
  logs: number
}

/**
 * Everything the chain holds, as bytes: every block and transaction (input, to, ...), every receipt
 * and log, all logs from block 0, and anvil's full state dump (accounts, code, every storage slot,
 * plus runs of consecutive slots so a value spanning slots is found whole).
 */
export async function collectChainArtifacts(rpc: Rpc): Promise<ChainArtifacts> {
  const artifacts: Artifact[] = []
  const push = (kind: ArtifactClass, items: Array<{ where: string; bytes: Buffer }>) => {
    for (const item of items) if (item.bytes.length > 0) artifacts.push({ kind, ...item })
  }
  const head = Number(await rpc<string>('eth_blockNumber'))
  let transactions = 0
  for (let n = 0; n <= head; n++) {
    const block = await rpc<
      { transactions: Array<{ hash: string } & Record<string, unknown>> } & Record<string, unknown>
    >('eth_getBlockByNumber', [`0x${n.toString(16)}`, true])
    const { transactions: txs, ...header } = block
    const items: Array<{ where: string; bytes: Buffer }> = []
    stringsOf(header, `block ${n}`, items)
    push('block', items)
    for (const tx of txs) {
      transactions++
      const txItems: Array<{ where: string; bytes: Buffer }> = []
      stringsOf(tx, `block ${n} tx ${tx.hash}`, txItems)
      push('tx', txItems)
      const receipt = await rpc<unknown>('eth_getTransactionReceipt', [tx.hash])
      const receiptItems: Array<{ where: string; bytes: Buffer }> = []
      stringsOf(receipt, `receipt ${tx.hash}`, receiptItems)
      push('receipt', receiptItems)
    }
  }
  const logs = await rpc<unknown[]>('eth_getLogs', [{ fromBlock: '0x0', toBlock: 'latest' }])
  const logItems: Array<{ where: string; bytes: Buffer }> = []
  stringsOf(logs, 'eth_getLogs', logItems)
  push('logs', logItems)

  const dumpHex = await rpc<string>('anvil_dumpState')
  const json = gunzipSync(Buffer.from(dumpHex.slice(2), 'hex'))
  const state = JSON.parse(json.toString('utf8')) as AnvilState
  artifacts.push({ kind: 'dump', where: 'anvil_dumpState (raw JSON text)', bytes: json })
  const dumpItems: Array<{ where: string; bytes: Buffer }> = []
  stringsOf(state, 'dump', dumpItems)
  push('dump', dumpItems)
  for (const [address, account] of Object.entries(state.accounts)) {
    const slots = Object.entries(account.storage ?? {}).map(([key, value]) => ({
      slot: BigInt(key),
      word: Buffer.from(BigInt(value).toString(16).padStart(64, '0'), 'hex'),
    }))
    slots.sort((a, b) => (a.slot < b.slot ? -1 : a.slot > b.slot ? 1 : 0))
    for (const { slot, word } of slots) {
      artifacts.push({ kind: 'storage', where: `${address} slot 0x${slot.toString(16)}`, bytes: word })
      artifacts.push({
        kind: 'storage',
        where: `${address} slot key 0x${slot.toString(16)}`,
        bytes: Buffer.from(slot.toString(16).padStart(64, '0'), 'hex'),
      })
    }
    // Consecutive slots (a long string or array in storage spans them).
    let run: typeof slots = []
    const flush = () => {
      if (run.length > 1) {
        artifacts.push({
          kind: 'storage',
          where: `${address} slots 0x${run[0]?.slot.toString(16)}..+${run.length - 1}`,
          bytes: Buffer.concat(run.map((s) => s.word)),
        })
      }
      run = []
    }
    for (const s of slots) {
      const last = run[run.length - 1]
      if (last && s.slot !== last.slot + 1n) flush()
      run.push(s)
    }
    flush()
  }
  return { artifacts, state, blocks: head + 1, transactions, logs: logs.length }
}
