import { spawn } from 'node:child_process'
import { readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { CID } from 'multiformats/cid'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { createBlobStore } from '../../src/storage/index.js'
import { blockFiles, collect, MiB, random, tempDirectory, toArray } from './helpers.js'

const HOOKS = path.join(import.meta.dirname, 'ts-hooks.mjs')
const CHILD = path.join(import.meta.dirname, 'crash-child.ts')

let dir: { path: string; remove: () => Promise<void> }

beforeEach(async () => {
  dir = await tempDirectory()
})

afterEach(async () => {
  await dir.remove()
})

it('an acknowledged add survives kill -9 right after it resolved', async () => {
  expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(23)
  const input = random(5 * MiB + 3)
  const inputFile = path.join(dir.path, 'input.bin')
  await writeFile(inputFile, input)
  const storeDir = path.join(dir.path, 'store')

  const child = spawn(process.execPath, ['--import', HOOKS, CHILD, storeDir, inputFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (data) => {
    stderr += String(data)
  })
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_, signal) => resolve(signal)),
  )
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', () => reject(new Error(`child exited before acknowledging: ${stderr}`)))
  })
  // Killed shortly after it acknowledged, while a second upload is writing blocks.
  await new Promise((resolve) => setTimeout(resolve, 300))
  child.kill('SIGKILL')
  expect(await exited).toBe('SIGKILL')
  const acknowledged = JSON.parse(line) as { cid: string; block: string }

  // The lock the killed process left behind is taken over.
  const store = await createBlobStore({ directory: storeDir })
  try {
    const cid = CID.parse(acknowledged.cid)
    expect(Buffer.from(await collect(store.cat(cid))).equals(Buffer.from(input))).toBe(true)
    expect(await store.has(CID.parse(acknowledged.block))).toBe(true)
    const pins = (await toArray(store.pins())).map((pin) => pin.cid.toString()).sort()
    expect(pins).toEqual([acknowledged.cid, acknowledged.block].sort())

    const before = (await blockFiles(storeDir)).length
    const { removedBlocks } = await store.gc()
    // The interrupted upload left blocks; gc removes exactly those.
    expect(removedBlocks).toBeGreaterThan(0)
    expect((await blockFiles(storeDir)).length).toBe(before - removedBlocks)
    // Temp files of writes the kill interrupted are gone too.
    const files = await readdir(storeDir, { recursive: true })
    expect(files.filter((name) => name.endsWith('.tmp'))).toEqual([])
    expect(Buffer.from(await collect(store.cat(cid))).equals(Buffer.from(input))).toBe(true)
  } finally {
    await store.stop()
  }
})
