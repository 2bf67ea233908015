import { type Address, type Hex, zeroAddress } from 'viem'
import { type AnyClient, executeRead, type ReadParameters } from './internal/execute.js'

export type GetCopyAudienceParameters = ReadParameters & { id: Hex }

/** The audience of a de-identified copy, or `null` for any other record (or no record). */
export type GetCopyAudienceReturnType = Address | null

export async function getCopyAudience(
  client: AnyClient,
  params: GetCopyAudienceParameters,
): Promise<GetCopyAudienceReturnType> {
  const audience = await executeRead<Address>(client, {
    ...params,
    functionName: 'copyAudienceOf',
    args: [params.id],
  })
  return audience === zeroAddress ? null : audience
}
