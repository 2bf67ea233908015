import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import {
  closeRecord,
  decodePcmimsLogs,
  listRecords,
  openRecord,
  type PcmimsClient,
  readRecordFile,
  uploadRecord,
} from '@pcmims/core'
import type { TestIdentity } from '@pcmims/test-utils'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ChildNode,
  clientFor,
  type DevIdentities,
  devIdentities,
  freePort,
  isAlive,
  jsonRpc,
  killEverything,
  startChildNode,
  waitForOutboxDrained,
  waitUntilDead,
} from './child-node.js'
import { collect, memoryFile } from './helpers.js'

// kill -9 of the node while several clients upload, then a restart on the same data dir and ports:
// every acknowledged upload must be listed, retrievable byte for byte, and anchored exactly once
// (DESIGN principle 5). Kill timings are random; the outcome must not be.

/** Seeded, so that a failure can be replayed: the seed is in every assertion message. */
const SEED = Number(process.env.PCMIMS_CRASH_SEED ?? Date.now() % 2 ** 31)
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const random = mulberry32(SEED)
const randomInt = (min: number, max: number) => min + Math.floor(random() * (max - min + 1))

const CLIENTS = 4

type Attempt = { tag: string; bytes: Uint8Array; waitForAnchor: boolean }
type Ack = { tag: string; recordId: Hex; status: string; round: string }

/** When to pull the plug, once uploads are under way. */
type Trigger =
  /** After `acks` acknowledgements, plus a random delay (uploads are always in flight: clients loop). */
  | { kind: 'after-acks'; acks: number; delayMs: number }
  /** Synchronously in the callback of the first acknowledgement with this status. */
  | { kind: 'on-ack'; status: 'confirmed' | 'queued' }

type Round = {
  name: string
  /** Kill anvil too (one kill(2) on the process group): the chain comes back from its last state dump. */
  withChain: boolean
  trigger: Trigger
  /** Before restarting, put back an older copy of the chain state (taken mid-round), or none at all. */
  restoreChain?: 'older-snapshot' | 'nothing'
}

