import type { ParseArgsConfig } from 'node:util'
import type { GlobalOptions } from './context.js'
import type { Io } from './io.js'

export type CommandContext = {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>
  positionals: string[]
  global: GlobalOptions
  io: Io
  signal: AbortSignal
}

export type Command = {
  /** Words that select the command, e.g. `['account', 'new']`. */
  name: string[]
  summary: string
  usage: string
  options?: NonNullable<ParseArgsConfig['options']>
  /** Notes for `--help`, one `[option, note]` pair per option; a note may span lines (`\n`). */
  details?: Array<[option: string, note: string]>
  /** The client options that apply, for `--help`; all of them when absent. */
  clientOptions?: ClientOption[]
  /** Whether positional arguments are allowed. */
  positionals?: boolean
  run(ctx: CommandContext): Promise<void>
}

export type ClientOption = 'node' | 'keystore' | 'json' | 'passphrase'

export const GLOBAL_OPTIONS = {
  node: { type: 'string' },
  keystore: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>

export function str(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.values[name]
  return typeof value === 'string' ? value : undefined
}

export function strs(ctx: CommandContext, name: string): string[] {
  const value = ctx.values[name]
  return Array.isArray(value) ? (value as string[]) : typeof value === 'string' ? [value] : []
}

export function flag(ctx: CommandContext, name: string): boolean {
  return ctx.values[name] === true
}
