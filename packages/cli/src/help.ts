import { readFileSync } from 'node:fs'
import type { ClientOption, Command } from './command.js'
import { DEFAULT_NODE_URL } from './context.js'

export const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version

const WIDTH = 104

// By first word; a command not listed lands under "Other", so a new command is never hidden.
const GROUPS: Array<[title: string, words: string[]]> = [
  ['Node', ['start', 'status']],
  ['Accounts & units', ['account', 'register', 'registrations', 'approve', 'reject', 'suspend']],
  ['Records', ['upload', 'records', 'show', 'get']],
  ['Consent', ['grant', 'grants', 'revoke', 'rotate', 'request', 'requests', 'respond', 'emergency']],
  ['Audit', ['audit']],
]

const CLIENT_OPTIONS: Array<[ClientOption, string, string]> = [
  ['node', '--node URL', `the node to talk to (PCMIMS_NODE; default ${DEFAULT_NODE_URL})`],
  ['keystore', '--keystore FILE', 'your keystore (PCMIMS_KEYSTORE)'],
  ['json', '--json', 'one JSON document on stdout; errors as JSON on stderr'],
  ['passphrase', 'PCMIMS_PASSPHRASE', "the keystore's passphrase; asked on a terminal when unset"],
]

/** Breaks a usage line between its words and `[…]` groups, continuing lines further indented. */
function wrap(text: string, indent: string, more = '  '): string[] {
  const lines: string[] = []
  let line = indent
  for (const token of text.match(/\[[^\]]*\]|\S+/g) ?? []) {
    if (line.trim() && line.length + 1 + token.length > WIDTH) {
      lines.push(line)
      line = `${indent}${more}${token}`
    } else {
      line = line.trim() ? `${line} ${token}` : `${line}${token}`
    }
  }
  lines.push(line)
  return lines
}

function notes(
  pairs: Array<[string, string]>,
  width = Math.max(...pairs.map(([label]) => label.length)),
): string[] {
  return pairs.flatMap(([label, note]) =>
    note.split('\n').map((part, i) => `  ${(i === 0 ? label : '').padEnd(width)}  ${part}`),
  )
}

function entry(command: Command): string[] {
  return [...wrap(command.usage, '  '), `      ${command.summary}`]
}

export function generalHelp(commands: Command[]): string {
  const listed = new Set(GROUPS.flatMap(([, words]) => words))
  const groups: Array<[string, Command[]]> = [
    ...GROUPS.map(([title, words]): [string, Command[]] => [
      title,
      commands.filter((c) => words.includes(c.name[0] as string)),
    ]),
    ['Other', commands.filter((c) => !listed.has(c.name[0] as string))],
  ]
  return [
    `pcmims ${VERSION} — patient-centric medical image management`,
    '',
    'Usage: pcmims <command> [options]',
    '       pcmims <command> --help     usage, options and accepted values of one command',
    '       pcmims --version',
    ...groups
      .filter(([, list]) => list.length > 0)
      .flatMap(([title, list]) => ['', `${title}:`, ...list.flatMap(entry)]),
    '',
    'Client options (after the command):',
    ...notes(CLIENT_OPTIONS.map(([, label, note]) => [label, note])),
  ].join('\n')
}

export function commandHelp(command: Command): string {
  const only = command.clientOptions
  const client = CLIENT_OPTIONS.filter(([option]) => !only || only.includes(option)).map(
    ([, label, note]): [string, string] => [label, note],
  )
  const width = Math.max(...[...(command.details ?? []), ...client].map(([label]) => label.length))
  return [
    ...wrap(`pcmims ${command.usage}`, '', '       ').map((line, i) => (i === 0 ? `Usage: ${line}` : line)),
    '',
    command.summary,
    ...(command.details?.length ? ['', 'Options:', ...notes(command.details, width)] : []),
    ...(client.length ? ['', 'Client options:', ...notes(client, width)] : []),
  ].join('\n')
}

/** The commands under a first word, e.g. `pcmims account`. */
export function groupHelp(word: string, commands: Command[]): string {
  return [
    `Usage: pcmims ${word} <subcommand> [options]`,
    '',
    ...commands.flatMap(entry),
    '',
    `Run \`pcmims ${word} <subcommand> --help\` for its options.`,
  ].join('\n')
}

/** Optimal string alignment distance: edits, with a swap of two neighbours counting as one. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  const at = (i: number, j: number) => d[i]?.[j] ?? 0
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1)
      ;(d[i] as number[])[j] = best
    }
  }
  return at(a.length, b.length)
}

/** The candidate closest to `word`, when it is close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}
