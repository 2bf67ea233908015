import { pcmimsAbi } from '@pcmims/core'
import type { Hono } from 'hono'
import { decodeFunctionData, type Hex, isHex, parseTransaction, recoverTransactionAddress } from 'viem'
import { z } from 'zod'
import type { NodeContext } from '../../context.js'
import { authenticate } from '../authenticate.js'
import { parseJsonBody, readBodyLimited } from '../body.js'
import { AccessDeniedError, BadRequestError } from '../errors.js'

/**
 * Reads a client may make through the node: enough for viem to estimate, sign and follow its own
 * transactions, nothing that lets it scan or spam the chain through this node.
 */
const READ_METHODS = new Set([
  'eth_chainId',
  'eth_blockNumber',
  'eth_call',
  'eth_estimateGas',
  'eth_gasPrice',
  'eth_maxPriorityFeePerGas',
  'eth_feeHistory',
  'eth_getBlockByNumber',
  'eth_getTransactionCount',
  'eth_getTransactionReceipt',
  'eth_getTransactionByHash',
  'eth_getCode',
  'eth_getBalance',
])

const rpcRequestSchema = z.strictObject({
  jsonrpc: z.literal('2.0'),
  id: z.union([z.number().int(), z.string().max(64), z.null()]),
  method: z.string().max(64),
  params: z.array(z.unknown()).max(8).optional(),
})

type RpcRequest = z.infer<typeof rpcRequestSchema>

const MAX_RPC_BODY = 256 * 1024

/**
 * A JSON-RPC relay to the node's chain for signed-in users who cannot (or should not) reach the chain
 * themselves. Users still sign their own transactions — the node cannot act for them — and it only
 * relays transactions to the PCMIMS contract, signed by the signed-in caller, for this chain.
 */
export function chainRpcRoutes(app: Hono, ctx: NodeContext): void {
  app.post('/api/v1/chain/rpc', async (c) => {
    const caller = await authenticate(c, ctx)
    const body = parseJsonBody(
      z.union([rpcRequestSchema, z.array(rpcRequestSchema).min(1).max(20)]),
      await readBodyLimited(c.req.raw, MAX_RPC_BODY),
      'JSON-RPC request',
    )
    const answer = async (request: RpcRequest) => {
      try {
        const result = await handle(ctx, caller, request)
        return { jsonrpc: '2.0', id: request.id, result }
      } catch (error) {
        return { jsonrpc: '2.0', id: request.id, error: rpcError(error) }
      }
    }
    return c.json(Array.isArray(body) ? await Promise.all(body.map(answer)) : await answer(body))
  })
}

async function handle(ctx: NodeContext, caller: `0x${string}`, request: RpcRequest): Promise<unknown> {
  const params = request.params ?? []
  if (request.method === 'eth_sendRawTransaction') {
    const raw = params[0]
    if (typeof raw !== 'string' || !isHex(raw) || raw.length > 200_000) {
      throw new BadRequestError('Expected one signed transaction')
    }
    await checkRelayable(ctx, caller, raw)
    const hash = await ctx.chain.request('eth_sendRawTransaction', [raw])
    ctx.logger.info({ caller, hash }, 'transaction relayed')
    return hash
  }
  if (!READ_METHODS.has(request.method)) {
    throw new AccessDeniedError('This node does not relay that method', request.method)
  }
  return ctx.chain.request(request.method, params)
}

async function checkRelayable(ctx: NodeContext, caller: `0x${string}`, raw: Hex): Promise<void> {
  let transaction: ReturnType<typeof parseTransaction>
  let signer: `0x${string}`
  try {
    transaction = parseTransaction(raw)
    signer = await recoverTransactionAddress({ serializedTransaction: raw as never })
  } catch {
    throw new BadRequestError('Not a signed transaction')
  }
  if (signer !== caller)
    throw new AccessDeniedError('The transaction is signed by another account than the session’s')
  if (transaction.chainId !== ctx.chain.chainId)
    throw new BadRequestError('The transaction is for another chain')
  if (transaction.to?.toLowerCase() !== ctx.chain.contract.toLowerCase()) {
    throw new AccessDeniedError('This node relays transactions to the PCMIMS contract only')
  }
  try {
    decodeFunctionData({ abi: pcmimsAbi, data: transaction.data ?? '0x' })
  } catch {
    throw new BadRequestError('The transaction does not call a PCMIMS function')
  }
}

/** JSON-RPC error objects: client mistakes carry their message; anything else says nothing. */
function rpcError(error: unknown): { code: number; message: string; data?: unknown } {
  if (error instanceof BadRequestError) return { code: -32602, message: error.shortMessage }
  if (error instanceof AccessDeniedError) return { code: -32003, message: error.shortMessage }
  // Errors the chain returned (reverts, nonce too low, underpriced…) are the client's to see.
  const rpc = findRpcError(error)
  if (rpc) return rpc
  if (isUnreachable(error)) return { code: -32000, message: 'The chain cannot be reached' }
  return { code: -32603, message: 'Internal error' }
}

function findRpcError(error: unknown): { code: number; message: string; data?: unknown } | undefined {
  let current: unknown = error
  for (let depth = 0; current && depth < 6; depth++) {
    const e = current as { code?: unknown; details?: unknown; data?: unknown; cause?: unknown; name?: string }
    if (typeof e.code === 'number' && e.code !== -32603 && typeof e.details === 'string') {
      return {
        code: e.code,
        message: e.details.slice(0, 300),
        ...(e.data !== undefined ? { data: e.data } : {}),
      }
    }
    current = e.cause
  }
  return undefined
}

function isUnreachable(error: unknown): boolean {
  let current: unknown = error
  for (let depth = 0; current && depth < 6; depth++) {
    const name = (current as { name?: string }).name
    if (name === 'HttpRequestError' || name === 'TimeoutError') return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}
