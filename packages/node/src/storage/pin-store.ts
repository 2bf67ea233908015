import type { Datastore } from 'interface-datastore'
import { Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import type { Pin } from './types.js'

// Pins are a root set, one record per pinned CID, and gc is mark-and-sweep from that set (as in Kubo).
// Helia's own `pins` keeps a reference count per block in one datastore entry per block: one pin costs
// a write per block, a crash half-way through leaves counts without a pin, and in helia 7.1 `rm`
// filters `pinnedBy` the wrong way round, so unpinning and re-pinning one of two DAGs that share
// blocks loses the other DAG's protection. A single record per root is atomic and cannot drift.

const PREFIX = '/pcmims/pins'
const encoder = new TextEncoder()
const decoder = new TextDecoder()

type Options = { signal?: AbortSignal | undefined }

const abortOptions = (options?: Options) => (options?.signal ? { signal: options.signal } : {})

function keyOf(cid: CID): Key {
  return new Key(`${PREFIX}/${cid.toV1().toString()}`)
}

export class PinStore {
  readonly #datastore: Datastore

  constructor(datastore: Datastore) {
    this.#datastore = datastore
  }

  async put(pin: Pin, options?: Options): Promise<void> {
    const record = { type: pin.type, size: pin.size, pinnedAt: pin.pinnedAt }
    await this.#datastore.put(keyOf(pin.cid), encoder.encode(JSON.stringify(record)), abortOptions(options))
  }

  async delete(cid: CID, options?: Options): Promise<void> {
    await this.#datastore.delete(keyOf(cid), abortOptions(options))
  }

  async has(cid: CID, options?: Options): Promise<boolean> {
    return this.#datastore.has(keyOf(cid), abortOptions(options))
  }

  async *list(options?: Options): AsyncGenerator<Pin> {
    for await (const { key, value } of this.#datastore.query({ prefix: PREFIX }, abortOptions(options))) {
      const name = key.baseNamespace()
      const cid = CID.parse(name)
      const record = JSON.parse(decoder.decode(value)) as Omit<Pin, 'cid'>
      yield { cid, type: record.type, size: record.size, pinnedAt: record.pinnedAt }
    }
  }
}
