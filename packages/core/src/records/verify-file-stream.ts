import { createSha256 } from '../crypto/sha256.js'
import { IntegrityError } from './errors.js'
import { equalBytes } from './record-id.js'

export type VerifyFileStreamParameters = {
  /** Plaintext size the manifest promises. */
  size: number
  /** SHA-256 of the plaintext the manifest promises. */
  sha256: Uint8Array
  /** Named in errors (a file's path in its record); omit where a name must not be logged. */
  label?: string | undefined
  onProgress?: ((bytes: number) => void) | undefined
}

/**
 * Passes plaintext through while checking it against its manifest entry: a stream longer than promised
 * fails at once; a short one, or one whose SHA-256 differs, fails at the end. A reader must treat what
 * it wrote as provisional until the iteration completes without throwing.
 */
export async function* verifyFileStream(
  source: AsyncIterable<Uint8Array>,
  { size: expected, sha256, label, onProgress }: VerifyFileStreamParameters,
): AsyncGenerator<Uint8Array, void, undefined> {
  const details = label === undefined ? {} : { details: label }
  const hasher = createSha256()
  let size = 0
  for await (const chunk of source) {
    size += chunk.length
    if (size > expected) throw new IntegrityError('File is longer than its manifest says', details)
    hasher.update(chunk)
    onProgress?.(size)
    yield chunk
  }
  if (size !== expected) throw new IntegrityError('File is shorter than its manifest says', details)
  if (!equalBytes(hasher.digest(), sha256)) {
    throw new IntegrityError('File content does not match its SHA-256 digest', details)
  }
}
