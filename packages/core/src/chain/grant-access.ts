import { grantFlags, type Kind, Scope } from '@pcmims/contracts'
import { type Address, type Hex, zeroHash } from 'viem'
import { resolveKindMask, toUnixSeconds } from './internal/enums.js'
import {
  type AnyClient,
  eventOf,
  executeWrite,
  type WriteParameters,
  type WriteReturnType,
} from './internal/execute.js'

export type GrantAccessParameters = WriteParameters & {
  grantee: Address
  scope: 'All' | 'Kinds' | 'Records'
  /** For scope Kinds: the kinds covered (or give `kindMask`). */
  kinds?: readonly Kind[] | undefined
  kindMask?: number | undefined
  /** For scope Records: at least one of the patient's current record ids. */
  recordIds?: readonly Hex[] | undefined
  /** Unix seconds (or a Date); must be in the future. */
  expiresAt: number | bigint | Date
  download?: boolean | undefined
  deidentifiedOnly?: boolean | undefined
  /** sha-256 digest of the grant key bundle's CID (logged only); zero when there is none. */
  keyBundle?: Hex | undefined
}

export type GrantAccessReturnType = WriteReturnType & { epoch: number }

/** The sending patient creates or replaces its grant to `grantee`; each call starts a new epoch. */
export async function grantAccess(
  client: AnyClient,
  params: GrantAccessParameters,
): Promise<GrantAccessReturnType> {
  const result = await executeWrite(client, {
    ...params,
    functionName: 'grant',
    args: [
      params.grantee,
      Scope[params.scope],
      resolveKindMask(params),
      params.recordIds ?? [],
      toUnixSeconds(params.expiresAt),
      grantFlags({ download: params.download ?? false, deidentifiedOnly: params.deidentifiedOnly ?? false }),
      params.keyBundle ?? zeroHash,
    ],
  })
  return { ...result, epoch: eventOf(result, 'GrantSet').args.epoch }
}
