import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { acquireDirectoryLock } from './directory-lock.js'
import { StoreLockedError } from './errors.js'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pcmims-lock-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

it('is exclusive within a process and can be taken again after release', async () => {
  const release = await acquireDirectoryLock(dir)
  expect((await readFile(path.join(dir, 'repo.lock'), 'utf8')).trim()).toBe(String(process.pid))
  await expect(acquireDirectoryLock(dir)).rejects.toBeInstanceOf(StoreLockedError)
  await release()
  const again = await acquireDirectoryLock(dir)
  await again()
})

it('refuses a lock held by another live process', async () => {
  // pid 1 is always alive.
  await writeFile(path.join(dir, 'repo.lock'), '1\n')
  const error = await acquireDirectoryLock(dir).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(StoreLockedError)
  expect((error as StoreLockedError).code).toBe('STORE_LOCKED')
})

it('takes over a lock left by a dead process or by a reused pid', async () => {
  // Above the kernel's pid_max (at most 2^22), so no process has it.
  await writeFile(path.join(dir, 'repo.lock'), '99999999\n')
  await (await acquireDirectoryLock(dir))()
  await writeFile(path.join(dir, 'repo.lock'), `${process.pid}\n`)
  await (await acquireDirectoryLock(dir))()
})
