import { parseArgs } from 'node:util'
import type { Command } from './command.js'
import { GLOBAL_OPTIONS } from './command.js'
import { commands } from './commands/index.js'
import { globalOptions } from './context.js'
import { createIo, reportError, UsageError } from './io.js'

function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const sorted = [...commands].sort((a, b) => b.name.length - a.name.length)
  for (const command of sorted) {
    if (command.name.every((word, i) => argv[i] === word))
      return { command, rest: argv.slice(command.name.length) }
  }
  return undefined
}

function help(): string {
  const width = Math.max(...commands.map((c) => c.usage.length))
  return [
    'pcmims — patient-centric medical image management',
    '',
    'Usage: pcmims <command> [options]',
    '',
    ...commands.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'Client options: --node URL (PCMIMS_NODE, default http://127.0.0.1:8480), --keystore FILE (PCMIMS_KEYSTORE),',
    '  --json (one JSON document on stdout; errors as JSON on stderr). Passphrase: PCMIMS_PASSPHRASE or a prompt.',
  ].join('\n')
}

/** Runs one CLI invocation and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json')
  const io = createIo(json)
  const found = findCommand(argv)
  if (!found) {
    if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
      io.out(help())
      return argv.length === 0 ? 2 : 0
    }
    return reportError(
      io,
      new UsageError(`Unknown command: ${argv.slice(0, 2).join(' ')}`, 'run `pcmims help`'),
    )
  }
  const { command, rest } = found
  const controller = new AbortController()
  const onSignal = () => controller.abort()
  process.once('SIGINT', onSignal)
  try {
    let parsed: ReturnType<typeof parseArgs>
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...GLOBAL_OPTIONS, ...command.options },
        allowPositionals: command.positionals ?? false,
        strict: true,
      })
    } catch (error) {
      throw new UsageError((error as Error).message, `usage: pcmims ${command.usage}`)
    }
    if (parsed.values.help) {
      io.out(`pcmims ${command.usage}\n\n${command.summary}`)
      return 0
    }
    await command.run({
      values: parsed.values as never,
      positionals: parsed.positionals,
      global: globalOptions(parsed.values),
      io,
      signal: controller.signal,
    })
    return 0
  } catch (error) {
    io.progressDone()
    return reportError(io, error)
  } finally {
    process.off('SIGINT', onSignal)
  }
}
