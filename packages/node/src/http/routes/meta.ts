import type { Hono } from 'hono'
import type { NodeContext } from '../../context.js'

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

  app.get('/api/v1/health', async (c) => {
    let chain: { ok: boolean; blockNumber?: string; indexedBlock?: string } = { ok: false }
    try {
      const blockNumber = await ctx.chain.reader.blockNumber()
      const indexed = ctx.indexer.lastBlock()
      chain = {
        ok: true,
        blockNumber: String(blockNumber),
        ...(indexed !== undefined ? { indexedBlock: String(indexed) } : {}),
      }
    } catch {
      chain = { ok: false }
    }
    let ipfs = { ok: false }
    try {
      for await (const _ of ctx.store.pins()) break
      ipfs = { ok: true }
    } catch {
      ipfs = { ok: false }
    }
    const outbox = ctx.outbox.counts()
    const ok = chain.ok && ipfs.ok
    return c.json({ status: ok ? 'ok' : 'degraded', chain, ipfs, outbox }, ok ? 200 : 503)
  })
}
