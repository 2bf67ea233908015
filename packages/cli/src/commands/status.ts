import { createNodeClient } from '@pcmims/core'
import type { Command } from '../command.js'

export const status: Command = {
  name: ['status'],
  summary: "The node's health: chain, IPFS and outbox",
  usage: 'status',
  async run(ctx) {
    const node = createNodeClient({ url: ctx.global.node })
    const response = await fetch(`${node.url}/api/v1/health`).catch(() => undefined)
    if (!response) throw new Error(`Cannot reach the node at ${node.url}`)
    const health = (await response.json()) as {
      status: string
      chain: { ok: boolean; blockNumber?: string; indexedBlock?: string }
      ipfs: { ok: boolean }
      outbox: Record<string, number>
    }
    ctx.io.result(health, () =>
      [
        `node   ${node.url}: ${health.status}`,
        `chain  ${health.chain.ok ? `ok, block ${health.chain.blockNumber}, indexed ${health.chain.indexedBlock ?? '-'}` : 'unreachable'}`,
        `ipfs   ${health.ipfs.ok ? 'ok' : 'unavailable'}`,
        `outbox ${Object.entries(health.outbox)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      ].join('\n'),
    )
    if (health.status !== 'ok') process.exitCode = 1
  },
}
