// Child process for crash.test.ts: stores a file and a DAG-CBOR block, reports their CIDs on stdout once
// `add` and `putBlock` resolved, then starts an endless upload and waits to be killed with SIGKILL.
import { createReadStream } from 'node:fs'
import * as dagCbor from '@ipld/dag-cbor'
import { createBlobStore } from '../../src/storage/index.js'

const [directory, inputFile] = process.argv.slice(2) as [string, string]
const store = await createBlobStore({ directory })
const { cid } = await store.add(createReadStream(inputFile))
const block = await store.putBlock(dagCbor.encode({ envelope: cid }), { codec: 'dag-cbor' })
process.stdout.write(`${JSON.stringify({ cid: cid.toString(), block: block.toString() })}\n`)

async function* endless() {
  for (let i = 0; ; i++) {
    yield new Uint8Array(256 * 1024).fill(i % 251)
    await new Promise((resolve) => setImmediate(resolve))
  }
}
await store.add(endless())
