import { createHash, randomFillSync } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { createBlobStore } from './create-blob-store.js'

// Streams generated data through the embedded store and back, reporting throughput and memory.
//   npm run build && node packages/node/dist/storage/measure-memory.js [MiB=1024] [directory]
// Prints one JSON line. Peak RSS is the process's lifetime maximum (`process.resourceUsage().maxRSS`);
// the per-phase peaks come from sampling RSS every 20 ms.

export type MeasureBlobStoreParameters = {
  /** Bytes to stream in and out. */
  bytes: number
  /** Store directory (a fresh temp directory, removed afterwards, by default). */
  directory?: string | undefined
  /** Size of the pieces the generated source yields. */
  pieceSize?: number | undefined
}

export type MeasureBlobStoreReturnType = {
  bytes: number
  /** RSS with the store open and idle: the modules (Helia, viem via @pcmims/core) and their heap. */
  baselineRssMiB: number
  addMiBps: number
  catMiBps: number
  addPeakRssMiB: number
  catPeakRssMiB: number
  maxRssMiB: number
  roundtripOk: boolean
}

const MiB = 1024 * 1024

async function* generate(bytes: number, pieceSize: number, hash: ReturnType<typeof createHash>) {
  for (let sent = 0; sent < bytes; sent += pieceSize) {
    // A fresh buffer per piece: the importer keeps references to pieces until their block is written.
    const piece = randomFillSync(new Uint8Array(Math.min(pieceSize, bytes - sent)))
    hash.update(piece)
    yield piece
  }
}

function sampleRss(): { stop(): number } {
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 20)
  return {
    stop() {
      clearInterval(timer)
      return Math.max(peak, process.memoryUsage.rss())
    },
  }
}

export async function measureBlobStore({
  bytes,
  directory,
  pieceSize = 256 * 1024,
}: MeasureBlobStoreParameters): Promise<MeasureBlobStoreReturnType> {
  const root = directory ?? (await mkdtemp(path.join(tmpdir(), 'pcmims-measure-')))
  const store = await createBlobStore({ directory: root })
  try {
    const baseline = process.memoryUsage.rss()
    const inHash = createHash('sha256')
    const addRss = sampleRss()
    let started = performance.now()
    const { cid, size } = await store.add(generate(bytes, pieceSize, inHash))
    const addSeconds = (performance.now() - started) / 1000
    const addPeak = addRss.stop()

    const outHash = createHash('sha256')
    const catRss = sampleRss()
    started = performance.now()
    let read = 0
    for await (const piece of store.cat(cid)) {
      outHash.update(piece)
      read += piece.byteLength
    }
    const catSeconds = (performance.now() - started) / 1000
    const catPeak = catRss.stop()

    const round = (n: number) => Math.round(n * 10) / 10
    return {
      bytes: size,
      baselineRssMiB: round(baseline / MiB),
      addMiBps: round(bytes / MiB / addSeconds),
      catMiBps: round(read / MiB / catSeconds),
      addPeakRssMiB: round(addPeak / MiB),
      catPeakRssMiB: round(catPeak / MiB),
      maxRssMiB: round((process.resourceUsage().maxRSS * 1024) / MiB),
      roundtripOk: read === bytes && inHash.digest('hex') === outHash.digest('hex'),
    }
  } finally {
    await store.stop()
    if (directory === undefined) await rm(root, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mebibytes = Number(process.argv[2] ?? 1024)
  const result = await measureBlobStore({ bytes: mebibytes * MiB, directory: process.argv[3] })
  console.log(JSON.stringify(result))
}
