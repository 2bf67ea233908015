import { sha256 } from '@noble/hashes/sha2.js'
import type { PlatformName, Sha256Hasher } from './types.js'

export const sha256Platform: PlatformName = 'web'

// WebCrypto's digest() is one-shot, so streaming needs a JS implementation.
export function createSha256(): Sha256Hasher {
  const hash = sha256.create()
  const hasher: Sha256Hasher = {
    update(data) {
      hash.update(data)
      return hasher
    },
    digest() {
      return hash.digest()
    },
  }
  return hasher
}
