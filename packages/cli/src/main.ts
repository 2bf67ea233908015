import { parseArgs } from 'node:util'
import type { Command } from './command.js'
import { GLOBAL_OPTIONS } from './command.js'
import { commands } from './commands/index.js'
import { globalOptions, signOutAll } from './context.js'
import { closest, commandHelp, generalHelp, groupHelp, VERSION } from './help.js'
import { createIo, type Io, reportError, UsageError } from './io.js'

function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const sorted = [...commands].sort((a, b) => b.name.length - a.name.length)
  for (const command of sorted) {
    if (command.name.every((word, i) => argv[i] === word))
      return { command, rest: argv.slice(command.name.length) }
  }
  return undefined
}

const isHelp = (arg: string) => arg === '--help' || arg === '-h'

/** Node's parseArgs messages explain `--` escaping at length; a short line and the usage say more. */
function parseError(error: unknown, command: Command): UsageError {
  const { code, message } = error as { code?: string; message: string }
  const usage = `usage: pcmims ${command.usage}`
  const option = /'(-[^' ]+)/.exec(message)?.[1]
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
    const known = Object.keys({ ...GLOBAL_OPTIONS, ...command.options })
    const suggestion = closest(option.replace(/^-+/, ''), known)
    return new UsageError(
      `Unknown option ${option}`,
      suggestion ? `did you mean --${suggestion}? ${usage}` : usage,
    )
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    return new UsageError(
      /does not take an argument/.test(message) ? `${option} takes no value` : `${option} needs a value`,
      usage,
    )
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const argument = /'([^']*)'/.exec(message)?.[1]
    return new UsageError(`Unexpected argument${argument ? ` ${argument}` : ''}`, usage)
  }
  return new UsageError(message.split('. ')[0] ?? message, usage)
}

/** What to say when no command matches: the group's subcommands, or the closest command. */
function notFound(io: Io, argv: string[]): number {
  const [first = '', second] = argv
  if (first.startsWith('-')) {
    return reportError(io, new UsageError('Give the command first', 'usage: pcmims <command> [options]'))
  }
  const group = commands.filter((c) => c.name.length > 1 && c.name[0] === first)
  if (group.length > 0 && (second === undefined || second.startsWith('-'))) {
    io.out(groupHelp(first, group))
    return argv.some(isHelp) ? 0 : 2
  }
  const words = group.length > 0 ? [first, second ?? ''] : [first]
  const candidates =
    group.length > 0
      ? group.map((c) => c.name[1] ?? '')
      : [...commands.map((c) => c.name[0] ?? ''), 'help', 'version']
  const suggestion = closest(words.at(-1) ?? '', [...new Set(candidates)])
  const hint = suggestion ? `pcmims ${[...words.slice(0, -1), suggestion].join(' ')}` : undefined
  return reportError(
    io,
    new UsageError(
      `Unknown command: ${words.join(' ')}`,
      hint ? `did you mean \`${hint}\`? Run \`pcmims help\` for the list` : 'run `pcmims help` for the list',
    ),
  )
}

/** Runs one CLI invocation and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json')
  const io = createIo(json)
  const first = argv[0]
  if (first === 'version' || first === '--version') {
    io.result({ version: VERSION }, () => `pcmims ${VERSION}`)
    return 0
  }
  if (first === undefined || first === 'help' || isHelp(first)) {
    const topic = argv.slice(1).filter((arg) => !arg.startsWith('-'))
    if (topic.length > 0) return main([...topic, '--help'])
    io.out(generalHelp(commands))
    return first === undefined ? 2 : 0
  }
  const found = findCommand(argv)
  if (!found) return notFound(io, argv)
  const { command, rest } = found
  if (rest.some(isHelp)) {
    io.out(commandHelp(command))
    return 0
  }
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
      throw parseError(error, command)
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
    await signOutAll()
  }
}
