import { pcmimsAbi } from '@pcmims/contracts'
import { ContractFunctionExecutionError, ContractFunctionRevertedError, encodeErrorResult } from 'viem'
import { describe, expect, it } from 'vitest'
import { ContractCallError, toContractCallError } from './errors.js'

describe('toContractCallError', () => {
  it('decodes a custom error viem could not decode (gas estimation hands it over raw)', () => {
    const data = encodeErrorResult({ abi: pcmimsAbi, errorName: 'InvalidExpiry', args: [1] })
    const reverted = new ContractFunctionRevertedError({ abi: [], data, functionName: 'grant' })
    expect(reverted.data).toBeUndefined()
    const wrapped = new ContractFunctionExecutionError(reverted, { abi: [], functionName: 'grant' })
    const error = toContractCallError(wrapped, 'grant')
    expect(error).toBeInstanceOf(ContractCallError)
    expect((error as ContractCallError).errorName).toBe('InvalidExpiry')
    expect((error as ContractCallError).shortMessage).not.toMatch(/0x3dd7d111|signature/)
  })

  it('decodes errors without arguments too (selector-only revert data)', () => {
    const bare = pcmimsAbi.find((item) => item.type === 'error' && item.inputs.length === 0)
    if (bare?.type !== 'error') throw new Error('the ABI has no error without arguments')
    const data = encodeErrorResult({ abi: pcmimsAbi, errorName: bare.name } as never)
    const reverted = new ContractFunctionRevertedError({ abi: [], data, functionName: 'x' })
    const error = toContractCallError(reverted, 'x')
    expect((error as ContractCallError).errorName).toBe(bare.name)
  })
})
