import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The `pcmims` entry point (same relative path from src/ and dist/). */
export const CLI = fileURLToPath(new URL('../../cli/bin/pcmims.js', import.meta.url))

export type CliResult = {
  code: number
  stdout: string
  stderr: string
  /** stdout parsed as JSON on success, stderr on failure (with `--json`), if it parses. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever shape each command prints
  json: any
}

/** Runs the real `pcmims` CLI in a child process on this Node (24). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code) => {
      let json: unknown
      try {
        json = JSON.parse(code === 0 ? stdout : stderr)
      } catch {
        json = undefined
      }
      resolve({ code: code ?? -1, stdout, stderr, json })
    })
  })
}
