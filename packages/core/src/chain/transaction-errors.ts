import { HttpRequestError, InsufficientFundsError, TimeoutError, BaseError as ViemBaseError } from 'viem'
import { BaseError } from '../errors/base-error.js'

/** A transaction that could not be sent (not a contract revert): no gas, no chain, … */
export class ChainTransactionError extends BaseError {
  override name = 'ChainTransactionError'
}

/**
 * Gives the viem failures a user can act on a short message and a stable code; anything else is
 * returned unchanged.
 */
export function toTransactionError(error: unknown): unknown {
  if (!(error instanceof ViemBaseError)) return error
  if (error.walk((e) => e instanceof InsufficientFundsError)) {
    return new ChainTransactionError('This account has no funds to pay for gas on this chain', {
      code: 'INSUFFICIENT_FUNDS',
      details:
        'on the embedded development chain, `pcmims register` funds new accounts; elsewhere, fund the account',
      cause: error,
    })
  }
  if (error.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError)) {
    return new ChainTransactionError('Cannot reach the chain', { code: 'CHAIN_UNAVAILABLE', cause: error })
  }
  return error
}
