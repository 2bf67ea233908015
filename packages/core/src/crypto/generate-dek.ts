import { randomBytes } from './bytes.js'
import { DEK_LENGTH } from './stream-format.js'

/** A fresh random 32-byte record data key (DEK), from the platform CSPRNG. */
export function generateDek(): Uint8Array {
  return randomBytes(DEK_LENGTH)
}
