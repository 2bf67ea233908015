/**
 * Everything decrypted that outlives one render registers here, so that locking the session can
 * destroy it: object URLs of decrypted files, and caches (the viewer's image cache) with a wipe hook.
 */
const objectUrls = new Set<string>()
const wipers = new Set<() => void>()

/** An object URL for decrypted bytes, revoked when the session locks. */
export function decryptedObjectUrl(bytes: Uint8Array | Blob, type = 'application/octet-stream'): string {
  const blob = bytes instanceof Blob ? bytes : new Blob([bytes as Uint8Array<ArrayBuffer>], { type })
  const url = URL.createObjectURL(blob)
  objectUrls.add(url)
  return url
}

export function revokeDecryptedObjectUrl(url: string): void {
  if (objectUrls.delete(url)) URL.revokeObjectURL(url)
}

/** Registers a cache to empty when the session locks; returns the unregister function. */
export function onWipe(wipe: () => void): () => void {
  wipers.add(wipe)
  return () => wipers.delete(wipe)
}

/** Revokes every decrypted object URL and empties every registered cache. */
export function wipeDecrypted(): void {
  for (const url of objectUrls) URL.revokeObjectURL(url)
  objectUrls.clear()
  for (const wipe of wipers) {
    try {
      wipe()
    } catch {
      // A cache that fails to empty must not stop the others; the page reload that follows drops it.
    }
  }
}
