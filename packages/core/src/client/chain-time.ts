import type { PublicClient } from 'viem'

/** The chain's clock (latest block timestamp, seconds): grants and emergencies expire by it. */
export async function getChainTime(publicClient: PublicClient): Promise<number> {
  return Number((await publicClient.getBlock({ blockTag: 'latest' })).timestamp)
}
