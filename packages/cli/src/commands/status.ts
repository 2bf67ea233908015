import { createNodeClient, NodeRequestError } from '@pcmims/core'
import type { Command } from '../command.js'

type Health = {
  status: string
  chain: { ok: boolean; blockNumber: number | null; latencyMs: number }
  ipfs: { ok: boolean; mode: string }
  outbox: {
    queued: number
    submitted: number
    confirmed: number
    failed: number
    oldestQueuedAgeS: number | null
  } | null
  indexer: { lastBlock: number | null; lagBlocks: number | null }
  audit?: {
    size: number
    pending: number
    anchoredSize: number
    anchoredAt: string | null
    anchorIntervalS: number
  } | null
}

export const status: Command = {
  name: ['status'],
  summary: "The node's health: chain, IPFS and outbox",
  usage: 'status',
  clientOptions: ['node', 'json'],
  async run(ctx) {
    const node = createNodeClient({ url: ctx.global.node })
    const unreachable = (cause?: unknown) =>
      new NodeRequestError(
        0,
        `Cannot reach the node at ${node.url}`,
        'NODE_UNREACHABLE',
        'is it running? Start one with `pcmims start`, or pass --node URL',
        cause,
      )
    // Not node.json: a degraded node answers 503 with the same body, which is still worth showing.
    const response = await fetch(`${node.url}/api/v1/health`, { signal: ctx.signal }).catch((cause) => {
      throw unreachable(cause)
    })
    const health = (await response.json().catch(() => undefined)) as Health | undefined
    if (!health?.chain || !health.ipfs) {
      throw new NodeRequestError(
        response.status,
        `${node.url} did not answer like a PCMIMS node`,
        'NOT_A_NODE',
        `GET /api/v1/health answered ${response.status}`,
      )
    }
    ctx.io.result(health, () =>
      [
        `node   ${node.url}: ${health.status}`,
        `chain  ${health.chain.ok ? `ok, block ${health.chain.blockNumber}, indexed ${health.indexer?.lastBlock ?? '-'} (${health.chain.latencyMs} ms)` : 'unreachable'}`,
        `ipfs   ${health.ipfs.mode}: ${health.ipfs.ok ? 'ok' : 'unavailable'}`,
        `outbox ${
          health.outbox
            ? `queued ${health.outbox.queued}, submitted ${health.outbox.submitted}, confirmed ${health.outbox.confirmed}, failed ${health.outbox.failed}${
                health.outbox.oldestQueuedAgeS !== null
                  ? `, oldest queued ${health.outbox.oldestQueuedAgeS} s ago`
                  : ''
              }`
            : 'unreadable'
        }`,
        ...(health.audit
          ? [
              `audit  ${health.audit.size} entries, ${health.audit.anchoredSize} anchored on chain${
                health.audit.anchoredAt ? ` (${health.audit.anchoredAt})` : ''
              }, ${health.audit.pending} pending (anchored every ${health.audit.anchorIntervalS} s and at shutdown)`,
            ]
          : []),
      ].join('\n'),
    )
    if (health.status !== 'ok') process.exitCode = 1
  },
}
