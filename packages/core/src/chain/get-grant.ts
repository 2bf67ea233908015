import { enumName, GrantFlag, type Kind, kindsOf, Scope } from '@pcmims/contracts'
import type { Address } from 'viem'
import { type AnyClient, executeRead, type ReadParameters } from './internal/execute.js'

export type GetGrantParameters = ReadParameters & { patient: Address; grantee: Address }

export type GetGrantReturnType = {
  /** 'None' when there is no grant or it was revoked. */
  scope: Scope
  kindMask: number
  kinds: Kind[]
  expiresAt: number
  flags: number
  download: boolean
  deidentifiedOnly: boolean
  /** Increments on every grant or change; a Records-scope set counts only for the current epoch. */
  epoch: number
}

/** The patient's grant to `grantee` as stored (check `expiresAt` against chain time for "active"). */
export async function getGrant(client: AnyClient, params: GetGrantParameters): Promise<GetGrantReturnType> {
  const g = await executeRead<{
    expiresAt: number
    kindMask: number
    scope: number
    flags: number
    epoch: number
  }>(client, { ...params, functionName: 'grantOf', args: [params.patient, params.grantee] })
  return {
    scope: enumName(Scope, g.scope),
    kindMask: g.kindMask,
    kinds: kindsOf(g.kindMask),
    expiresAt: g.expiresAt,
    flags: g.flags,
    download: (g.flags & GrantFlag.Download) !== 0,
    deidentifiedOnly: (g.flags & GrantFlag.DeidentifiedOnly) !== 0,
    epoch: g.epoch,
  }
}
