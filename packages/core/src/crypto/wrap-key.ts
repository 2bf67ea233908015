import { EncapError } from '@hpke/core'
import { importEncryptionPublicKey } from './encryption-key-pair.js'
import { InvalidKeyError } from './errors.js'
import { getDekWrapSuite } from './hpke-suite.js'
import { DEK_LENGTH } from './stream-format.js'
import { type DekWrapContext, encodeWrapContext } from './wrap-context.js'

export type WrapKeyParameters = {
  /** The 32-byte DEK to wrap. */
  key: Uint8Array
  /** The recipient's raw 32-byte X25519 public key. */
  recipientPublicKey: Uint8Array
  /** Bound into the HPKE info; the same context is needed to unwrap. */
  context: DekWrapContext
}

export type WrapKeyReturnType = {
  /** HPKE encapsulated key (the ephemeral X25519 public key), 32 bytes. */
  enc: Uint8Array
  /** HPKE ciphertext of the DEK (32 bytes + 16-byte tag). */
  ct: Uint8Array
}

/**
 * Wraps a DEK for one recipient with HPKE (RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
 * AES-256-GCM), binding chain, contract, record and recipient through the HPKE info.
 *
 * @throws {InvalidKeyError} the DEK is not 32 bytes or the public key is invalid or of low order.
 * @throws {InvalidParameterError} a context field is malformed.
 */
export async function wrapKey(parameters: WrapKeyParameters): Promise<WrapKeyReturnType> {
  const { key, recipientPublicKey, context } = parameters
  if (!(key instanceof Uint8Array) || key.length !== DEK_LENGTH) {
    throw new InvalidKeyError('Data key must be 32 bytes')
  }
  const info = encodeWrapContext(context)
  const publicKey = await importEncryptionPublicKey(recipientPublicKey)
  try {
    const { enc, ct } = await getDekWrapSuite().seal(
      { recipientPublicKey: publicKey, info: info as Uint8Array<ArrayBuffer> },
      key as Uint8Array<ArrayBuffer>,
    )
    return { enc: new Uint8Array(enc), ct: new Uint8Array(ct) }
  } catch (cause) {
    // A low-order point makes the X25519 shared secret all zeros, which HPKE must refuse.
    if (cause instanceof EncapError) throw new InvalidKeyError('Recipient public key rejected', { cause })
    throw cause
  }
}
