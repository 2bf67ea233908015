import { deriveWalletEncryptionKeyPair, type NodeConfigView, walletEncryptionKeyMessage } from '@pcmims/core'
import { type Address, type EIP1193Provider, getAddress, type Hex, toHex } from 'viem'
import type { Identity } from './identity.js'

declare global {
  interface Window {
    ethereum?: EIP1193Provider
  }
}

/** The injected EIP-1193 wallet (MetaMask and the like), if this browser has one. */
export function injectedWallet(): EIP1193Provider | undefined {
  return typeof window !== 'undefined' ? window.ethereum : undefined
}

/**
 * Signs in with a browser wallet: it picks the account, moves to this node's chain, and signs the
 * message from which the encryption key is derived here (the wallet never reveals its key). If the
 * account registered another encryption key (say, from a keystore), the wallet cannot open its records.
 */
export async function walletIdentity(provider: EIP1193Provider): Promise<Identity> {
  const config = (await (await fetch('/api/v1/config')).json()) as NodeConfigView
  const accounts = (await provider.request({ method: 'eth_requestAccounts' })) as Address[]
  const first = accounts[0]
  if (!first) throw new Error('The wallet shared no account')
  const address = getAddress(first)
  await switchToNodeChain(provider, config)
  const signature = (await provider.request({
    method: 'personal_sign',
    params: [toHex(walletEncryptionKeyMessage({ address, chainId: config.chainId })), address],
  })) as Hex
  const encryptionKeyPair = await deriveWalletEncryptionKeyPair(signature)
  const registered = (await (await fetch(`/api/v1/participants/${address}`)).json()) as {
    role?: string
    encryptionKey?: Hex
  }
  const key = registered.encryptionKey
  if (
    registered.role &&
    registered.role !== 'None' &&
    key &&
    BigInt(key) !== 0n &&
    key.toLowerCase() !== toHex(encryptionKeyPair.publicKey)
  ) {
    encryptionKeyPair.privateKey.fill(0)
    throw new Error(
      'This account registered a different encryption key (from a keystore file): sign in with that keystore to open its records',
    )
  }
  return {
    account: { address, type: 'json-rpc' },
    encryptionKeyPair,
    source: 'wallet',
    label: 'Browser wallet',
    wallet: { provider, address },
  }
}

/** Asks the wallet to use this node's chain, adding it when the wallet does not know it (EIP-3085). */
async function switchToNodeChain(provider: EIP1193Provider, config: NodeConfigView): Promise<void> {
  const current = Number(await provider.request({ method: 'eth_chainId' }))
  if (current === config.chainId) return
  const chainId = toHex(config.chainId)
  try {
    await provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId }] })
  } catch (error) {
    if ((error as { code?: number }).code !== 4902) throw error
    await provider.request({
      method: 'wallet_addEthereumChain',
      params: [
        {
          chainId,
          chainName: `PCMIMS network ${config.chainId}`,
          nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
          rpcUrls: [config.rpcUrl],
        },
      ],
    })
  }
}