describe('kill -9 of the node during uploads', () => {
  let dataDir: string
  let port: number
  let chainPort: number
  let node: ChildNode | undefined
  let ids: DevIdentities
  const attempts = new Map<string, Attempt>()
  const acks: Ack[] = []
  const timings: string[] = []

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pcmims-crash-'))
    port = await freePort()
    chainPort = await freePort()
    node = await startChildNode({ dataDir, port, chainPort })
    ids = await devIdentities(node.info)
  })

  afterAll(async () => {
    if (node) killEverything(node.pid, dataDir)
    await node?.exited
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
    console.info(`crash-recovery seed ${SEED}\n${timings.join('\n')}`)
  })

  const rounds: Round[] = [
    { name: 'node only, at a random moment', withChain: false, trigger: afterAcks() },
    { name: 'node and chain, at a random moment', withChain: true, trigger: afterAcks() },
    {
      name: 'node and chain, right after a "confirmed" acknowledgement',
      withChain: true,
      trigger: { kind: 'on-ack', status: 'confirmed' },
    },
    {
      name: 'node only, right after an outbox ("queued") acknowledgement',
      withChain: false,
      trigger: { kind: 'on-ack', status: 'queued' },
    },
    {
      name: 'node and chain, the chain restored from an older state (like a reorg)',
      withChain: true,
      trigger: afterAcks(3),
      restoreChain: 'older-snapshot',
    },
    {
      name: 'node and chain, the chain state lost entirely (contract gone)',
      withChain: true,
      trigger: afterAcks(),
      restoreChain: 'nothing',
    },
  ]

  for (const [index, round] of rounds.entries()) {
    it(`round ${index + 1}: ${round.name}`, async () => {
      const started = Date.now()
      const label = `r${index + 1}`
      const current = node as ChildNode
      const info = current.info
      const uploaders = await Promise.all(
        Array.from({ length: CLIENTS }, () => clientFor(info, ids.uploader as TestIdentity)),
      )
      const abort = new AbortController()
      let acked = 0
      let inFlight = 0
      let inFlightAtKill = -1
      let killed = false
      let snapshotTaken = false
      let snapshotBlock: bigint | undefined
      let confirmedAfterSnapshot = false
      const snapshot = join(dataDir, 'chain', `older-state-${label}.json`)
      let armed = false
      /** The after-acks trigger fires once enough happened for the round to test what it claims to. */
      const maybeArm = () => {
        const trigger = round.trigger
        if (armed || killed || trigger.kind !== 'after-acks' || acked < trigger.acks) return
        // Rounds that expect the node to find lost anchors need one it had confirmed before the kill
        // (and, for the older snapshot, one the snapshot does not have).
        if (round.restoreChain === 'older-snapshot' && !confirmedAfterSnapshot) return
        if (round.restoreChain === 'nothing' && !acks.some((a) => a.status === 'confirmed')) return
        armed = true
        setTimeout(kill, trigger.delayMs)
      }

      const kill = () => {
        if (killed) return
        killed = true
        inFlightAtKill = inFlight
        // One synchronous kill(2): nothing runs between the acknowledgement and the kill.
        process.kill(round.withChain ? -current.pid : current.pid, 'SIGKILL')
      }

      const loop = async (client: PcmimsClient, c: number) => {
        for (let n = 0; !killed; n++) {
          const tag = `${label}-c${c}-u${n}.bin`
          const bytes = globalThis.crypto.getRandomValues(new Uint8Array(randomInt(1, 48 * 1024)))
          // Half the clients take the outbox's acknowledgement (202 queued), half wait for the chain.
          const waitForAnchor = c % 2 === 0
          attempts.set(tag, { tag, bytes, waitForAnchor })
          inFlight++
          let result: Awaited<ReturnType<typeof uploadRecord>>
          try {
            result = await uploadRecord(client, {
              patient: (ids.patient as TestIdentity).account.address,
              kind: 'OTHER',
              files: [memoryFile(tag, bytes, 'application/octet-stream')],
              description: `crash test ${tag}`,
              waitForAnchor,
              signal: abort.signal,
            })
          } catch (error) {
            inFlight--
            if (!killed) throw error
            return // the node is gone: this upload was not acknowledged
          }
          inFlight--
          // Even an answer that arrives after we decided to kill is an acknowledgement the node gave.
          acks.push({ tag, recordId: result.recordId, status: result.status, round: label })
          if (killed) return
          acked++
          const trigger = round.trigger
          if (trigger.kind === 'on-ack' && result.status === trigger.status) kill()
          if (round.restoreChain === 'older-snapshot') {
            if (!snapshotTaken) {
              snapshotTaken = true
              // The chain as it is now, in the format of anvil's --state file: restored after the
              // kill, it is older than what the node saw (it lacks every anchor made after this).
              const hex = await jsonRpc<string>(info.rpcUrl, 'anvil_dumpState')
              const json = gunzipSync(Buffer.from(hex.slice(2), 'hex'))
              const state = JSON.parse(json.toString('utf8')) as { block: { number: string } }
              await writeFile(snapshot, json)
              snapshotBlock = BigInt(state.block.number)
            } else if (snapshotBlock !== undefined && result.status === 'confirmed' && result.txHash) {
              const receipt = await jsonRpc<{ blockNumber: Hex }>(info.rpcUrl, 'eth_getTransactionReceipt', [
                result.txHash,
              ]).catch(() => undefined)
              if (receipt && BigInt(receipt.blockNumber) > snapshotBlock) confirmedAfterSnapshot = true
            }
          }
          maybeArm()
        }
      }

      let loopError: unknown
      const loops = uploaders.map((client, c) =>
        loop(client, c).catch((error: unknown) => {
          // A failure before the kill is a bug in itself: stop everything and report it.
          loopError ??= error
          kill()
        }),
      )
      const watchdog = setTimeout(kill, 20_000)
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (killed) {
            clearInterval(poll)
            resolve()
          }
        }, 5)
      })
      clearTimeout(watchdog)
      abort.abort()
      await Promise.all(loops)
      if (loopError) throw loopError
      await current.exited
      if (round.withChain) await waitUntilDead(current.anvilPid)
      expect(killed, `seed ${SEED}`).toBe(true)
      expect(inFlightAtKill, `uploads in flight at the kill (seed ${SEED})`).toBeGreaterThan(0)
      const roundAcks = acks.filter((a) => a.round === label)
      expect(roundAcks.length, `seed ${SEED}`).toBeGreaterThan(0)

      const anvilSurvived = !round.withChain && isAlive(current.anvilPid)
      if (!round.withChain) {
        // The orphaned anvil is still serving: the restart has to deal with it.
        expect(anvilSurvived, `the orphaned anvil ${current.anvilPid} (seed ${SEED})`).toBe(true)
      }
      if (round.restoreChain === 'older-snapshot') {
        expect(confirmedAfterSnapshot, `seed ${SEED}`).toBe(true)
        await copyFile(snapshot, join(dataDir, 'chain', 'state.json'))
      } else if (round.restoreChain === 'nothing') {
        await rm(join(dataDir, 'chain', 'state.json'), { force: true })
      }

      const killedAt = Date.now()
      node = await startChildNode({ dataDir, port, chainPort })
      const restartMs = Date.now() - killedAt
      if (!round.withChain) expect(isAlive(current.anvilPid), 'the stale anvil was stopped').toBe(false)
      const health = await waitForOutboxDrained(node.info.url)
      const said = (msg: string) => (node as ChildNode).logs.some((l) => l.msg === msg)
      if (round.restoreChain === 'older-snapshot') {
        // The scenario really happened: the restored chain lacked anchors the node had confirmed.
        expect(said('the chain lost anchors; re-submitting them'), `seed ${SEED}`).toBe(true)
      }
      if (round.restoreChain === 'nothing') {
        expect(said('the chain lost the contract: deploying again'), `seed ${SEED}`).toBe(true)
        expect(said('the chain lost anchors; re-submitting them'), `seed ${SEED}`).toBe(true)
      }
      expect(health.outbox.failed, `outbox failures (seed ${SEED})`).toBe(0)

      await verifyEverything(node, ids, attempts, acks)
      timings.push(
        `${label} ${round.name}: ${roundAcks.length} acknowledged (${roundAcks.map((a) => a.status).join(',')}), ` +
          `${inFlightAtKill} in flight at the kill, restart ${restartMs} ms, round ${Date.now() - started} ms`,
      )
    })
  }
})

