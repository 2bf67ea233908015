import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM build script without type declarations
import { readSources } from '../scripts/solc-build.mjs'
import {
  GRANT_FLAGS_MASK,
  GrantFlag,
  GrantTermsBits,
  KIND_MASK_ALL,
  Kind,
  MAX_EMERGENCY_DURATION,
  Purpose,
  pcmimsAbi,
  RecordFlag,
  RequestStatus,
  Role,
  Scope,
  Status,
} from '../src/index.js'

type AstNode = {
  nodeType: string
  name?: string
  members?: AstNode[]
  value?: unknown
  [key: string]: unknown
}

const require = createRequire(import.meta.url)

/** Parses the sources (AST only: no code generation, so this is quick). */
function fileLevelDeclarations(): { enums: Map<string, string[]>; constants: Map<string, string> } {
  const solc = require('solc')
  const output = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: 'Solidity',
        sources: readSources(),
        settings: { outputSelection: { '*': { '': ['ast'] } } },
      }),
    ),
  )
  const enums = new Map<string, string[]>()
  const constants = new Map<string, string>()
  const visit = (node: AstNode) => {
    if (node.nodeType === 'EnumDefinition' && node.name && node.members) {
      enums.set(
        node.name,
        node.members.map((m) => m.name ?? ''),
      )
    }
    if (node.nodeType === 'VariableDeclaration' && node.constant === true && node.name) {
      const value = node.value as AstNode | undefined
      if (value?.nodeType === 'Literal') constants.set(node.name, String(value.value))
    }
    for (const child of Object.values(node)) {
      if (Array.isArray(child)) for (const c of child) if (c && typeof c === 'object') visit(c as AstNode)
      if (child && typeof child === 'object' && !Array.isArray(child)) visit(child as AstNode)
    }
  }
  for (const source of Object.values(output.sources) as Array<{ ast: AstNode }>) visit(source.ast)
  return { enums, constants }
}

describe('constants mirror the contract', () => {
  const { enums, constants } = fileLevelDeclarations()

  it.each([
    ['Role', Role],
    ['Status', Status],
    ['Kind', Kind],
    ['Scope', Scope],
    ['RequestStatus', RequestStatus],
  ] as const)('enum %s has the same members in the same order', (name, mirror) => {
    const members = enums.get(name)
    expect(members, `enum ${name} not found in the sources`).toBeDefined()
    expect(Object.keys(mirror)).toEqual(members)
    expect(Object.values(mirror)).toEqual(members?.map((_, i) => i))
  })

  it('grant flags, kind mask, purpose codes and emergency limit match the Solidity constants', () => {
    expect(Number(constants.get('GRANT_DOWNLOAD'))).toBe(GrantFlag.Download)
    expect(Number(constants.get('GRANT_DEIDENTIFIED_ONLY'))).toBe(GrantFlag.DeidentifiedOnly)
    expect(Number(constants.get('GRANT_FLAGS_MASK'))).toBe(GRANT_FLAGS_MASK)
    expect(Number(constants.get('KIND_MASK_ALL'))).toBe(KIND_MASK_ALL)
    expect(KIND_MASK_ALL).toBe((1 << Object.keys(Kind).length) - 1)
    expect(Number(constants.get('MAX_PURPOSE_CODE'))).toBe(Math.max(...Object.values(Purpose)))
    expect(Number(constants.get('RECORD_SUPERSEDED'))).toBe(RecordFlag.Superseded)
    expect(Number(constants.get('RECORD_DEIDENTIFIED'))).toBe(RecordFlag.Deidentified)
    expect(constants.get('MAX_EMERGENCY_DURATION')).toBe('4')
    expect(MAX_EMERGENCY_DURATION).toBe(4 * 3600)
  })

  it('grant terms bit offsets match the packed-slot constants', () => {
    expect(GrantTermsBits.expiresAt).toBe(0)
    expect(Number(constants.get('MASK_40'))).toBe(2 ** GrantTermsBits.kindMask - 1)
    expect(Number(constants.get('G_KIND_MASK'))).toBe(GrantTermsBits.kindMask)
    expect(Number(constants.get('G_SCOPE'))).toBe(GrantTermsBits.scope)
    expect(Number(constants.get('G_FLAGS'))).toBe(GrantTermsBits.flags)
    expect(Number(constants.get('G_EPOCH'))).toBe(GrantTermsBits.epoch)
  })

  it('the ABI types enum parameters as uint8 with the enum as internal type', () => {
    const register = pcmimsAbi.find((x) => x.type === 'function' && x.name === 'register')
    expect(register && 'inputs' in register ? register.inputs[1] : undefined).toMatchObject({
      type: 'uint8',
      internalType: 'enum Role',
    })
  })
})
