import { closeRecord, openRecord, readRecordFile, uploadRecord } from '@pcmims/core'
import { startTestChain, type TestChain } from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, memoryFile } from './helpers.js'
import { type RpcNode, startRpcNode } from './rpc-node.js'

/**
 * A node on a chain it does not run (any EVM JSON-RPC endpoint with the contract already deployed), as
 * a hospital joining a network would: its unit admitted by governance, its operator key in a keystore.
 */
describe('a node on an existing chain (rpc mode)', () => {
  let chain: TestChain
  let rpc: RpcNode | undefined

  beforeAll(async () => {
    chain = await startTestChain()
  })
  afterAll(async () => {
    await rpc?.stop()
    await chain?.stop()
  })

  it('indexes from the deployment block, relays anchors as its unit, serves its records', async () => {
    rpc = await startRpcNode({ chain })
    const { node } = rpc
    expect(node.devAccounts).toEqual([])
    expect(node.unit).toBe(rpc.unit.account.address)

    const patient = await rpc.participant('Patient')
    const uploader = await rpc.participant('Uploader')
    // No development helpers on a real network.
    await expect(patient.client.node.json('POST', '/api/v1/dev/fund')).rejects.toThrow(/real network/)

    const content = new Uint8Array(1_200_000).map((_, i) => i % 199)
    const uploaded = await uploadRecord(uploader.client, {
      patient: patient.account.address,
      kind: 'XRAY',
      files: [memoryFile('chest.dcm', content)],
    })
    expect(uploaded.status).toBe('confirmed')
    const record = await openRecord(patient.client, { recordId: uploaded.recordId })
    const bytes = await collect(readRecordFile(patient.client, { record, file: record.manifest.files[0]! }))
    closeRecord(record)
    expect(Buffer.from(bytes).equals(Buffer.from(content))).toBe(true)
    const health = (await (await fetch(`${node.url}/api/v1/health`)).json()) as { status: string }
    expect(health.status).toBe('ok')
  })
})
