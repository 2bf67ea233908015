import { randomBytes } from 'node:crypto'
import {
  closeRecord,
  createGrant,
  createNodeClient,
  declareEmergency,
  decodePcmimsLogs,
  encodeDagCborBlock,
  NodeRequestError,
  openRecord,
  readRecordFile,
  requestAccess,
  rotateRecordKey,
  type UploadRecordReturnType,
  uploadRecord,
} from '@pcmims/core'
import { startTestChain, type TestChain } from '@pcmims/test-utils'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { Address, Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deployContractWallet } from './contract-wallet.js'
import { collect, memoryFile } from './helpers.js'
import { type RpcNode, startRpcNode } from './rpc-node.js'
import { startTcpForwarder, type TcpForwarder } from './tcp-forwarder.js'

// DESIGN principle 5 and the fail-closed rule, with the chain taken away from a node in rpc mode: the
// node reaches anvil only through a TCP forwarder the test cuts (connections refused, open ones
// reset) and restores on the same port. anvil itself keeps running and keeps its state; the test
// reads it directly, never through the node.

const POLL_MS = 100

const random = (size: number) => new Uint8Array(randomBytes(size))

type Problem = { status: number; code?: string }
type OutboxState = 'queued' | 'submitted' | 'confirmed' | 'failed'
type Party = Awaited<ReturnType<RpcNode['participant']>>

