import { readFileSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { anchorRecord, anchorRecords, decryptKeystore, getRecord, rotateRecord } from '@pcmims/core'
import { CID } from 'multiformats/cid'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  type PublicClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createSessionStore } from './auth/sessions.js'
import { createChainReader } from './chain/chain-reader.js'
import { ConfigError, type NodeConfig } from './config.js'
import type { NodeContext, UnitIdentity } from './context.js'
import { openDatabase } from './db/open-database.js'
import type { DevAccount } from './embedded/dev-accounts.js'
import { type EmbeddedChain, startEmbeddedChain } from './embedded/start-embedded-chain.js'
import { createApp } from './http/app.js'
import { createIndexer } from './indexer/indexer.js'
import { createLogger, type Logger } from './logger.js'
import { createOutbox, type OutboxChain, type OutboxEntry } from './outbox/outbox.js'
import { createBlobStore } from './storage/index.js'
import { sweepOrphans } from './storage-maintenance/sweep-orphans.js'
import { sweepUploads } from './uploads/index.js'

export type StartNodeParameters = {
  config: NodeConfig
  logger?: Logger | undefined
  /** Passphrase of the unit keystore (otherwise read from the environment variable the config names). */
  unitPassphrase?: string | undefined
}

export type NodeHandle = {
  url: string
  config: NodeConfig
  chainId: number
  contract: Address
  rpcUrl: string
  unit: Address
  devAccounts: DevAccount[]
  context: NodeContext
  stop(): Promise<void>
}

export const NODE_VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version
  } catch {
    return '0.0.0'
  }
})()

/**
 * Starts a PCMIMS node: its database, IPFS store, chain connection (the embedded anvil by default),
 * indexer, outbox and HTTP API. Resolves once the node serves requests.
 */
