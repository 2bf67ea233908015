import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { commands } from './commands/index.js'
import { closest, commandHelp, editDistance, generalHelp, VERSION } from './help.js'

describe('editDistance', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('uplaod', 'upload')).toBe(1)
    expect(editDistance('status', 'status')).toBe(0)
    expect(editDistance('', 'grant')).toBe(5)
    expect(editDistance('grant', 'grants')).toBe(1)
  })

  it('is symmetric and bounded by the longer length', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const d = editDistance(a, b)
        expect(d).toBe(editDistance(b, a))
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length))
        expect(d === 0).toBe(a === b)
      }),
    )
  })
})

describe('closest', () => {
  const words = commands.map((c) => c.name[0] as string)

  it('suggests a command for a typo, nothing for an unrelated word', () => {
    expect(closest('uplaod', words)).toBe('upload')
    expect(closest('stauts', words)).toBe('status')
    expect(closest('REVOEK', words)).toBe('revoke')
    expect(closest('frobnicate', words)).toBeUndefined()
    expect(closest('x', words)).toBeUndefined()
  })
})

describe('help', () => {
  it('lists every command, each usage on its own line and no line padded to the longest usage', () => {
    const text = generalHelp(commands)
    expect(text).toContain(`pcmims ${VERSION}`)
    for (const command of commands) expect(text).toContain(command.summary)
    for (const title of ['Node:', 'Accounts & units:', 'Records:', 'Consent:']) expect(text).toContain(title)
    expect(Math.max(...text.split('\n').map((line) => line.length))).toBeLessThan(120)
    expect(text.split('\n').some((line) => line.endsWith(' '))).toBe(false)
  })

  it("documents each command's options and the client options that apply", () => {
    for (const command of commands) {
      const text = commandHelp(command)
      expect(text.startsWith(`Usage: pcmims ${command.name.join(' ')}`)).toBe(true)
      for (const option of Object.keys(command.options ?? {}))
        expect(text, `${command.name.join(' ')} --${option}`).toContain(`--${option}`)
    }
    const grant = commandHelp(commands.find((c) => c.name[0] === 'grant') as (typeof commands)[number])
    expect(grant).toMatch(/--expires DURATION +how long the grant lasts: 90m, 12h, 30d, 2w \(default 30d/)
    expect(grant).toContain('MRI, CT, XRAY, US, REPORT, OTHER')
    expect(grant).toContain('PCMIMS_PASSPHRASE')
    const status = commandHelp(commands.find((c) => c.name[0] === 'status') as (typeof commands)[number])
    expect(status).toContain('--node URL')
    expect(status).not.toContain('--keystore')
  })
})