describe('the chain RPC goes away and comes back', () => {
  let chain: TestChain
  let forwarder: TcpForwarder
  let rpc: RpcNode
  let patient: Party
  let uploader: Party
  let medic: Party
  let requestor: Party
  let wallet: Address
  let walletOwner: Party
  let record: UploadRecordReturnType
  let recordBytes: Uint8Array
  const tokens = new Map<string, string>()
  const contents = new Map<Hex, Uint8Array>()

  const anvil = (method: string, params: unknown[] = []) =>
    chain.publicClient.request({ method: method as never, params: params as never }) as Promise<unknown>

  beforeAll(async () => {
    chain = await startTestChain()
    forwarder = await startTcpForwarder({ target: chain.rpcUrl })
    rpc = await startRpcNode({
      chain,
      rpcUrl: forwarder.url,
      config: { outbox: { batchSize: 20, pollMs: POLL_MS }, indexer: { pollMs: POLL_MS } },
    })
    ;[patient, uploader, medic, requestor] = [
      await rpc.participant('Patient'),
      await rpc.participant('Uploader'),
      await rpc.participant('Medic'),
      await rpc.participant('Requestor'),
    ]
    recordBytes = random(300_000)
    record = await uploadRecord(uploader.client, {
      patient: patient.account.address,
      kind: 'CT',
      files: [memoryFile('ct/IM0001.dcm', recordBytes)],
    })
    expect(record.status).toBe('confirmed')
    contents.set(record.recordId, recordBytes)
    await createGrant(patient.client, {
      grantee: medic.account.address,
      expiresAt: (await chain.now()) + 86_400,
      download: true,
    })
    await declareEmergency(medic.client.walletClient, {
      contract: chain.contract,
      patient: patient.account.address,
      reasonCode: 1,
      durationSeconds: 3600,
    })
    await requestAccess(requestor.client.walletClient, {
      contract: chain.contract,
      patient: patient.account.address,
      scope: 'All',
      purpose: 'Research',
    })
    // A contract wallet (ERC-1271) owned by a fresh key: its sign-in needs the chain to check.
    walletOwner = await rpc.participant('Patient')
    wallet = await deployContractWallet({
      rpcUrl: chain.rpcUrl,
      deployer: chain.governance,
      owner: walletOwner.account.address,
    })
    for (const [name, who] of [
      ['patient', patient],
      ['uploader', uploader],
      ['medic', medic],
      ['requestor', requestor],
      ['unit', rpc.unit],
    ] as const) {
      tokens.set(name, (await who.client.node.signIn()).token)
    }
  })

  afterAll(async () => {
    await forwarder?.restore()
    await rpc?.stop()
    await forwarder?.close()
    await chain?.stop()
  })

  function get(who: string, path: string): Promise<Response> {
    const token = tokens.get(who)
    return fetch(`${rpc.node.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {})
  }

  /** Every read a signed-in patient, medic, requestor or unit admin makes, by label. */
  function readRoutes(): Array<[string, string, string]> {
    const p = patient.account.address
    const m = medic.account.address
    const id = record.recordId
    const blob = record.files[0]!.cid
    return [
      ['patient lists own records', 'patient', '/api/v1/records'],
      ['medic lists the patient (grant)', 'medic', `/api/v1/records?patient=${p}`],
      ['patient record metadata', 'patient', `/api/v1/records/${id}`],
      ['medic record metadata', 'medic', `/api/v1/records/${id}`],
      ['patient ciphertext', 'patient', `/api/v1/records/${id}/blobs/${blob}`],
      ['medic ciphertext', 'medic', `/api/v1/records/${id}/blobs/${blob}`],
      ['patient decrypted manifest', 'patient', `/api/v1/records/${id}/decrypted`],
      ['patient decrypted file', 'patient', `/api/v1/records/${id}/decrypted/files/0`],
      ['medic decrypted manifest', 'medic', `/api/v1/records/${id}/decrypted`],
      ['patient grants', 'patient', '/api/v1/grants'],
      ['medic own grant', 'medic', `/api/v1/grants?patient=${p}&grantee=${m}`],
      ['uploader standing grants', 'uploader', `/api/v1/grants?patient=${p}`],
      ['patient key bundle', 'patient', `/api/v1/grants/${p}/${m}/bundle`],
      ['medic key bundle', 'medic', `/api/v1/grants/${p}/${m}/bundle`],
      ['patient emergencies', 'patient', '/api/v1/emergencies'],
      ['medic emergencies', 'medic', '/api/v1/emergencies'],
      ['patient requests', 'patient', '/api/v1/requests'],
      ['requestor requests', 'requestor', '/api/v1/requests'],
      ['participant lookup', 'anyone', `/api/v1/participants/${p}`],
      ['unit registrations', 'unit', `/api/v1/units/${rpc.unit.account.address}/participants`],
    ]
  }

  async function observe(response: Response): Promise<Problem> {
    if (response.ok) {
      await response.arrayBuffer()
      return { status: response.status }
    }
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    const body = (await response.json()) as { code?: string; status?: number }
    // The body says what the status line says.
    expect(body.status).toBe(response.status)
    return { status: response.status, code: body.code as string }
  }

  async function observeAll(): Promise<Record<string, Problem>> {
    const observed: Record<string, Problem> = {}
    for (const [label, who, path] of readRoutes()) observed[label] = await observe(await get(who, path))
    return observed
  }

  /** Transactions the node sent to the chain so far (through the forwarder). */
  function sends(): number {
    return forwarder.methods.filter((m) => m === 'eth_sendRawTransaction').length
  }

  function count(table: 'blobs' | 'outbox' | 'record_blobs'): number {
    return (rpc.node.context.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
  }

  function outboxState(id: Hex): OutboxState | undefined {
    return rpc.node.context.outbox.get(id)?.state
  }

  async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 90_000) {
    const started = Date.now()
    while (!(await check())) {
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** A fetch that cuts the chain RPC just before it sends a POST to `path` (kept in `sent`). */
  function cutBefore(path: string) {
    const out: { fetch: typeof fetch; sent?: { body: string; headers: HeadersInit } } = {
      fetch: async (input, init) => {
        const url = new URL(input instanceof Request ? input.url : String(input))
        if (init?.method === 'POST' && url.pathname === path) {
          out.sent = { body: String(init.body), headers: init.headers as HeadersInit }
          await forwarder.cut()
        }
        return fetch(input, init)
      },
    }
    return out
  }

  function problemOf(error: unknown): Problem | unknown {
    return error instanceof NodeRequestError ? { status: error.status, code: error.code } : error
  }

  /** The CID of the envelope in a record submission's JSON body. */
  async function envelopeCidOf(body: string | undefined): Promise<CID> {
    const { envelope } = JSON.parse(body as string) as { envelope: string }
    return CID.createV1(0x71, await sha256.digest(Buffer.from(envelope, 'base64')))
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

  /** RecordAnchored events per record id, read from anvil directly. */
  async function anchoredOnChain(): Promise<Map<string, number>> {
    const logs = await chain.publicClient.getLogs({
      address: chain.contract,
      fromBlock: 0n,
      toBlock: 'latest',
    })
    const counts = new Map<string, number>()
    for (const event of decodePcmimsLogs(logs, { address: chain.contract })) {
      if (event.eventName !== 'RecordAnchored') continue
      const id = event.args.id.toLowerCase()
      counts.set(id, (counts.get(id) ?? 0) + 1)
    }
    return counts
  }

  async function expectAnchoredOnceAndWhole(ids: Hex[]): Promise<void> {
    const anchored = await anchoredOnChain()
    for (const id of ids) expect(anchored.get(id.toLowerCase()), `RecordAnchored events for ${id}`).toBe(1)
    for (const [id, n] of anchored) expect(n, `RecordAnchored events for ${id}`).toBe(1)
    for (const id of ids) {
      const opened = await openRecord(patient.client, { recordId: id })
      const bytes = await collect(
        readRecordFile(patient.client, { record: opened, file: opened.manifest.files[0]! }),
      )
      closeRecord(opened)
      expect(Buffer.from(bytes).equals(Buffer.from(contents.get(id)!)), `content of ${id}`).toBe(true)
    }
  }

  async function upload(tag: string, waitForAnchor: boolean): Promise<UploadRecordReturnType> {
    const bytes = random(20_000 + Math.floor(Math.random() * 50_000))
    const result = await uploadRecord(uploader.client, {
      patient: patient.account.address,
      kind: 'OTHER',
      files: [memoryFile(`${tag}.bin`, bytes, 'application/octet-stream')],
      waitForAnchor,
    })
    contents.set(result.recordId, bytes)
    return result
  }

  it('reads fail closed with 503 CHAIN_UNAVAILABLE, health is degraded; all serve again once it is back', async () => {
    const before = await observeAll()
    for (const [label, problem] of Object.entries(before)) expect(problem, label).toEqual({ status: 200 })

    await forwarder.cut()
    const during = await observeAll()
    const expected = Object.fromEntries(
      Object.keys(during).map((label) => [label, { status: 503, code: 'CHAIN_UNAVAILABLE' }]),
    )
    expect(during).toEqual(expected)

    const health = await fetch(`${rpc.node.url}/api/v1/health`)
    expect(health.status).toBe(503)
    expect(await health.json()).toMatchObject({
      status: 'degraded',
      chain: { ok: false },
      ipfs: { ok: true },
    })

    // What needs no chain keeps working: the session itself, the node's static config, the uploader's
    // own upload status (the node's outbox is the source of truth for it), and the patient's audit
    // trail (the node's own log about the caller, which the reader checks against the chain itself).
    expect((await get('patient', '/api/v1/auth/session')).status).toBe(200)
    expect((await get('patient', '/api/v1/config')).status).toBe(200)
    const status = await get('uploader', `/api/v1/records/${record.recordId}/anchoring`)
    expect(status.status).toBe(200)
    expect(await status.json()).toMatchObject({ status: 'confirmed' })
    const audit = await get('patient', '/api/v1/audit')
    expect(audit.status).toBe(200)
    expect(await audit.json()).toMatchObject({ scope: 'patient' })

    // The chain relay answers in JSON-RPC terms: 200 with an error object, never a result.
    const relayed = await fetch(`${rpc.node.url}/api/v1/chain/rpc`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.get('patient')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
    })
    expect(relayed.status).toBe(200)
    expect(await relayed.json()).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32000, message: 'The chain cannot be reached' },
    })

    await forwarder.restore()
    await until('health ok', async () => (await fetch(`${rpc.node.url}/api/v1/health`)).status === 200)
    const after = await observeAll()
    for (const [label, problem] of Object.entries(after)) expect(problem, label).toEqual({ status: 200 })
  })

  it('sign-in of an EOA works without the chain (ECDSA recovery); its session still reads nothing', async () => {
    await forwarder.cut()
    try {
      const session = await createNodeClient({ url: rpc.node.url, account: patient.account }).signIn()
      expect(session.address).toBe(patient.account.address)
      const listed = await fetch(`${rpc.node.url}/api/v1/records`, {
        headers: { authorization: `Bearer ${session.token}` },
      })
      expect(await observe(listed)).toEqual({ status: 503, code: 'CHAIN_UNAVAILABLE' })
    } finally {
      await forwarder.restore()
    }
  })

  it('sign-in of a contract wallet (ERC-1271 needs the chain) is refused with 503 CHAIN_UNAVAILABLE, not 401', async () => {
    const signer = {
      address: wallet,
      signMessage: (args: { message: string }) => walletOwner.account.signMessage(args),
    }
    await forwarder.cut()
    let refused: unknown
    try {
      refused = await createNodeClient({ url: rpc.node.url, account: signer })
        .signIn()
        .catch((error: unknown) => error)
    } finally {
      await forwarder.restore()
    }
    // Refused either way (fail closed). But a 401 "the signature does not match the address" tells the
    // wallet its signature is bad and not to retry; the chain being away is a 503 (docs/architecture.md).
    // Back: the same wallet signs in.
    expect((await createNodeClient({ url: rpc.node.url, account: signer }).signIn()).address).toBe(wallet)
    expect(problemOf(refused)).toEqual({ status: 503, code: 'CHAIN_UNAVAILABLE' })
  })

  it('writes are refused with 503 before any acknowledgement and store nothing; a refused submission succeeds later', async () => {
    const counts = () => ({
      blobs: count('blobs'),
      outbox: count('outbox'),
      recordBlobs: count('record_blobs'),
    })
    await forwarder.cut()
    try {
      const start = counts()
      const blob = await fetch(`${rpc.node.url}/api/v1/blobs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tokens.get('uploader')}`,
          'content-type': 'application/octet-stream',
        },
        body: random(4096),
      })
      expect(await observe(blob)).toEqual({ status: 503, code: 'CHAIN_UNAVAILABLE' })

      const block = await encodeDagCborBlock({ test: 'key bundle', nonce: Math.random() })
      const put = await fetch(`${rpc.node.url}/api/v1/blocks/${block.cid}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${tokens.get('patient')}` },
        body: block.bytes as BufferSource,
      })
      expect(await observe(put)).toEqual({ status: 503, code: 'CHAIN_UNAVAILABLE' })
      expect(await rpc.node.context.store.has(block.cid)).toBe(false)

      // A whole upload: refused at its first request to the node that needs the chain, before any blob.
      const whole = await upload('refused-whole', false).catch((error: unknown) => error)
      expect(problemOf(whole)).toEqual({ status: 503, code: 'CHAIN_UNAVAILABLE' })
      expect(counts()).toEqual(start)
    } finally {
      await forwarder.restore()
    }

    // Resumable (tus) uploads: neither a new upload nor a chunk of one begun before the outage.
    const tus = { authorization: `Bearer ${tokens.get('uploader')}`, 'tus-resumable': '1.0.0' }
    const created = await fetch(`${rpc.node.url}/api/v1/uploads`, {
      method: 'POST',
      headers: { ...tus, 'upload-length': '4096' },
    })
    expect(created.status).toBe(201)
    const location = new URL(created.headers.get('location') as string, rpc.node.url).toString()
    const chunk = random(4096)
    const patch = () =>
      fetch(location, {
        method: 'PATCH',
        headers: { ...tus, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
        body: chunk,
      })
    await forwarder.cut()
    try {
      const refusedCreate = await fetch(`${rpc.node.url}/api/v1/uploads`, {
        method: 'POST',
        headers: { ...tus, 'upload-length': '4096' },
      })
      expect(await observe(refusedCreate)).toEqual({ status: 503, code: 'CHAIN_UNAVAILABLE' })
      expect(await observe(await patch())).toEqual({ status: 503, code: 'CHAIN_UNAVAILABLE' })
    } finally {
      await forwarder.restore()
    }
    const offset = await fetch(location, { method: 'HEAD', headers: tus })
    expect(offset.headers.get('upload-offset')).toBe('0')
    const completed = await patch()
    expect(completed.status).toBe(204)
    expect(completed.headers.get('pcmims-blob-cid')).toBeTruthy()

    // The submission itself: blobs go up while the chain is there, the chain goes away just before
    // the record is submitted.
    const submit = cutBefore('/api/v1/records')
    const beforeSubmit = counts()
    const bytes = random(40_000)
    try {
      const refused = await uploadRecord(await rpc.clientFor(uploader, { fetch: submit.fetch }), {
        patient: patient.account.address,
        kind: 'MRI',
        files: [memoryFile('refused-submit.bin', bytes, 'application/octet-stream')],
        waitForAnchor: false,
      }).catch((error: unknown) => error)
      expect(submit.sent).toBeDefined()
      expect(problemOf(refused)).toEqual({ status: 503, code: 'CHAIN_UNAVAILABLE' })
      // The file and manifest blobs were uploaded before the cut (orphans until submitted); the
      // submission stored nothing: no outbox row, no record link, no envelope block.
      expect(counts()).toEqual({ ...beforeSubmit, blobs: beforeSubmit.blobs + 2 })
      expect(await rpc.node.context.store.has(await envelopeCidOf(submit.sent?.body))).toBe(false)
    } finally {
      await forwarder.restore()
    }

    // A key rotation by the patient, the same way.
    const rotate = cutBefore(`/api/v1/records/${record.recordId}/rotate`)
    const beforeRotate = counts()
    try {
      const refused = await rotateRecordKey(await rpc.clientFor(patient, { fetch: rotate.fetch }), {
        recordId: record.recordId,
      }).catch((error: unknown) => error)
      expect(rotate.sent).toBeDefined()
      expect(problemOf(refused)).toEqual({ status: 503, code: 'CHAIN_UNAVAILABLE' })
      expect(counts()).toEqual({ ...beforeRotate, blobs: beforeRotate.blobs + 2 })
      expect(await rpc.node.context.store.has(await envelopeCidOf(rotate.sent?.body))).toBe(false)
    } finally {
      await forwarder.restore()
    }

    // Sent again once the chain is back, the same submission is accepted and anchored.
    const again = await fetch(`${rpc.node.url}/api/v1/records`, {
      method: 'POST',
      headers: submit.sent?.headers as HeadersInit,
      body: submit.sent?.body as string,
    })
    expect(again.status).toBe(202)
    const { recordId } = (await again.json()) as { recordId: Hex }
    contents.set(recordId, bytes)
    await until('the resubmitted record confirmed', () => outboxState(recordId) === 'confirmed')
    await expectAnchoredOnceAndWhole([recordId])
  })

  it('uploads acknowledged as queued survive the outage and are anchored exactly once when it ends', async () => {
    // No automatic mining: no acknowledgement can turn into a confirmation before the cut, and the
    // outbox's first anchor transaction is in anvil's pool, sent but not mined, when the RPC goes away.
    await anvil('evm_setAutomine', [false])
    let ids: Hex[] = []
    try {
      const acks = await Promise.all(Array.from({ length: 6 }, (_, i) => upload(`queued-${i}`, false)))
      ids = acks.map((a) => a.recordId)
      for (const ack of acks) expect(['queued', 'submitted']).toContain(ack.status)
      await forwarder.cut()
      // The anchor the outbox sent lands while the node cannot see the chain.
      await anvil('evm_mine')
    } finally {
      await anvil('evm_setAutomine', [true])
    }
    // The outbox keeps every entry through many of its polls: nothing lost, nothing given up.
    await sleep(20 * POLL_MS)
    for (const id of ids) expect(['queued', 'submitted'], `outbox state of ${id}`).toContain(outboxState(id))
    const health = (await (await fetch(`${rpc.node.url}/api/v1/health`)).json()) as {
      outbox: Record<OutboxState, number>
    }
    expect(health.outbox.failed).toBe(0)

    await forwarder.restore()
    await until('every queued upload confirmed', () => ids.every((id) => outboxState(id) === 'confirmed'))
    await expectAnchoredOnceAndWhole(ids)
  })

  it('the answer to an anchor transaction is lost (mined, the node never hears): confirmed once, not re-anchored', async () => {
    const sentBefore = sends()
    const cut = forwarder.armCut({ method: 'eth_sendRawTransaction', when: 'answer-lost' })
    const ack = await upload('answer-lost', false)
    await cut
    // It is on chain; the node does not know.
    await until('the anchor mined on anvil', async () => (await anchoredOnChain()).get(ack.recordId) === 1)
    await sleep(10 * POLL_MS)
    expect(['queued', 'submitted']).toContain(outboxState(ack.recordId))
    await forwarder.restore()
    await until('confirmed', () => outboxState(ack.recordId) === 'confirmed')
    // The outbox looked before sending again: one transaction in all.
    expect(sends() - sentBefore).toBe(1)
    await expectAnchoredOnceAndWhole([ack.recordId])
  })

  it('the RPC goes away right after the anchor transaction was handed over: confirmed once', async () => {
    const cut = forwarder.armCut({ method: 'eth_sendRawTransaction', when: 'after-request' })
    const ack = await upload('after-request', false)
    await cut
    await sleep(10 * POLL_MS)
    expect(['queued', 'submitted']).toContain(outboxState(ack.recordId))
    await forwarder.restore()
    await until('confirmed', () => outboxState(ack.recordId) === 'confirmed')
    await expectAnchoredOnceAndWhole([ack.recordId])
  })

  it('an anchor transaction still pending when the RPC returns is not doubled by a re-submission', async () => {
    await anvil('evm_setAutomine', [false])
    let ack: UploadRecordReturnType | undefined
    try {
      const sentBefore = sends()
      ack = await upload('pending', false)
      await until('the anchor transaction sent', () => sends() > sentBefore)
      await forwarder.cut()
      await sleep(10 * POLL_MS)
      expect(['queued', 'submitted']).toContain(outboxState(ack.recordId))
      await forwarder.restore()
      // Let the node do whatever it does with a transaction it cannot see mined (wait, or send again).
      await sleep(20 * POLL_MS)
      expect(['queued', 'submitted']).toContain(outboxState(ack.recordId))
      await anvil('evm_mine')
    } finally {
      await anvil('evm_setAutomine', [true])
    }
    const id = (ack as UploadRecordReturnType).recordId
    await until('confirmed', () => outboxState(id) === 'confirmed')
    await expectAnchoredOnceAndWhole([id])
  })
})