export async function startNode(params: StartNodeParameters): Promise<NodeHandle> {
  const { config } = params
  const logger = params.logger ?? createLogger({ level: config.logLevel })
  const cleanups: Array<() => Promise<void> | void> = []
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn()
      } catch (error) {
        logger.warn({ error: (error as Error).message }, 'shutdown step failed')
      }
    }
  }
  if (!config.publicUrl && ['0.0.0.0', '::', '[::]'].includes(config.host)) {
    throw new ConfigError(
      'Set publicUrl when listening on every address',
      'clients sign requests for the URL they use; the node must know it',
    )
  }
  try {
    const db = openDatabase(join(config.dataDir, 'node.sqlite'))
    cleanups.push(() => db.close())
    const store = await createBlobStore({ directory: join(config.dataDir, 'ipfs') })
    cleanups.push(() => store.stop())

    let embedded: EmbeddedChain | undefined
    let rpcUrl: string
    let publicRpcUrl: string
    let chainId: number
    let contract: Address
    let fromBlock: bigint
    let confirmations = 0
    if (config.chain.mode === 'embedded') {
      embedded = await startEmbeddedChain(config, logger)
      const anvil = embedded.anvil
      const pidFile = embedded.pidFile
      cleanups.push(async () => {
        await anvil.stop()
        await rm(pidFile, { force: true })
      })
      rpcUrl = publicRpcUrl = embedded.rpcUrl
      chainId = embedded.chainId
      contract = getAddress(embedded.contract)
      fromBlock = embedded.deploymentBlock
    } else {
      rpcUrl = config.chain.rpcUrl
      publicRpcUrl = config.chain.publicRpcUrl ?? rpcUrl
      contract = getAddress(config.chain.contract)
      fromBlock = BigInt(config.chain.fromBlock)
      confirmations = config.chain.confirmations
      chainId = await createPublicClient({ transport: http(rpcUrl) }).getChainId()
    }
    const chain = defineChain({
      id: chainId,
      name: `pcmims-${chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [rpcUrl] } },
    })
    const publicClient = createPublicClient({
      chain,
      transport: http(rpcUrl, { retryCount: 1 }),
    }) as PublicClient
    const unit = await loadUnitIdentity(config, embedded, params.unitPassphrase)
    const wallet = createWalletClient({ chain, transport: http(rpcUrl), account: unit.account })

    const outboxChain: OutboxChain = {
      async check(entry) {
        const record = await getRecord(publicClient, { contract, id: entry.recordId })
        if (!record) return { anchored: false }
        return {
          anchored: true,
          matches: getAddress(record.patient) === getAddress(entry.patient) && record.kind === entry.kind,
        }
      },
      async submit(entries) {
        const first = entries[0] as OutboxEntry
        const records = entries.map((e) => ({
          id: e.recordId,
          patient: e.patient,
          uploader: e.uploader,
          kind: e.kind as never,
        }))
        // A batch of one costs ~0.6k gas more than anchorRecord (array decoding and the loop).
        const result = first.previous
          ? await rotateRecord(wallet, { contract, oldId: first.previous, newId: first.recordId })
          : records.length === 1 && records[0]
            ? await anchorRecord(wallet, { contract, ...records[0] })
            : await anchorRecords(wallet, { contract, records })
        return { hash: result.hash, gasUsed: result.gasUsed, blockNumber: result.blockNumber }
      },
      isPermanent(error) {
        const e = error as { code?: string; errorName?: string }
        return e?.code === 'CONTRACT_REVERTED' && e.errorName !== 'RecordExists'
      },
    }
    let outbox: ReturnType<typeof createOutbox>
    const indexer = createIndexer({
      db,
      publicClient,
      contract,
      fromBlock,
      confirmations,
      pollMs: config.indexer.pollMs,
      logger,
      onRollback: async () => {
        await outbox.recheckConfirmed()
        outbox.kick()
      },
    })
    outbox = createOutbox({
      db,
      chain: outboxChain,
      batchSize: config.outbox.batchSize,
      pollMs: config.outbox.pollMs,
      logger,
      afterConfirm: async (entries) => {
        await embedded?.anvil.dumpState().catch(() => undefined)
        for (const entry of entries) if (entry.previous) await releaseReplaced(entry.previous, entry.recordId)
        await indexer.syncOnce().catch(() => undefined)
      },
    })

    /** After a rotation is anchored, the old ciphertext is unpinned (blocks shared with pinned data stay). */
    async function releaseReplaced(oldId: string, newId: string): Promise<void> {
      const rows = db
        .prepare(
          'SELECT cid FROM record_blobs WHERE record_id = ? AND cid NOT IN (SELECT cid FROM record_blobs WHERE record_id = ?)',
        )
        .all(oldId, newId) as Array<{ cid: string }>
      for (const row of rows) await store.unpin(CID.parse(row.cid))
      await store.gc()
      logger.info({ oldId, newId, unpinned: rows.length }, 'old ciphertext released after rotation')
    }

    const context: NodeContext = {
      config,
      logger,
      db,
      store,
      chain: {
        reader: createChainReader(publicClient, contract),
        chainId,
        contract,
        rpcUrl: publicRpcUrl,
        request: (method, params) => publicClient.request({ method, params } as never),
      },
      unit,
      outbox,
      indexer,
      sessions: createSessionStore({ db, times: config.sessions }),
      version: NODE_VERSION,
      // Set to the real origin once the server listens (the port may have been 0).
      origin: config.publicUrl ?? '',
      dev:
        embedded && config.dev
          ? {
              // New accounts on the development chain need gas for their first transaction.
              fund: async (address) => {
                await publicClient.request({
                  method: 'anvil_setBalance' as never,
                  params: [address, '0x56BC75E2D63100000'] as never,
                })
              },
            }
          : undefined,
    }
    // An embedded chain restarts from its last state dump, which may predate anchors already acknowledged.
    if (embedded) await outbox.recheckConfirmed()
    await indexer.syncOnce()
    indexer.start()
    cleanups.push(() => indexer.stop())
    outbox.start()
    cleanups.push(() => outbox.stop())

    const sweep = setInterval(() => {
      context.sessions.sweep()
      void sweepOrphans({ db, store, ttlMs: config.orphans.ttlMs, logger }).catch((error: Error) =>
        logger.warn({ error: error.message }, 'orphan sweep failed'),
      )
      void sweepUploads(context).catch((error: Error) =>
        logger.warn({ error: error.message }, 'abandoned upload sweep failed'),
      )
    }, config.orphans.sweepMs)
    sweep.unref()
    cleanups.push(() => clearInterval(sweep))

    const app = createApp(context)
    const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port })
    await new Promise<void>((resolve, reject) => {
      server.once('listening', () => resolve())
      server.once('error', reject)
    })
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve())
          ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
        }),
    )
    const port = (server.address() as AddressInfo).port
    const url =
      config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`
    context.origin = new URL(url).origin
    logger.info({ url, contract, chainId }, 'node started')
    let stopping: Promise<void> | undefined
    return {
      url,
      config,
      chainId,
      contract,
      rpcUrl: publicRpcUrl,
      unit: unit.address,
      devAccounts: embedded?.devAccounts ?? [],
      context,
      stop: () => {
        stopping ??= cleanup()
        return stopping
      },
    }
  } catch (error) {
    await cleanup()
    throw error
  }
}

async function loadUnitIdentity(
  config: NodeConfig,
  embedded: EmbeddedChain | undefined,
  passphrase: string | undefined,
): Promise<UnitIdentity> {
  let keystore = config.unit.keystore
  let secret = passphrase ?? process.env[config.unit.passphraseEnv]
  const devUnit = embedded?.devAccounts.find((a) => a.role === 'unit')
  if (!keystore && devUnit && config.dev) {
    keystore = devUnit.keystore
    secret = devUnit.passphrase
  }
  if (!keystore) throw new Error('No unit keystore configured (unit.keystore or PCMIMS_UNIT_KEYSTORE)')
  if (secret === undefined) throw new Error(`No unit passphrase: set ${config.unit.passphraseEnv}`)
  const opened = await decryptKeystore({ keystore: await readFile(keystore, 'utf8'), passphrase: secret })
  const account = privateKeyToAccount(opened.privateKey)
  return { account, address: account.address, encryptionKeyPair: opened.encryptionKeyPair }
}
