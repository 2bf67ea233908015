import { importEncryptionPrivateKey } from './encryption-key-pair.js'
import { DecryptionError } from './errors.js'
import { getDekWrapSuite } from './hpke-suite.js'
import { DEK_LENGTH } from './stream-format.js'
import { type DekWrapContext, encodeWrapContext } from './wrap-context.js'

export type UnwrapKeyParameters = {
  enc: Uint8Array
  ct: Uint8Array
  /** The recipient's raw 32-byte X25519 private key. */
  recipientPrivateKey: Uint8Array
  /** Must equal the context the key was wrapped with. */
  context: DekWrapContext
}

export type UnwrapKeyReturnType = Uint8Array

const ENC_LENGTH = 32
const WRAPPED_LENGTH = DEK_LENGTH + 16

/**
 * Opens a DEK wrapped by {@link wrapKey}.
 *
 * @throws {DecryptionError} wrong private key, different context (chain, contract, record or recipient), or
 *   a modified or malformed wrapped key.
 * @throws {InvalidKeyError} the private key is not 32 bytes.
 */
export async function unwrapKey(parameters: UnwrapKeyParameters): Promise<UnwrapKeyReturnType> {
  const { enc, ct, recipientPrivateKey, context } = parameters
  const info = encodeWrapContext(context)
  const privateKey = await importEncryptionPrivateKey(recipientPrivateKey)
  if (!(enc instanceof Uint8Array) || enc.length !== ENC_LENGTH) {
    throw new DecryptionError('Wrapped key malformed: enc must be 32 bytes')
  }
  if (!(ct instanceof Uint8Array) || ct.length !== WRAPPED_LENGTH) {
    throw new DecryptionError(`Wrapped key malformed: ct must be ${WRAPPED_LENGTH} bytes`)
  }
  let key: ArrayBuffer
  try {
    key = await getDekWrapSuite().open(
      {
        recipientKey: privateKey,
        enc: enc as Uint8Array<ArrayBuffer>,
        info: info as Uint8Array<ArrayBuffer>,
      },
      ct as Uint8Array<ArrayBuffer>,
    )
  } catch (cause) {
    throw new DecryptionError('Key unwrap failed', {
      details: 'wrong private key, a different chain/contract/record/recipient, or a modified wrapped key',
      cause,
    })
  }
  return new Uint8Array(key)
}
