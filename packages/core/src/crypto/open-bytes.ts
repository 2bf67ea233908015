import { concatBytes } from './bytes.js'
import { decryptStream } from './decrypt-stream.js'
import { InvalidParameterError } from './errors.js'

export type OpenBytesParameters = {
  /** The record's 32-byte data key. */
  dek: Uint8Array
  /** Upper bound on the header's chunk size (default 16 MiB). */
  maxChunkSize?: number | undefined
  signal?: AbortSignal | undefined
}

export type OpenBytesReturnType = Uint8Array

/**
 * Decrypts a payload produced by {@link sealBytes} (or any stream ciphertext held in memory).
 *
 * @throws {DecryptionError} when any part fails to authenticate, or the ciphertext is truncated.
 */
export async function openBytes(
  ciphertext: Uint8Array,
  parameters: OpenBytesParameters,
): Promise<OpenBytesReturnType> {
  if (!(ciphertext instanceof Uint8Array)) throw new InvalidParameterError('Ciphertext must be a Uint8Array')
  const parts: Uint8Array[] = []
  for await (const part of decryptStream([ciphertext], parameters)) parts.push(part)
  return parts.length === 1 ? parts[0]! : concatBytes(...parts)
}
