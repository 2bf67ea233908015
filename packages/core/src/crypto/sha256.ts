import { createSha256 as createPlatformSha256, sha256Platform } from '#platform/sha256'
import type { Sha256Hasher } from './platform/types.js'

export type { Sha256Hasher }

/**
 * Incremental SHA-256: node:crypto (OpenSSL) in Node, @noble/hashes elsewhere. In Node this is about 12×
 * faster than the JavaScript implementation (docs/crypto.md has the measurements).
 */
export function createSha256(): Sha256Hasher {
  return createPlatformSha256()
}

/** Which implementation {@link createSha256} uses here: `'node'` or `'web'`. */
export const sha256Implementation = sha256Platform
