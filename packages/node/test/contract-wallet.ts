import { createRequire } from 'node:module'
import {
  type Abi,
  type Address,
  createWalletClient,
  getAddress,
  type Hex,
  http,
  type LocalAccount,
  publicActions,
} from 'viem'

// A minimal ERC-1271 smart-contract wallet: signatures by its owner key are valid for the wallet's address.
// Compiled here with the project's pinned solc, so its ABI comes from the compiler, not from a hand.
const SOURCE = `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;
contract OwnedWallet {
    address public immutable owner;
    constructor(address owner_) { owner = owner_; }
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != 65) return 0xffffffff;
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        return ecrecover(hash, v, r, s) == owner ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}`

function compile(): { abi: Abi; bytecode: Hex } {
  const solc = createRequire(import.meta.url)('solc') as { compile(input: string): string }
  const output = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: 'Solidity',
        sources: { 'OwnedWallet.sol': { content: SOURCE } },
        settings: { evmVersion: 'cancun', outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
      }),
    ),
  ) as {
    errors?: Array<{ severity: string; formattedMessage: string }>
    contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>
  }
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join('\n'))
  const wallet = output.contracts['OwnedWallet.sol']?.OwnedWallet
  if (!wallet) throw new Error('OwnedWallet did not compile')
  return { abi: wallet.abi, bytecode: `0x${wallet.evm.bytecode.object}` }
}

/** Deploys a contract wallet owned by `owner` (deployed by `deployer`, which pays the gas). */
export async function deployContractWallet(params: {
  rpcUrl: string
  deployer: LocalAccount
  owner: Address
}): Promise<Address> {
  const { abi, bytecode } = compile()
  const client = createWalletClient({ account: params.deployer, transport: http(params.rpcUrl) }).extend(
    publicActions,
  )
  const hash = await client.deployContract({ abi, bytecode, args: [params.owner], chain: null })
  const receipt = await client.waitForTransactionReceipt({ hash })
  if (!receipt.contractAddress) throw new Error('wallet deployment failed')
  return getAddress(receipt.contractAddress)
}
