import { execFile } from 'node:child_process'

/*
 * dcmtk's dcmdump (Debian package `dcmtk`) as an independent reader: tests compare what PCMIMS reads with
 * what dcmtk prints for the same file.
 */

export type DcmdumpElement = {
  /** `(gggg,eeee)` lower-case, as dcmdump prints it. */
  tag: string
  /** Enclosing sequences, outermost first (`(300c,0002)`), when searched with `tags` (`+p`); else empty. */
  path: string[]
  /** Nesting depth: from the path, or from the indentation of a full dump (0 = top level). */
  depth: number
  vr: string
  /** The value as printed (text inside `[...]` for strings, the bare numbers otherwise); undefined when empty. */
  value: string | undefined
  /** Value multiplicity dcmdump reports. */
  vm: number
}

export type DcmdumpResult = {
  elements: DcmdumpElement[]
  stdout: string
  stderr: string
  exitCode: number
}

export type DcmdumpParameters = {
  /** Only these tags (`gggg,eeee` or dictionary names), at any depth; default: every element. */
  tags?: readonly string[] | undefined
  /** Extra command-line arguments, before the file. */
  args?: readonly string[] | undefined
  signal?: AbortSignal | undefined
}

const LINE =
  /^((?:\([0-9a-f]{4},[0-9a-f]{4}\)\.)*)\(([0-9a-f]{4}),([0-9a-f]{4})\) ([A-Za-z?]{2}) (.*?)\s+#\s*(?:\d+|u\/l),\s*(\d+)/

/** Runs `dcmdump -Un +L +U8` (UID numbers, whole values, UTF-8) and parses the element lines it prints. */
export function dcmdump(
  files: string | readonly string[],
  parameters: DcmdumpParameters = {},
): Promise<DcmdumpResult> {
  const list = typeof files === 'string' ? [files] : [...files]
  const search = (parameters.tags ?? []).flatMap((tag) => ['+P', tag])
  const args = [
    '-Un',
    '+L',
    '+U8',
    ...(search.length > 0 ? ['+p', ...search] : []),
    ...(parameters.args ?? []),
    ...list,
  ]
  return new Promise((resolve, reject) => {
    execFile(
      'dcmdump',
      args,
      { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8', signal: parameters.signal },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error)
          return
        }
        resolve({
          elements: parseDcmdump(stdout),
          stdout,
          stderr,
          exitCode: error ? Number(error.code) : 0,
        })
      },
    )
  })
}

/** Parses dcmdump element lines (with or without `+p` paths). */
export function parseDcmdump(text: string): DcmdumpElement[] {
  const elements: DcmdumpElement[] = []
  for (const line of text.split('\n')) {
    const indent = line.length - line.trimStart().length
    const match = LINE.exec(line.trimStart())
    if (!match) continue
    const [, prefix = '', group, element, vr = '', rawValue = '', vm = '0'] = match
    const path = prefix === '' ? [] : prefix.slice(0, -1).split('.')
    let value: string | undefined = rawValue.trim()
    if (value === '(no value available)') value = undefined
    else if (value.startsWith('[') && value.lastIndexOf(']') > 0)
      value = value.slice(1, value.lastIndexOf(']'))
    const depth = path.length > 0 ? path.length : Math.floor(indent / 2)
    elements.push({ tag: `(${group},${element})`, path, depth, vr, value, vm: Number(vm) })
  }
  return elements
}
