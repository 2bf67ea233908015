import { open, readFile, unlink } from 'node:fs/promises'
import path from 'node:path'
import { fsyncDirectory } from './durable-fs.js'
import { StoreLockedError } from './errors.js'

// gc is only safe when one process writes the store: another writer's fresh blocks would look like
// garbage. A pid file is enough on one machine; a lock left by a killed process is taken over.

const heldHere = new Set<string>()

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes `<directory>/repo.lock`; resolves to its release function. */
export async function acquireDirectoryLock(directory: string): Promise<() => Promise<void>> {
  const resolved = path.resolve(directory)
  const file = path.join(resolved, 'repo.lock')
  if (heldHere.has(resolved)) throw new StoreLockedError({ directory: resolved, pid: process.pid })
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o644)
      try {
        await handle.writeFile(`${process.pid}\n`)
        await handle.sync()
      } finally {
        await handle.close()
      }
      await fsyncDirectory(resolved)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error
      const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10)
      // Our own pid in a lock this process does not hold is a stale lock from a reused pid.
      if (Number.isSafeInteger(pid) && pid !== process.pid && isAlive(pid)) {
        throw new StoreLockedError({ directory: resolved, pid })
      }
      await unlink(file).catch(() => {})
    }
  }
  heldHere.add(resolved)
  return async () => {
    if (!heldHere.delete(resolved)) return
    await unlink(file).catch(() => {})
  }
}
