import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  admitUnit,
  approveParticipant,
  closeRecord,
  createPcmimsClient,
  deriveEncryptionKeyPair,
  encryptKeystore,
  openRecord,
  readRecordFile,
  registerParticipant,
  uploadRecord,
} from '@pcmims/core'
import { defaultConfig, type NodeHandle, startNode } from '@pcmims/node'
import { startTestChain, type TestChain } from '@pcmims/test-utils'
import { type Hex, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, memoryFile } from './helpers.js'

/**
 * A node on a chain it does not run (any EVM JSON-RPC endpoint with the contract already deployed), as
 * a hospital joining a network would: its unit admitted by governance, its operator key in a keystore.
 */
describe('a node on an existing chain (rpc mode)', () => {
  let chain: TestChain
  let node: NodeHandle | undefined
  let dataDir: string

  beforeAll(async () => {
    chain = await startTestChain()
    dataDir = await mkdtemp(join(tmpdir(), 'pcmims-rpc-'))
  })
  afterAll(async () => {
    await node?.stop()
    await chain?.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('indexes from the deployment block, relays anchors as its unit, serves its records', async () => {
    const identity = async (privateKey: Hex) => ({
      account: privateKeyToAccount(privateKey),
      encryptionKeyPair: await deriveEncryptionKeyPair(privateKey),
    })
    const [unitKey, patientKey, uploaderKey] = [
      generatePrivateKey(),
      generatePrivateKey(),
      generatePrivateKey(),
    ]
    const unit = await identity(unitKey)
    const patient = await identity(patientKey)
    const uploader = await identity(uploaderKey)
    for (const who of [unit, patient, uploader]) {
      await chain.publicClient.request({
        method: 'anvil_setBalance' as never,
        params: [who.account.address, '0x56BC75E2D63100000'] as never,
      })
    }
    const governance = chain.walletClientFor(chain.governance)
    await admitUnit(governance, {
      contract: chain.contract,
      unit: unit.account.address,
      encryptionKey: toHex(unit.encryptionKeyPair.publicKey),
    })
    const keystore = join(dataDir, 'unit.json')
    await writeFile(
      keystore,
      JSON.stringify(
        await encryptKeystore({ privateKey: unitKey, passphrase: 'unit pass', kdfParams: { n: 2 ** 12 } }),
      ),
    )

    node = await startNode({
      config: {
        ...defaultConfig(join(dataDir, 'node')),
        port: 0,
        dev: false,
        logLevel: 'silent',
        chain: {
          mode: 'rpc',
          rpcUrl: chain.rpcUrl,
          contract: chain.contract,
          fromBlock: 0,
          confirmations: 0,
        },
        unit: { keystore, passphraseEnv: 'UNUSED' },
      },
      unitPassphrase: 'unit pass',
    })
    expect(node.devAccounts).toEqual([])
    expect(node.unit).toBe(unit.account.address)

    const client = (who: typeof unit) => createPcmimsClient({ nodeUrl: node!.url, ...who })
    const [patientClient, uploaderClient, unitClient] = await Promise.all([
      client(patient),
      client(uploader),
      client(unit),
    ])
    for (const [who, role] of [
      [patientClient, 'Patient'],
      [uploaderClient, 'Uploader'],
    ] as const) {
      await registerParticipant(who.walletClient, {
        contract: chain.contract,
        unit: unit.account.address,
        role,
        encryptionKey: toHex(who.encryptionKeyPair.publicKey),
      })
      await approveParticipant(unitClient.walletClient, {
        contract: chain.contract,
        account: who.account.address,
      })
    }
    // No development helpers on a real network.
    await expect(patientClient.node.json('POST', '/api/v1/dev/fund')).rejects.toThrow(/real network/)

    const content = new Uint8Array(1_200_000).map((_, i) => i % 199)
    const uploaded = await uploadRecord(uploaderClient, {
      patient: patient.account.address,
      kind: 'XRAY',
      files: [memoryFile('chest.dcm', content)],
    })
    expect(uploaded.status).toBe('confirmed')
    const record = await openRecord(patientClient, { recordId: uploaded.recordId })
    const bytes = await collect(readRecordFile(patientClient, { record, file: record.manifest.files[0]! }))
    closeRecord(record)
    expect(Buffer.from(bytes).equals(Buffer.from(content))).toBe(true)
    const health = (await (await fetch(`${node.url}/api/v1/health`)).json()) as { status: string }
    expect(health.status).toBe('ok')
  })
})
