import { Aes128Gcm, Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core'

let dekWrapSuite: CipherSuite | undefined

/**
 * The one HPKE suite PCMIMS wraps keys with (RFC 9180 base mode): DHKEM(X25519, HKDF-SHA256) (kem 0x0020),
 * HKDF-SHA256 (kdf 0x0001), AES-256-GCM (aead 0x0002).
 */
export function getDekWrapSuite(): CipherSuite {
  dekWrapSuite ??= createHpkeSuite('aes-256-gcm')
  return dekWrapSuite
}

/** X25519/HKDF-SHA256 with either AES-GCM size; AES-128-GCM exists only for the RFC 9180 A.1 vectors. */
export function createHpkeSuite(aead: 'aes-128-gcm' | 'aes-256-gcm'): CipherSuite {
  return new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: aead === 'aes-256-gcm' ? new Aes256Gcm() : new Aes128Gcm(),
  })
}
