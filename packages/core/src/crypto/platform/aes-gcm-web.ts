import type { AesGcm, PlatformName } from './types.js'

export const aesGcmPlatform: PlatformName = 'web'

// WebCrypto copies `data` synchronously (WebCrypto spec, "get a copy of the bytes"), which is what the
// AesGcm contract requires.
export async function createAesGcm(key: Uint8Array): Promise<AesGcm> {
  const subtle = globalThis.crypto.subtle
  const cryptoKey = await subtle.importKey(
    'raw',
    key as Uint8Array<ArrayBuffer>,
    { name: 'AES-GCM' },
    false,
    ['encrypt', 'decrypt'],
  )
  return {
    async seal(nonce, aad, plaintext) {
      const sealed = await subtle.encrypt(
        {
          name: 'AES-GCM',
          iv: nonce as Uint8Array<ArrayBuffer>,
          additionalData: aad as Uint8Array<ArrayBuffer>,
          tagLength: 128,
        },
        cryptoKey,
        plaintext as Uint8Array<ArrayBuffer>,
      )
      return [new Uint8Array(sealed)]
    },
    async open(nonce, aad, sealed) {
      if (sealed.length < 16) return undefined
      try {
        const plaintext = await subtle.decrypt(
          {
            name: 'AES-GCM',
            iv: nonce as Uint8Array<ArrayBuffer>,
            additionalData: aad as Uint8Array<ArrayBuffer>,
            tagLength: 128,
          },
          cryptoKey,
          sealed as Uint8Array<ArrayBuffer>,
        )
        return new Uint8Array(plaintext)
      } catch (error) {
        if (error instanceof Error && error.name === 'OperationError') return undefined
        throw error
      }
    },
  }
}
