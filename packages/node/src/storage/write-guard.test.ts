import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { blockKey, WriteGuard } from './write-guard.js'

const cidOf = async (n: number) => CID.createV1(raw.code, await sha256.digest(new Uint8Array([n])))

describe('WriteGuard', () => {
  it('protects a block from its first put until release', async () => {
    const guard = new WriteGuard()
    const cid = await cidOf(1)
    const write = guard.begin()
    await write.put(cid, async () => {})
    expect(await guard.deleteUnlessProtected(blockKey(cid), async () => {})).toBe(false)
    write.release()
    expect(await guard.deleteUnlessProtected(blockKey(cid), async () => {})).toBe(true)
  })

  it('keeps protection released during a gc run until that run ends', async () => {
    const guard = new WriteGuard()
    const cid = await cidOf(2)
    const write = guard.begin()
    await write.put(cid, async () => {})
    let finishGc!: () => void
    const results: boolean[] = []
    const gc = guard.runGc(async () => {
      await new Promise<void>((resolve) => {
        finishGc = resolve
      })
      // The write finished (and released) while this run was marking: its pin may not be in this run's
      // live set, so its blocks must stay protected.
      results.push(await guard.deleteUnlessProtected(blockKey(cid), async () => {}))
    })
    await Promise.resolve()
    write.release()
    finishGc()
    await gc
    expect(results).toEqual([false])
    expect(await guard.deleteUnlessProtected(blockKey(cid), async () => {})).toBe(true)
  })

  it('makes a writer wait for a deletion of the same block in progress', async () => {
    const guard = new WriteGuard()
    const cid = await cidOf(3)
    const order: string[] = []
    let finishDelete!: () => void
    const deleting = guard.deleteUnlessProtected(
      blockKey(cid),
      () =>
        new Promise<void>((resolve) => {
          finishDelete = () => {
            order.push('deleted')
            resolve()
          }
        }),
    )
    const write = guard.begin()
    const put = write.put(cid, async () => {
      order.push('written')
    })
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(order).toEqual([])
    finishDelete()
    await Promise.all([deleting, put])
    expect(order).toEqual(['deleted', 'written'])
    write.release()
  })

  it('refuses puts after close and waits for those in flight', async () => {
    const guard = new WriteGuard()
    const write = guard.begin()
    let landed = false
    let started!: () => void
    const begun = new Promise<void>((resolve) => {
      started = resolve
    })
    const slow = write.put(await cidOf(4), async () => {
      started()
      await new Promise((resolve) => setTimeout(resolve, 20))
      landed = true
    })
    await begun
    await write.close()
    expect(landed).toBe(true)
    await slow
    await expect(write.put(await cidOf(5), async () => {})).rejects.toThrow('write closed')
    write.release()
  })

  it('shares one gc run between concurrent callers', async () => {
    const guard = new WriteGuard()
    let runs = 0
    const gc = async () => {
      runs++
      await new Promise((resolve) => setTimeout(resolve, 10))
      return runs
    }
    const [a, b] = await Promise.all([guard.runGc(gc), guard.runGc(gc)])
    expect([a, b, runs]).toEqual([1, 1, 1])
    expect(await guard.runGc(gc)).toBe(2)
  })
})
