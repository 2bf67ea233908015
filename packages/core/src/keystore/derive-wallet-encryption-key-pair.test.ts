import { hkdfSync } from 'node:crypto'
import fc from 'fast-check'
import { bytesToHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import {
  deriveWalletEncryptionKeyPair,
  WALLET_X25519_LABEL,
  walletEncryptionKeyMessage,
} from './derive-wallet-encryption-key-pair.js'

// anvil's first development key: public knowledge, fine for a known-answer vector.
const ANVIL_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'

describe('deriveWalletEncryptionKeyPair', () => {
  it('is HKDF-SHA256 over the signature with the wallet label, and deterministic for one wallet', async () => {
    const account = privateKeyToAccount(ANVIL_0)
    const message = walletEncryptionKeyMessage({ address: account.address, chainId: 31337 })
    const signature = await account.signMessage({ message })
    // RFC 6979: the same key signs the same message to the same bytes.
    expect(await account.signMessage({ message })).toBe(signature)
    expect(signature).toBe(
      '0x5684240633ad0c8d9b79cbc295afd4b540815f2c89e97c520a135945c3bb2026036991a8c5a79de8072dd1980d02de36c967bf8526c4963041a7a58d0e78569a1b',
    )
    const pair = await deriveWalletEncryptionKeyPair(signature)
    // Node's own HKDF, independent of core's, over the same inputs.
    const label = Buffer.from(WALLET_X25519_LABEL)
    const expected = new Uint8Array(
      hkdfSync('sha256', Buffer.from(signature.slice(2), 'hex'), label, label, 32),
    )
    expect(bytesToHex(pair.privateKey)).toBe(bytesToHex(expected))
    expect(bytesToHex(pair.privateKey)).toBe(
      '0xe85334c0e8310977a28da5e488e4e91193f4b49f88995720e5a1f7bc62deab37',
    )
    expect(bytesToHex(pair.publicKey)).toBe(
      '0xd1c850f6faf828706050d81c67d2bc3268cb586680bd4d7aded1359f590c1a60',
    )
  })

  it('names the account and chain in the message, so a signature serves one account on one network', () => {
    const a = walletEncryptionKeyMessage({
      address: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
      chainId: 1,
    })
    expect(a).toContain('Account: 0x70997970C51812dc3A010C7d01b50e0d17dc79C8')
    expect(a).toContain('Chain: 1')
    expect(a).not.toBe(
      walletEncryptionKeyMessage({ address: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8', chainId: 2 }),
    )
  })

  it('refuses anything but a 65-byte signature', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 100 }).filter((b) => b.length !== 65),
        async (bytes) => {
          await expect(deriveWalletEncryptionKeyPair(bytesToHex(bytes))).rejects.toThrow(/65 bytes/)
        },
      ),
      { numRuns: 50 },
    )
    await expect(deriveWalletEncryptionKeyPair('0xzz' as `0x${string}`)).rejects.toThrow(/65 bytes/)
  })
})
