import type { NodeContext } from '../context.js'
import { ChainUnavailableError } from './errors.js'

/** Brings the index up to the chain before a route reads it; a chain that cannot be read is a 503. */
export async function syncIndex(ctx: NodeContext): Promise<void> {
  try {
    await ctx.indexer.syncOnce()
  } catch (error) {
    throw new ChainUnavailableError(error)
  }
}
