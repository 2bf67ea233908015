import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { MeasureBlobStoreReturnType } from '../../src/storage/measure-memory.js'
import { tempDirectory } from './helpers.js'

const HOOKS = path.join(import.meta.dirname, 'ts-hooks.mjs')
const SCRIPT = path.resolve(import.meta.dirname, '../../src/storage/measure-memory.ts')

let dir: { path: string; remove: () => Promise<void> }

beforeEach(async () => {
  dir = await tempDirectory()
})

afterEach(async () => {
  await dir.remove()
})

it('streams 256 MiB in and out with memory far below the content size', async () => {
  // A separate process, so that maxRSS is this run's alone. Throughput is reported, not asserted.
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', HOOKS, SCRIPT, '256', dir.path],
    {
      maxBuffer: 1024 * 1024,
    },
  )
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as MeasureBlobStoreReturnType
  console.info('storage measurement (256 MiB):', result)
  expect(result.roundtripOk).toBe(true)
  expect(result.bytes).toBe(256 * 1024 * 1024)
  // Growth over the idle store stays a fraction of the 256 MiB streamed through it.
  expect(result.maxRssMiB - result.baselineRssMiB).toBeLessThan(160)
})
