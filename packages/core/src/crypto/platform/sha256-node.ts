import { createHash } from 'node:crypto'
import type { PlatformName, Sha256Hasher } from './types.js'

export const sha256Platform: PlatformName = 'node'

export function createSha256(): Sha256Hasher {
  const hash = createHash('sha256')
  const hasher: Sha256Hasher = {
    update(data) {
      hash.update(data)
      return hasher
    },
    digest() {
      const digest = hash.digest()
      return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
    },
  }
  return hasher
}
