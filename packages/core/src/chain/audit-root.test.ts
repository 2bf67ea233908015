import { newParticipant, setupUnit, startTestChain, type TestChain, type TestUnit } from '@pcmims/test-utils'
import { type Hex, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  anchorAuditRoot,
  ContractCallError,
  decodePcmimsLogs,
  getAuditRoot,
  getLatestAuditSize,
  pcmimsErrorMessages,
} from './index.js'

let chain: TestChain
let unit: TestUnit
const root = (): Hex => toHex(crypto.getRandomValues(new Uint8Array(32)))

beforeAll(async () => {
  chain = await startTestChain()
  unit = await setupUnit(chain, { roles: { patient: 1 } })
})
afterAll(async () => {
  await chain?.stop()
})

describe('audit roots on chain', () => {
  it('anchorAuditRoot, getAuditRoot and getLatestAuditSize round-trip; the event decodes', async () => {
    const { contract } = chain
    expect(await getLatestAuditSize(chain.publicClient, { contract, unit: unit.address })).toBe(0)
    expect(await getAuditRoot(chain.publicClient, { contract, unit: unit.address, size: 1 })).toBeNull()
    const r1 = root()
    const first = await anchorAuditRoot(unit.wallet, { contract, size: 5, root: r1 })
    expect(first).toMatchObject({ size: 5, root: r1 })
    expect(first.gasUsed).toBeGreaterThan(0n)
    expect(first.events).toMatchObject([
      { eventName: 'AuditRootAnchored', args: { unit: unit.address, size: 5n, root: r1 } },
    ])
    const r2 = root()
    await anchorAuditRoot(unit.wallet, { contract, size: 9n, root: r2 })
    expect(await getLatestAuditSize(chain.publicClient, { contract, unit: unit.address })).toBe(9)
    expect(await getAuditRoot(chain.publicClient, { contract, unit: unit.address, size: 5 })).toBe(r1)
    expect(await getAuditRoot(chain.publicClient, { contract, unit: unit.address, size: 9 })).toBe(r2)
    expect(
      await getAuditRoot(chain.publicClient, {
        contract,
        unit: unit.address,
        size: 5,
        blockNumber: first.blockNumber,
      }),
    ).toBe(r1)
    expect(
      await getLatestAuditSize(chain.publicClient, {
        contract,
        unit: unit.address,
        blockNumber: first.blockNumber,
      }),
    ).toBe(5)
    const logs = await chain.publicClient.getLogs({ address: contract, fromBlock: first.blockNumber })
    const events = decodePcmimsLogs(logs, { address: contract }).filter(
      (e) => e.eventName === 'AuditRootAnchored',
    )
    expect(
      events.map((e) => (e.eventName === 'AuditRootAnchored' ? [e.args.size, e.args.root] : null)),
    ).toEqual([
      [5n, r1],
      [9n, r2],
    ])
  })

  it('refusals become ContractCallErrors with their own message', async () => {
    const { contract } = chain
    const stale = (await anchorAuditRoot(unit.wallet, { contract, size: 9, root: root() }).catch(
      (e: unknown) => e,
    )) as ContractCallError
    expect(stale).toBeInstanceOf(ContractCallError)
    expect(stale.errorName).toBe('AuditSizeNotIncreasing')
    expect(stale.code).toBe('AUDIT_SIZE_NOT_INCREASING')
    expect(stale.shortMessage).toBe(pcmimsErrorMessages.AuditSizeNotIncreasing)
    const zero = (await anchorAuditRoot(unit.wallet, {
      contract,
      size: 10,
      root: `0x${'0'.repeat(64)}`,
    }).catch((e: unknown) => e)) as ContractCallError
    expect(zero.errorName).toBe('ZeroAuditRoot')
    const stranger = await newParticipant(chain)
    const notUnit = (await anchorAuditRoot(stranger.wallet, { contract, size: 10, root: root() }).catch(
      (e: unknown) => e,
    )) as ContractCallError
    expect(notUnit.errorName).toBe('NotApprovedParticipant')
    const patient = unit.patients[0]!
    const byPatient = (await anchorAuditRoot(patient.wallet, { contract, size: 10, root: root() }).catch(
      (e: unknown) => e,
    )) as ContractCallError
    expect(byPatient.errorName).toBe('NotApprovedParticipant')
  })
})
