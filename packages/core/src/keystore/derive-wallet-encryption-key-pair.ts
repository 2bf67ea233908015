import { type Address, getAddress, type Hex, hexToBytes, isHex } from 'viem'
import { hkdfSha256, utf8 } from '../crypto/bytes.js'
import { type EncryptionKeyPair, encryptionPublicKeyFromPrivate } from '../crypto/encryption-key-pair.js'
import { InvalidKeyError } from '../crypto/errors.js'

export const WALLET_X25519_LABEL = utf8('pcmims/v1/x25519-wallet')

/**
 * What a wallet user signs (EIP-191) to derive their encryption key. It names the account and chain,
 * so one signature never serves another account or network, and says what signing it means.
 */
export function walletEncryptionKeyMessage(params: { address: Address; chainId: number }): string {
  return [
    'PCMIMS encryption key',
    '',
    'Signing this message unlocks the key that decrypts your medical records in this browser.',
    'Sign it only in your PCMIMS portal: anyone with this signature can read records shared with you.',
    '',
    `Account: ${getAddress(params.address)}`,
    `Chain: ${params.chainId}`,
    'Version: 1',
  ].join('\n')
}

/**
 * The X25519 key pair of an account whose signing key lives in a wallet (which never reveals it):
 * HKDF-SHA256(ikm = the wallet's signature of `walletEncryptionKeyMessage`, salt = info =
 * "pcmims/v1/x25519-wallet", L = 32). ECDSA wallets sign deterministically (RFC 6979), so the same
 * wallet gives the same key on every device; the caller checks it against the key registered on chain.
 *
 * @throws {InvalidKeyError} the signature is not 65 bytes of hex.
 */
export async function deriveWalletEncryptionKeyPair(signature: Hex): Promise<EncryptionKeyPair> {
  if (!isHex(signature, { strict: true }) || signature.length !== 2 + 65 * 2) {
    throw new InvalidKeyError('A wallet signature must be 65 bytes of 0x-prefixed hex')
  }
  const ikm = hexToBytes(signature)
  try {
    const privateKey = await hkdfSha256(ikm, WALLET_X25519_LABEL, WALLET_X25519_LABEL, 32)
    return { publicKey: await encryptionPublicKeyFromPrivate(privateKey), privateKey }
  } finally {
    ikm.fill(0)
  }
}
