import { enumName, Kind, pcmimsAbi, Role, Scope, Status } from '@pcmims/contracts'
import { isAddressEqual, type Log, type ParseEventLogsReturnType, parseEventLogs } from 'viem'
import { type GrantTerms, unpackGrantTerms } from './unpack-grant-terms.js'

type EnumFields = { role: Role; status: Status; kind: Kind; scope: Scope }
type WithEnumNames<T> = { [K in keyof T]: K extends keyof EnumFields ? EnumFields[K] : T[K] }
/** `GrantSet` logs its terms packed in one word; the decoded event carries them unpacked. */
type Unpacked<N, A> = N extends 'GrantSet'
  ? Pick<A, 'patient' & keyof A> & Pick<A, 'grantee' & keyof A> & GrantTerms & Pick<A, 'keyBundle' & keyof A>
  : A
type RawPcmimsLog = ParseEventLogsReturnType<typeof pcmimsAbi, undefined, true>[number]

/**
 * One decoded Pcmims event: viem's typed log, with enum arguments as names (`role: 'Medic'`, `kind: 'CT'`)
 * and the packed `terms` of `GrantSet` split into `scope`, `kindMask`, `expiresAt`, `flags` and `epoch`.
 * Discriminate on `eventName`.
 */
export type PcmimsEvent = RawPcmimsLog extends infer L
  ? L extends { eventName: infer N; args: infer A }
    ? Omit<L, 'args' | 'eventName'> & { eventName: N; args: WithEnumNames<Unpacked<N, A>> }
    : never
  : never

export type PcmimsEventName = PcmimsEvent['eventName']

export type DecodePcmimsLogsParameters = {
  /** Keep only logs emitted by this contract (recommended: another contract may emit look-alike events). */
  address?: `0x${string}` | undefined
}

const enumMirrors = { role: Role, status: Status, kind: Kind, scope: Scope } as const

/** Decodes the Pcmims events among `logs` (others are skipped), in the order given. */
export function decodePcmimsLogs(
  logs: readonly Log[],
  params: DecodePcmimsLogsParameters = {},
): PcmimsEvent[] {
  const { address } = params
  const own = address ? logs.filter((log) => log.address && isAddressEqual(log.address, address)) : logs
  const parsed = parseEventLogs({ abi: pcmimsAbi, logs: own as Log[], strict: true })
  return parsed.map((log) => {
    let args: Record<string, unknown> = { ...(log.args as Record<string, unknown>) }
    if (log.eventName === 'GrantSet') {
      const { patient, grantee, terms, keyBundle } = log.args
      args = { patient, grantee, ...unpackGrantTerms(terms), keyBundle }
    }
    for (const [field, mirror] of Object.entries(enumMirrors)) {
      const value = args[field]
      if (typeof value === 'number') args[field] = enumName(mirror, value)
    }
    return { ...log, args } as unknown as PcmimsEvent
  })
}
