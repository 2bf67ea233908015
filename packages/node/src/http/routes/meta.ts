import type { Hono } from 'hono'
import type { NodeContext } from '../../context.js'
import type { StoreHealth } from '../../storage/index.js'

export function metaRoutes(app: Hono, ctx: NodeContext): void {
  app.get('/api/v1/version', (c) => c.json({ name: 'pcmims-node', version: ctx.version, api: 'v1' }))

  // What a client needs to talk to the chain and wrap keys for this node's unit.
  app.get('/api/v1/config', (c) =>
    c.json({
      chainId: ctx.chain.chainId,
      contract: ctx.chain.contract,
      rpcUrl: ctx.chain.rpcUrl,
      unit: ctx.unit.address,
      limits: { maxBlobBytes: ctx.config.limits.maxBlobBytes, maxJsonBytes: ctx.config.limits.maxJsonBytes },
    }),
  )

  // Unauthenticated, for load balancers and `pcmims status`: states and counts only, never a path, a URL
  // or a key. 503 when the node cannot do its work (chain unreachable, content store down or stopped).
  const startedAt = performance.now()
  app.get('/api/v1/health', async (c) => {
    const [chain, ipfs] = await Promise.all([probeChain(ctx), probeStore(ctx)])
    const outbox = outboxState(ctx)
    const lastBlock = ctx.indexer.lastBlock()
    const indexer = {
      lastBlock: lastBlock === undefined ? null : Number(lastBlock),
      lagBlocks:
        lastBlock === undefined || chain.blockNumber === null
          ? null
          : Math.max(0, chain.blockNumber - Number(lastBlock)),
    }
    const ok = chain.reachable && ipfs.ok && outbox !== undefined
    return c.json(
      {
        status: ok ? 'ok' : 'degraded',
        chain,
        ipfs,
        outbox: outbox ?? null,
        indexer,
        audit: auditState(ctx),
        uptimeS: Math.floor((performance.now() - startedAt) / 1000),
        version: ctx.version,
      },
      ok ? 200 : 503,
    )
  })
}

/** Longest a health probe waits on the chain or the store: a hung dependency must not hang the probe. */
const PROBE_TIMEOUT_MS = 3_000

type ChainHealth = {
  /** Same as `reachable`; `pcmims status` reads it. */
  ok: boolean
  reachable: boolean
  chainId: number
  blockNumber: number | null
  latencyMs: number
}

async function probeChain(ctx: NodeContext): Promise<ChainHealth> {
  const started = performance.now()
  let blockNumber: number | null = null
  try {
    blockNumber = Number(await withTimeout(ctx.chain.reader.blockNumber(), PROBE_TIMEOUT_MS))
  } catch {
    blockNumber = null
  }
  const reachable = blockNumber !== null
  return {
    ok: reachable,
    reachable,
    chainId: ctx.chain.chainId,
    blockNumber,
    latencyMs: Math.round(performance.now() - started),
  }
}

async function probeStore(ctx: NodeContext): Promise<StoreHealth> {
  const mode = ctx.config.ipfs.mode
  const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS)
  if (ctx.store.health) {
    return withTimeout(ctx.store.health({ signal }), PROBE_TIMEOUT_MS + 500).catch(() => ({
      mode,
      ok: false,
      error: 'unreachable' as const,
    }))
  }
  try {
    for await (const _ of ctx.store.pins({ signal })) break
    return { mode, ok: true }
  } catch {
    return { mode, ok: false, error: 'error' }
  }
}

type OutboxHealth = {
  queued: number
  submitted: number
  confirmed: number
  failed: number
  /** Age of the oldest entry still waiting to be sent (null when none is). */
  oldestQueuedAgeS: number | null
}

function outboxState(ctx: NodeContext): OutboxHealth | undefined {
  try {
    const counts = ctx.outbox.counts()
    const row = ctx.db.prepare(`SELECT MIN(created_at) AS oldest FROM outbox WHERE state = 'queued'`).get() as
      | { oldest: number | null }
      | undefined
    const oldest = row?.oldest ?? null
    return {
      queued: counts.queued,
      submitted: counts.submitted,
      confirmed: counts.confirmed,
      failed: counts.failed,
      oldestQueuedAgeS: oldest === null ? null : Math.max(0, Math.floor((Date.now() - oldest) / 1000)),
    }
  } catch {
    // The database is closed (the node is stopping) or unreadable.
    return undefined
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('probe timed out')), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function auditState(ctx: NodeContext) {
  try {
    const latest = ctx.audit.latestAnchor()
    return {
      size: ctx.audit.size(),
      pending: ctx.audit.pendingSize(),
      anchoredSize: latest?.size ?? 0,
      anchoredAt: latest?.anchoredAt ?? null,
      anchorIntervalS: ctx.config.audit.anchorIntervalS,
    }
  } catch {
    return null
  }
}
