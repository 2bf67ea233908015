import { pcmimsAbi } from '@pcmims/contracts'
import {
  ContractFunctionRevertedError,
  decodeErrorResult,
  type Hash,
  type Hex,
  toFunctionSelector,
  BaseError as ViemBaseError,
} from 'viem'
import { formatAbiItem } from 'viem/utils'
import { BaseError } from '../errors/base-error.js'
import { toTransactionError } from './transaction-errors.js'

/** Names of the contract's custom errors, straight from the ABI. */
export type PcmimsErrorName = Extract<(typeof pcmimsAbi)[number], { type: 'error' }>['name']

/** A short, user-facing sentence per custom error (the compiler checks the list is complete). */
export const pcmimsErrorMessages: Record<PcmimsErrorName, string> = {
  NotGovernance: 'Only the network governance can do this',
  NotPendingGovernance: 'Only the pending governance can accept the handover',
  ZeroAddress: 'The address must not be zero',
  ZeroKey: 'The encryption key must not be zero',
  AlreadyRegistered: 'This account is already registered',
  NotRegistered: 'This account is not registered',
  InvalidRole: 'This role cannot be registered',
  InvalidStatus: 'A unit can only be set Approved or Suspended',
  NotAUnit: 'This account is not a health unit',
  UnitNotApproved: 'The health unit is not approved',
  NotUnitOf: "Only the account's own health unit can do this",
  InvalidStatusTransition: 'The participant is not in a status that allows this change',
  NotApprovedParticipant: 'The account is not an approved participant in the required role',
  NotUploaderOrUnit: 'Only the uploader or its health unit can anchor for this uploader',
  EmptyBatch: 'The batch is empty',
  RecordExists: 'A record with this id is already anchored',
  RecordNotFound: 'No record with this id is anchored',
  RecordSuperseded: 'This record was replaced by a rotated copy',
  NotRecordPatient: 'The record belongs to another patient',
  NotPatientOrCustodian: "Only the record's patient or its custodian unit can do this",
  InvalidGrantee: 'The grantee must be another, non-zero address',
  InvalidAudience: 'The audience must be an approved participant other than the patient',
  InvalidExpiry: 'The expiry must be in the future',
  InvalidScope: 'The scope does not fit the request (Records needs record ids, other scopes none)',
  InvalidKindMask: 'The kind mask does not fit the scope',
  InvalidFlags: 'Unknown grant flags',
  NoActiveGrant: 'The patient has no active grant to this account',
  InvalidPurpose: 'Unknown purpose code',
  RequestNotFound: 'No access request with this id',
  NotRequestPatient: 'Only the patient the request was sent to can answer it',
  RequestNotPending: 'This request was already answered',
  InvalidDuration: 'An emergency lasts between 1 second and 4 hours',
  EmergencyActive: 'An emergency access by this medic for this patient is still active',
  NoActiveEmergency: 'There is no active emergency access to end',
  AuditSizeNotIncreasing: 'The audit log size must be larger than the last anchored size',
  ZeroAuditRoot: 'The audit root must not be zero',
}

const errorNames = new Set<string>(Object.keys(pcmimsErrorMessages))

export function isPcmimsErrorName(name: string): name is PcmimsErrorName {
  return errorNames.has(name)
}

/** `RecordExists` → `RECORD_EXISTS`. */
function toCode(errorName: string): string {
  return errorName.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
}

export type ContractCallErrorParameters = {
  functionName: string
  errorName: PcmimsErrorName | 'Unknown'
  args?: readonly unknown[] | undefined
  details?: string | undefined
  cause?: unknown
}

/**
 * A call to the Pcmims contract reverted (found while simulating, so no gas was spent). `errorName` is the
 * contract's custom error, `args` its arguments; `code` is the error name in SCREAMING_SNAKE_CASE.
 */
export class ContractCallError extends BaseError {
  override name = 'ContractCallError'
  readonly functionName: string
  readonly errorName: PcmimsErrorName | 'Unknown'
  readonly args: readonly unknown[]

  constructor(params: ContractCallErrorParameters) {
    const known = params.errorName !== 'Unknown'
    super(known ? pcmimsErrorMessages[params.errorName as PcmimsErrorName] : 'The contract call reverted', {
      details: params.details ?? `${params.functionName}${known ? `: ${params.errorName}` : ''}`,
      cause: params.cause,
      code: known ? toCode(params.errorName) : 'CONTRACT_REVERTED',
    })
    this.functionName = params.functionName
    this.errorName = params.errorName
    this.args = params.args ?? []
  }
}

/** A transaction was mined but reverted (the state changed between simulation and inclusion). */
export class TransactionRevertedError extends BaseError {
  override name = 'TransactionRevertedError'
  readonly hash: Hash
  readonly functionName: string

  constructor(params: { functionName: string; hash: Hash }) {
    super('The transaction was mined but reverted', {
      details: `${params.functionName} in ${params.hash}`,
      code: 'TRANSACTION_REVERTED',
    })
    this.hash = params.hash
    this.functionName = params.functionName
  }
}

/**
 * Turns a viem error from a Pcmims call into a `ContractCallError` when the contract reverted with a known
 * custom error (or without data); anything else (network, nonce, funds) is returned unchanged.
 */
export function toContractCallError(error: unknown, functionName: string): unknown {
  if (!(error instanceof ViemBaseError)) return error
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
  if (!(reverted instanceof ContractFunctionRevertedError)) return toTransactionError(error)
  // viem leaves `data` empty when it decoded against another ABI (gas estimation does): decode the raw
  // revert data against ours.
  const data = reverted.data ?? decodeRaw(reverted.raw)
  const name = data?.errorName
  if (name && isPcmimsErrorName(name)) {
    return new ContractCallError({
      functionName,
      errorName: name,
      args: data?.args ?? [],
      cause: error,
    })
  }
  return new ContractCallError({
    functionName,
    errorName: 'Unknown',
    details: reverted.shortMessage,
    cause: error,
  })
}

function decodeRaw(raw: Hex | undefined): { errorName: string; args: readonly unknown[] } | undefined {
  if (!raw || raw.length < 10) return undefined
  const selector = raw.slice(0, 10).toLowerCase()
  const item = pcmimsAbi.find(
    (entry) => entry.type === 'error' && toFunctionSelector(formatAbiItem(entry)) === selector,
  )
  if (item?.type !== 'error') return undefined
  // decodeErrorResult refuses selector-only data, which is what an error without arguments is.
  if (item.inputs.length === 0) return { errorName: item.name, args: [] }
  try {
    const decoded = decodeErrorResult({ abi: pcmimsAbi, data: raw })
    return { errorName: decoded.errorName, args: (decoded.args ?? []) as readonly unknown[] }
  } catch {
    return undefined
  }
}
