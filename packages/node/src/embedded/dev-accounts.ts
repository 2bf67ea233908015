import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encryptKeystore } from '@pcmims/core'
import { type Address, type Hex, toHex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'

/** anvil's public development mnemonic: these keys are known to everyone and hold no real value. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk'

export const DEV_ROLES = [
  { role: 'governance', name: 'Network governance (dev)', index: 0 },
  { role: 'unit', name: 'Demo Health Unit (dev)', index: 1 },
  { role: 'patient', name: 'Demo Patient (dev)', index: 2 },
  { role: 'uploader', name: 'Demo Radiologist (dev)', index: 3 },
  { role: 'medic', name: 'Demo Medic (dev)', index: 4 },
  { role: 'requestor', name: 'Demo Requestor (dev)', index: 5 },
] as const

export type DevRole = (typeof DEV_ROLES)[number]['role']

export type DevAccount = {
  role: DevRole
  name: string
  address: Address
  keystore: string
  passphrase: string
  privateKey: Hex
}

/** Development-only scrypt cost, so that every CLI command does not spend a second on the KDF. */
const DEV_SCRYPT = { n: 2 ** 12 }

export function devPrivateKey(index: number): Hex {
  const key = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }).getHdKey().privateKey
  if (!key) throw new Error('cannot derive a development key')
  return toHex(key)
}

/**
 * Writes one keystore per development role under `<dataDir>/keystores` (once) and
 * `<dataDir>/dev-accounts.json`: `[{ role, name, address, keystore, passphrase, privateKey }]` — the
 * private keys are anvil's well-known development keys, there so scripts (a hand-made SIWE sign-in)
 * need no keystore decryption.
 */
export async function writeDevAccounts(dataDir: string): Promise<DevAccount[]> {
  const dir = join(dataDir, 'keystores')
  await mkdir(dir, { recursive: true })
  const accounts: DevAccount[] = []
  for (const { role, name, index } of DEV_ROLES) {
    const privateKey = devPrivateKey(index)
    const address = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }).address
    const keystore = join(dir, `dev-${role}.json`)
    const passphrase = `pcmims-dev-${role}`
    if (
      !existsSync(keystore) ||
      !(await readFile(keystore, 'utf8')).toLowerCase().includes(address.slice(2).toLowerCase())
    ) {
      const json = await encryptKeystore({ privateKey, passphrase, kdfParams: DEV_SCRYPT })
      await writeFile(keystore, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 })
    }
    accounts.push({ role, name, address, keystore, passphrase, privateKey })
  }
  await writeFile(join(dataDir, 'dev-accounts.json'), `${JSON.stringify(accounts, null, 2)}\n`)
  return accounts
}
