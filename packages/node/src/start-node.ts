import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import type { Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import {
  anchorAuditRoot,
  anchorDeidentifiedCopy,
  anchorRecord,
  anchorRecords,
  decryptKeystore,
  getRecord,
  rotateRecord,
} from '@pcmims/core'
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
import { createAuditLog } from './audit/audit-log.js'
import { auditChainEvents } from './audit/chain-events.js'
import { createSessionStore } from './auth/sessions.js'
import { createChainReader } from './chain/chain-reader.js'
import { ConfigError, type NodeConfig } from './config.js'
import type { NodeContext, UnitIdentity } from './context.js'
import { openDatabase } from './db/open-database.js'
import type { DevAccount } from './embedded/dev-accounts.js'
import { type EmbeddedChain, startEmbeddedChain } from './embedded/start-embedded-chain.js'
import { createApp } from './http/app.js'
import { createIndexer } from './indexer/indexer.js'
import { createIngest } from './ingest/create-ingest.js'
import { startDicomReceiver } from './ingest/start-dicom-receiver.js'
import { createLogger, type Logger } from './logger.js'
import { createOutbox, type OutboxChain, type OutboxEntry } from './outbox/outbox.js'
import { type BlobStore, createBlobStore, createKuboBlobStore, probeKubo } from './storage/index.js'
import { sweepOrphans } from './storage-maintenance/sweep-orphans.js'
import { sweepUploads } from './uploads/index.js'

export type StartNodeParameters = {
  config: NodeConfig
  logger?: Logger | undefined
  /** Passphrase of the unit keystore (otherwise read from the environment variable the config names). */
  unitPassphrase?: string | undefined
  /** How long `stop()` lets requests in flight finish before it closes their connections (default 10 s). */
  drainTimeoutMs?: number | undefined
}

/**
 * Work to do when the node stops, after the HTTP server drained and the indexer, outbox and sweeper
 * stopped, while the chain, database and store are still open (e.g. anchoring the audit log). The
 * signal aborts when the hook overruns its time (30 s); the shutdown then goes on without it.
 */
export type ShutdownHook = (signal: AbortSignal) => Promise<void> | void

export type NodeHandle = {
  url: string
  config: NodeConfig
  chainId: number
  contract: Address
  rpcUrl: string
  unit: Address
  devAccounts: DevAccount[]
  context: NodeContext
  /** The DICOM receiver, when enabled. */
  dimse: { host: string; port: number; aeTitle: string } | undefined
  /** Registers a {@link ShutdownHook}; hooks run in the order registered. Returns a function that removes it. */
  onShutdown(hook: ShutdownHook): () => void
  /**
   * Stops gracefully: refuses new requests (503), lets those in flight finish (bounded by
   * `drainTimeoutMs`, then cuts their connections: an upload cut off is never acknowledged nor pinned),
   * stops the indexer, outbox and sweeper, runs the shutdown hooks, closes the store and the database,
   * then stops the embedded chain after a final state dump. Idempotent.
   */
  stop(): Promise<void>
}

const HOOK_TIMEOUT_MS = 30_000
/** After connections are cut, how long handlers get to unwind (abort their writes) before the store closes. */
const UNWIND_TIMEOUT_MS = 5_000

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
  // Shutdown runs in phases, whatever order things were started in: HTTP first (drain), then the
  // background workers, then the hooks (which still need chain, database and store), then storage,
  // then the embedded chain (it dumps its state as it stops). Within a phase, last started stops first.
  const phases = ['http', 'workers', 'hooks', 'storage', 'chain'] as const
  const cleanups: Record<(typeof phases)[number], Array<() => Promise<void> | void>> = {
    http: [],
    workers: [],
    hooks: [],
    storage: [],
    chain: [],
  }
  const hooks: ShutdownHook[] = []
  cleanups.hooks.push(() => runHooks(hooks, logger))
  const cleanup = async () => {
    for (const phase of phases) {
      for (const fn of cleanups[phase].reverse()) {
        try {
          await fn()
        } catch (error) {
          logger.warn({ phase, error: (error as Error).message }, 'shutdown step failed')
        }
      }
    }
  }
  if (!config.publicUrl && ['0.0.0.0', '::', '[::]'].includes(config.host)) {
    throw new ConfigError(
      'Set publicUrl when listening on every address',
      'clients sign requests for the URL they use; the node must know it',
    )
  }
  // Read before anything starts: a bad certificate is a configuration error, not a half-started node.
  const tls = config.tls ? readTls(config.tls) : undefined
  try {
    const db = openDatabase(join(config.dataDir, 'node.sqlite'))
    cleanups.storage.push(() => db.close())
    const store = await openStore(config)
    cleanups.storage.push(() => store.stop())

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
      cleanups.chain.push(async () => {
        // stop() dumps the state first, so everything anchored so far survives the restart.
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
        const result = first.source
          ? await anchorDeidentifiedCopy(wallet, {
              contract,
              id: first.recordId,
              sourceId: first.source,
              audience: first.audience as Address,
            })
          : first.previous
            ? await rotateRecord(wallet, { contract, oldId: first.previous, newId: first.recordId })
            : records.length === 1 && records[0]
              ? await anchorRecord(wallet, { contract, ...records[0] })
              : await anchorRecords(wallet, { contract, records })
        return { hash: result.hash, gasUsed: result.gasUsed, blockNumber: result.blockNumber }
      },
      isPermanent(error) {
        // Any revert of the contract (ContractCallError: `errorName` set, `code` its SCREAMING_SNAKE form, or
        // CONTRACT_REVERTED when unknown) will revert again: failed, so it cannot hold the queue behind it.
        const e = error as { code?: string; errorName?: string }
        return typeof e?.errorName === 'string' && e.errorName !== 'RecordExists'
      },
    }
    // The unit's node anchors its audit log's Merkle root from the unit's own account.
    const audit = createAuditLog({
      db,
      logger,
      anchorIntervalS: config.audit.anchorIntervalS,
      send: async (size, root) => {
        const anchored = await anchorAuditRoot(wallet, { contract, size, root })
        await embedded?.anvil.dumpState().catch(() => undefined)
        return anchored.hash
      },
    })
    let outbox: ReturnType<typeof createOutbox>
    const indexer = createIndexer({
      onEvents: (events) =>
        auditChainEvents(db, audit, events, {
          patientOfRequest: (id) => {
            const row = db.prepare('SELECT patient FROM requests WHERE id = ?').get(String(id)) as
              | { patient: string }
              | undefined
            return row ? getAddress(row.patient) : undefined
          },
          patientOfRecord: (id) => {
            const row = db.prepare('SELECT patient FROM records WHERE id = ?').get(id.toLowerCase()) as
              | { patient: string }
              | undefined
            return row ? getAddress(row.patient) : undefined
          },
        }),
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

    const baseContext: Omit<NodeContext, 'ingest'> = {
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
      audit,
      version: NODE_VERSION,
      // Set to the real origin once the server listens (the port may have been 0).
      origin: config.publicUrl ?? '',
      dev:
        embedded && config.dev
          ? {
              accounts: embedded.devAccounts.map(({ role, name, address, privateKey }) => ({
                role,
                name,
                address,
                privateKey,
              })),
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
    const context: NodeContext = {
      ...baseContext,
      ingest: createIngest(baseContext, {
        quietPeriodMs: config.ingest.quietPeriodMs,
        maxInstanceBytes: Math.max(config.ingest.maxInstanceBytes, config.dimse.maxInstanceBytes),
      }),
    }
    // An embedded chain restarts from its last state dump, which may predate anchors already acknowledged.
    if (embedded) await outbox.recheckConfirmed()
    await indexer.syncOnce()
    audit.start()
    // Anchored once more at shutdown, while the chain, database and store are still up.
    cleanups.hooks.push(() => audit.stop())
    indexer.start()
    cleanups.workers.push(() => indexer.stop())
    outbox.start()
    cleanups.workers.push(() => outbox.stop())
    // Stops before the outbox (last started stops first): a study being sealed still gets queued.
    cleanups.workers.push(() => context.ingest.stop())

    let sweeping: Promise<unknown> | undefined
    const sweep = setInterval(() => {
      if (sweeping) return
      context.sessions.sweep()
      // Awaited at shutdown, so a sweep never runs against a closed store.
      sweeping = Promise.allSettled([
        sweepOrphans({ db, store, ttlMs: config.orphans.ttlMs, logger }).catch((error: Error) =>
          logger.warn({ error: error.message }, 'orphan sweep failed'),
        ),
        sweepUploads(context).catch((error: Error) =>
          logger.warn({ error: error.message }, 'abandoned upload sweep failed'),
        ),
      ]).finally(() => {
        sweeping = undefined
      })
    }, config.orphans.sweepMs)
    sweep.unref()
    cleanups.workers.push(async () => {
      clearInterval(sweep)
      await sweeping
    })

    const app = createApp(context)
    const web = serveDraining({
      fetch: app.fetch,
      hostname: config.host,
      port: config.port,
      tls,
      drainTimeoutMs: params.drainTimeoutMs ?? 10_000,
      logger,
    })
    cleanups.http.push(() => web.drain())
    await web.listening
    const port = (web.server.address() as AddressInfo).port
    const scheme = tls ? 'https' : 'http'
    const url =
      config.publicUrl ??
      `${scheme}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`
    context.origin = new URL(url).origin
    const dimse = config.dimse.enabled
      ? await startDicomReceiver(context, embedded?.devAccounts.find((a) => a.role === 'uploader')?.address)
      : undefined
    if (dimse) cleanups.http.push(() => dimse.close())
    logger.info({ url, contract, chainId, ipfs: config.ipfs.mode, tls: Boolean(tls) }, 'node started')
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
      dimse: dimse ? { host: dimse.host, port: dimse.port, aeTitle: config.dimse.aeTitle } : undefined,
      onShutdown(hook) {
        hooks.push(hook)
        return () => {
          const index = hooks.indexOf(hook)
          if (index >= 0) hooks.splice(index, 1)
        }
      },
      stop: () => {
        stopping ??= (async () => {
          logger.info('node stopping')
          await cleanup()
          logger.info('node stopped')
        })()
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

async function openStore(config: NodeConfig): Promise<BlobStore> {
  if (config.ipfs.mode === 'kubo') {
    const store = createKuboBlobStore({ url: config.ipfs.rpcUrl })
    try {
      await probeKubo(store, config.ipfs.rpcUrl)
    } catch (error) {
      await store.stop()
      throw error
    }
    return store
  }
  return createBlobStore({ directory: join(config.dataDir, 'ipfs') })
}

type TlsMaterial = { cert: Buffer; key: Buffer }

/** Reads and checks the PEM certificate and key, so a bad pair fails the start with a clear message. */
function readTls({ certFile, keyFile }: { certFile: string; keyFile: string }): TlsMaterial {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file)
    } catch (error) {
      throw new ConfigError(`Cannot read the TLS ${what} ${file}`, (error as Error).message)
    }
  }
  const cert = read(certFile, 'certificate')
  const key = read(keyFile, 'key')
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(cert)
  } catch (error) {
    throw new ConfigError(
      `The TLS certificate ${certFile} is not a PEM certificate`,
      (error as Error).message,
    )
  }
  let privateKey: ReturnType<typeof createPrivateKey>
  try {
    privateKey = createPrivateKey(key)
  } catch (error) {
    throw new ConfigError(`The TLS key ${keyFile} is not a PEM private key`, (error as Error).message)
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError('The TLS key does not belong to the certificate', `${keyFile} / ${certFile}`)
  }
  return { cert, key }
}

type ServeDrainingParameters = {
  /** `app.fetch`; `env` carries Node's request and response (`getConnInfo` reads the client's address there). */
  fetch: (request: Request, env: unknown) => Response | Promise<Response>
  hostname: string
  port: number
  tls: TlsMaterial | undefined
  drainTimeoutMs: number
  logger: Logger
}

/**
 * The HTTP(S) server, with a drain for shutdown: once draining, it stops listening, answers new
 * requests on connections already open with 503, closes connections as they go idle, and waits for
 * the requests in flight (response sent, handler settled) until the deadline, then cuts the rest.
 */
function serveDraining({ fetch, hostname, port, tls, drainTimeoutMs, logger }: ServeDrainingParameters) {
  let draining = false
  const handlers = new Set<Promise<unknown>>()
  let activeResponses = 0
  const server = serve({
    fetch: (request: Request, env: unknown) => {
      if (draining) {
        const problem = {
          type: 'about:blank',
          title: 'The node is shutting down',
          status: 503,
          code: 'SHUTTING_DOWN',
        }
        return new Response(JSON.stringify(problem), {
          status: 503,
          headers: { 'content-type': 'application/problem+json', connection: 'close', 'retry-after': '5' },
        })
      }
      const handled = Promise.resolve(fetch(request, env))
      const settled = handled.then(
        () => undefined,
        () => undefined,
      )
      handlers.add(settled)
      void settled.finally(() => handlers.delete(settled))
      return handled
    },
    hostname,
    port,
    ...(tls ? { createServer: createHttpsServer, serverOptions: { cert: tls.cert, key: tls.key } } : {}),
  }) as HttpServer | HttpsServer
  server.on('request', (_request, response) => {
    activeResponses++
    response.once('close', () => activeResponses--)
  })
  const listening = new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve())
    server.once('error', reject)
  })
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()))
  const busy = () => activeResponses > 0 || handlers.size > 0

  async function drain(): Promise<void> {
    if (draining || !server.listening) return
    draining = true
    server.close()
    const deadline = Date.now() + drainTimeoutMs
    while (busy() && Date.now() < deadline) {
      server.closeIdleConnections()
      await sleep(20)
    }
    if (busy()) {
      logger.warn(
        { requests: activeResponses, drainTimeoutMs },
        'requests still running at the drain deadline: cut',
      )
    }
    server.closeAllConnections()
    // A handler whose connection was cut sees its request signal abort; it gets a moment to unwind
    // (abort its write, pin nothing) before the store it writes to closes.
    await Promise.race([Promise.allSettled([...handlers]), sleep(UNWIND_TIMEOUT_MS)])
    await Promise.race([closed, sleep(1_000)])
  }
  return { server, listening, drain }
}

async function runHooks(hooks: ShutdownHook[], logger: Logger): Promise<void> {
  for (const hook of [...hooks]) {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(new Error('shutdown hook timed out')), HOOK_TIMEOUT_MS)
    const overrun = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true })
    })
    try {
      await Promise.race([Promise.resolve().then(() => hook(controller.signal)), overrun])
    } catch (error) {
      logger.warn({ error: (error as Error).message }, 'shutdown hook failed')
    } finally {
      clearTimeout(timer)
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
