import {
  createGrant,
  declareEmergency,
  fetchAuditTrail,
  getChainTime,
  listRecords,
  type NodeRequestError,
  type PcmimsClient,
  pcmimsAbi,
  requestAccess,
  respondToRequest,
  uploadRecord,
} from '@pcmims/core'
import { startTestNode, type TestNode } from '@pcmims/test-utils'
import { encodeFunctionData } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, memoryFile } from './helpers.js'
import { admitSecondUnit, enrol } from './participants.js'

const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 13 + seed) % 256)

/**
 * The system's flows over HTTP only: every client below reaches the chain through the node's relay
 * (`chainAccess: 'node'`), so the node is the one service they talk to.
 */
describe('flows over the HTTP API', () => {
  let t: TestNode
  let patient: PcmimsClient
  let uploader: PcmimsClient

  beforeAll(async () => {
    t = await startTestNode()
    patient = await t.clientFor(t.dev.patient!, { chainAccess: 'node' })
    uploader = await t.clientFor(t.dev.uploader!, { chainAccess: 'node' })
  })
  afterAll(async () => {
    await t?.stop()
  })

  const upload = (kind: 'CT' | 'REPORT', seed: number, content = bytes(5000, seed)) =>
    uploadRecord(uploader, {
      patient: t.dev.patient!.account.address,
      kind,
      files: [memoryFile(`f-${seed}.dcm`, content)],
      patientName: 'Quartermaine^Ottoline',
      description: `study ${seed}`,
    })

  async function status(client: PcmimsClient, path: string): Promise<number> {
    return client.node.raw('GET', path).then(
      (r) => r.status,
      (e: NodeRequestError) => e.status,
    )
  }

  it('break-glass: a medic declares an emergency through the node and reads decrypted copies, for hours only', async () => {
    const content = bytes(70_000, 5)
    const record = await upload('CT', 5, content)
    const medicId = await t.newIdentity()
    const medic = await enrol(t, medicId, t.dev.unit!, 'Medic')
    const viaNode = await t.clientFor(medicId, { chainAccess: 'node' })
    const path = `/api/v1/records/${record.recordId}/decrypted`
    expect(await status(viaNode, path)).toBe(403)

    await declareEmergency(viaNode.walletClient, {
      contract: viaNode.config.contract,
      patient: t.dev.patient!.account.address,
      reasonCode: 2,
      durationSeconds: 3 * 3600,
    })
    const manifest = await viaNode.node.json<{
      patient: { name?: string }
      access: { basis: string; until: number }
      files: Array<{ index: number; size: number; sha256: string }>
    }>('GET', path)
    expect(manifest.access.basis).toBe('Emergency')
    expect(manifest.patient.name).toBe('Quartermaine^Ottoline')
    const file = await viaNode.node.raw('GET', `${path}/files/0`)
    expect(file.headers.get('content-disposition')).toMatch(/attachment/)
    expect(await collect(file.body as unknown as AsyncIterable<Uint8Array>)).toEqual(content)

    // The patient sees it, prominently: the active emergency with its medic and reason.
    const seen = await patient.node.json<{
      emergencies: Array<{ medic: string; active: boolean; reasonCode: number }>
    }>('GET', '/api/v1/emergencies')
    expect(seen.emergencies.find((e) => e.medic === medicId.account.address)).toMatchObject({
      active: true,
      reasonCode: 2,
    })
    // It cannot be extended silently: a second declaration while one is active is refused by the chain.
    await expect(
      declareEmergency(viaNode.walletClient, {
        contract: viaNode.config.contract,
        patient: t.dev.patient!.account.address,
        reasonCode: 2,
        durationSeconds: 3 * 3600,
      }),
    ).rejects.toThrow()
    // A medic of another unit declares too, but this node is not custodian of anything for them.
    const unit2 = await admitSecondUnit(t)
    const farId = await t.newIdentity()
    await enrol(t, farId, unit2, 'Medic')
    const far = await t.clientFor(farId, { chainAccess: 'node' })
    await declareEmergency(far.walletClient, {
      contract: far.config.contract,
      patient: t.dev.patient!.account.address,
      reasonCode: 1,
      durationSeconds: 3600,
    })
    expect(await status(far, path)).toBe(403)

    await t.increaseTime(3 * 3600 + 60)
    expect(await status(viaNode, path)).toBe(403)
    expect(await status(viaNode, `${path}/files/0`)).toBe(403)
    expect(medic.account.address).toBe(medicId.account.address)

    // The patient's audit trail shows the declaration, every emergency read, and the refusal after it.
    const me = medicId.account.address.toLowerCase()
    const trail = await fetchAuditTrail(patient)
    const mine = trail.entries.map((e) => e.entry as { action: string; actor: string; outcome: string })
    const byMedic = mine.filter((e) => e.actor === me)
    expect(byMedic.some((e) => e.action === 'emergency.declare')).toBe(true)
    expect(byMedic.filter((e) => e.action === 'emergency.read' && e.outcome === 'success').length).toBe(2)
    expect(byMedic.some((e) => e.outcome === 'denied')).toBe(true)
  })

  it('a requestor asks, the patient approves de-identified-only or denies, and the requestor is told', async () => {
    await upload('REPORT', 9)
    const requestor = await t.clientFor(t.dev.requestor!, { chainAccess: 'node' })
    const ask = await requestAccess(requestor.walletClient, {
      contract: requestor.config.contract,
      patient: t.dev.patient!.account.address,
      scope: 'Kinds',
      kinds: ['REPORT'],
      purpose: 'Research',
    })
    type Listing = { requests: Array<{ id: string; status: string; direction: string; purpose: string }> }
    const incoming = await patient.node.json<Listing>('GET', '/api/v1/requests')
    expect(incoming.requests.find((r) => r.id === String(ask.requestId))).toMatchObject({
      status: 'Pending',
      direction: 'incoming',
      purpose: 'Research',
    })
    await respondToRequest(patient, { requestId: ask.requestId, approve: true, deidentifiedOnly: true })
    const told = await requestor.node.json<Listing>('GET', '/api/v1/requests')
    expect(told.requests.find((r) => r.id === String(ask.requestId))).toMatchObject({
      status: 'Approved',
      direction: 'outgoing',
    })
    // De-identified only: no original listed, nor its ciphertext or custodial plaintext.
    const listed = await listRecords(requestor, { patient: t.dev.patient!.account.address })
    expect(listed.filter((r) => !r.deidentifiedFrom)).toEqual([])
    const reports = (await listRecords(patient)).filter((r) => r.kind === 'REPORT')
    expect(reports.length).toBeGreaterThan(0)
    const refused = await requestor.node
      .raw('GET', `/api/v1/records/${reports[0]!.id}/decrypted`)
      .catch((e: NodeRequestError) => e)
    expect((refused as NodeRequestError).code).toBe('DEIDENTIFIED_ONLY')

    const otherId = await t.newIdentity()
    await enrol(t, otherId, t.dev.unit!, 'Requestor')
    const other = await t.clientFor(otherId, { chainAccess: 'node' })
    const denied = await requestAccess(other.walletClient, {
      contract: other.config.contract,
      patient: t.dev.patient!.account.address,
      scope: 'All',
      purpose: 'Insurance',
    })
    await respondToRequest(patient, { requestId: denied.requestId, approve: false })
    const deniedList = await other.node.json<Listing>('GET', '/api/v1/requests')
    expect(deniedList.requests.find((r) => r.id === String(denied.requestId))?.status).toBe('Denied')

    const trail = await fetchAuditTrail(patient)
    const actions = trail.entries.map((e) => e.entry as { action: string; detail: string | null })
    for (const [action, id] of [
      ['request.create', ask.requestId],
      ['request.approve', ask.requestId],
      ['request.create', denied.requestId],
      ['request.deny', denied.requestId],
    ] as const) {
      expect(actions.some((e) => e.action === action && e.detail === `request:${id}`)).toBe(true)
    }
  })

  it('decrypted downloads: the patient and download grantees yes; view-only grantees no', async () => {
    const content = bytes(3000, 21)
    const record = await upload('CT', 21, content)
    const path = `/api/v1/records/${record.recordId}/decrypted/files/0`
    const own = await patient.node.raw('GET', path)
    expect(await collect(own.body as unknown as AsyncIterable<Uint8Array>)).toEqual(content)

    const viewerId = await t.newIdentity()
    await enrol(t, viewerId, t.dev.unit!, 'Medic')
    const downloaderId = await t.newIdentity()
    await enrol(t, downloaderId, t.dev.unit!, 'Medic')
    const expiresAt = (await getChainTime(patient.publicClient)) + 86_400
    await createGrant(patient, { grantee: viewerId.account.address, expiresAt, download: false })
    await createGrant(patient, { grantee: downloaderId.account.address, expiresAt, download: true })
    const viewer = await t.clientFor(viewerId)
    const downloader = await t.clientFor(downloaderId)
    expect(await status(viewer, path)).toBe(403)
    const got = await downloader.node.raw('GET', path)
    expect(await collect(got.body as unknown as AsyncIterable<Uint8Array>)).toEqual(content)
    expect(await status(downloader, `/api/v1/records/${record.recordId}/decrypted/files/7`)).toBe(404)
    expect(await status(downloader, `/api/v1/records/${record.recordId}/decrypted/files/-1`)).toBe(400)
  })

  it('the chain relay relays the caller’s own PCMIMS transactions only', async () => {
    const rpc = (client: PcmimsClient, body: unknown) =>
      client.node.json<{ result?: unknown; error?: { code: number; message: string } }>(
        'POST',
        '/api/v1/chain/rpc',
        { body },
      )
    const call = (method: string, params: unknown[] = []) => ({ jsonrpc: '2.0', id: 1, method, params })
    expect((await rpc(patient, call('eth_chainId'))).result).toBe(`0x${t.node.chainId.toString(16)}`)
    expect((await rpc(patient, call('eth_getLogs', [{}]))).error?.code).toBe(-32003)
    expect((await rpc(patient, call('eth_sendTransaction', [{}]))).error?.code).toBe(-32003)

    const nonceOf = async (address: `0x${string}`) =>
      Number((await rpc(patient, call('eth_getTransactionCount', [address, 'latest']))).result)
    const stranger = privateKeyToAccount(generatePrivateKey())
    const data = encodeFunctionData({
      abi: pcmimsAbi,
      functionName: 'revoke',
      args: [t.dev.medic!.account.address],
    })
    const base = {
      chainId: t.node.chainId,
      gas: 100_000n,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 1n,
      data,
    }
    // Signed by someone else than the session's account: refused.
    const foreign = await stranger.signTransaction({ ...base, to: t.node.contract, nonce: 0 })
    expect((await rpc(patient, call('eth_sendRawTransaction', [foreign]))).error?.code).toBe(-32003)
    const me = t.dev.patient!.account
    const nonce = await nonceOf(me.address)
    // To another address than the contract: refused.
    const elsewhere = await me.signTransaction({ ...base, to: stranger.address, nonce })
    expect((await rpc(patient, call('eth_sendRawTransaction', [elsewhere]))).error?.code).toBe(-32003)
    // For another chain: refused.
    const otherChain = await me.signTransaction({ ...base, chainId: 1, to: t.node.contract, nonce })
    expect((await rpc(patient, call('eth_sendRawTransaction', [otherChain]))).error?.code).toBe(-32602)
    // Not a PCMIMS call: refused.
    const junk = await me.signTransaction({ ...base, data: '0xdeadbeef', to: t.node.contract, nonce })
    expect((await rpc(patient, call('eth_sendRawTransaction', [junk]))).error?.code).toBe(-32602)
    expect((await rpc(patient, call('eth_sendRawTransaction', ['0x1234']))).error?.code).toBe(-32602)
    expect(await nonceOf(me.address)).toBe(nonce)
    // Unauthenticated: no relay at all.
    const anonymous = await fetch(`${t.node.url}/api/v1/chain/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(call('eth_chainId')),
    })
    expect(anonymous.status).toBe(401)
    const batch = await patient.node.json<unknown[]>('POST', '/api/v1/chain/rpc', {
      body: [call('eth_chainId'), call('eth_blockNumber')],
    })
    expect(batch).toHaveLength(2)
  })
})