function afterAcks(atLeast = 1): Trigger {
  return { kind: 'after-acks', acks: randomInt(atLeast, 6), delayMs: randomInt(0, 400) }
}

/** Every acknowledged upload (of every round so far) is listed, byte-exact, and anchored exactly once; nothing is half there. */
async function verifyEverything(
  node: ChildNode,
  ids: DevIdentities,
  attempts: Map<string, Attempt>,
  acks: Ack[],
): Promise<void> {
  const patient = await clientFor(node.info, ids.patient as TestIdentity)
  const listed = await listRecords(patient)
  const listedIds = new Set(listed.map((r) => r.id.toLowerCase()))

  const logs = await patient.publicClient.getLogs({
    address: node.info.contract,
    fromBlock: 0n,
    toBlock: 'latest',
  })
  const anchoredCount = new Map<string, number>()
  for (const event of decodePcmimsLogs(logs, { address: node.info.contract })) {
    if (event.eventName !== 'RecordAnchored') continue
    const id = event.args.id.toLowerCase()
    anchoredCount.set(id, (anchoredCount.get(id) ?? 0) + 1)
  }

  for (const ack of acks) {
    const id = ack.recordId.toLowerCase()
    expect(listedIds.has(id), `acknowledged ${ack.tag} (${ack.status}) ${id} is listed (seed ${SEED})`).toBe(
      true,
    )
    expect(anchoredCount.get(id) ?? 0, `RecordAnchored events for ${ack.tag} (seed ${SEED})`).toBe(1)
  }
  // Nothing anchored for this patient that the listing misses, and nothing anchored twice.
  for (const [id, count] of anchoredCount) {
    expect(count, `RecordAnchored events for ${id} (seed ${SEED})`).toBe(1)
    expect(listedIds.has(id), `anchored ${id} is listed (seed ${SEED})`).toBe(true)
  }
  // Every listed record, acknowledged or not, is whole: it opens and returns exactly what was sent.
  const ackedByTag = new Map(acks.map((a) => [a.tag, a]))
  const seenTags = new Set<string>()
  for (const summary of listed) {
    const record = await openRecord(patient, { recordId: summary.id })
    try {
      expect(record.manifest.files, `seed ${SEED}`).toHaveLength(1)
      const file = record.manifest.files[0] as (typeof record.manifest.files)[number]
      const attempt = attempts.get(file.path)
      expect(attempt, `listed record ${summary.id} is one of ours (seed ${SEED})`).toBeDefined()
      const bytes = await collect(readRecordFile(patient, { record, file }))
      expect(Buffer.from(bytes).equals(Buffer.from((attempt as Attempt).bytes)), `${file.path} bytes`).toBe(
        true,
      )
      const ack = ackedByTag.get(file.path)
      if (ack)
        expect(ack.recordId.toLowerCase(), `${file.path} id (seed ${SEED})`).toBe(summary.id.toLowerCase())
      expect(seenTags.has(file.path), `${file.path} listed once (seed ${SEED})`).toBe(false)
      seenTags.add(file.path)
    } finally {
      closeRecord(record)
    }
  }
}
