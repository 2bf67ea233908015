import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { createPcmimsClient, decryptKeystore, type PcmimsClient } from '@pcmims/core'
import { privateKeyToAccount } from 'viem/accounts'
import { UsageError } from './io.js'

export type GlobalOptions = {
  node: string
  keystore: string | undefined
  json: boolean
}

export const DEFAULT_NODE_URL = 'http://127.0.0.1:8480'

export function globalOptions(values: Record<string, unknown>): GlobalOptions {
  const node = (values.node as string | undefined) ?? process.env.PCMIMS_NODE ?? DEFAULT_NODE_URL
  if (!/^https?:\/\//i.test(node) || !URL.canParse(node))
    throw new UsageError('--node must be an http(s) URL', `got ${node}`)
  return {
    node,
    keystore: (values.keystore as string | undefined) ?? process.env.PCMIMS_KEYSTORE,
    json: Boolean(values.json),
  }
}

/** Reads the passphrase from PCMIMS_PASSPHRASE, or asks on the terminal without echoing it. */
export async function readPassphrase(prompt = 'Passphrase: '): Promise<string> {
  const fromEnv = process.env.PCMIMS_PASSPHRASE
  if (fromEnv !== undefined) return fromEnv
  if (!process.stdin.isTTY) {
    throw new UsageError('No passphrase', 'set PCMIMS_PASSPHRASE or run on a terminal to be asked')
  }
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
    const output = rl as unknown as { _writeToOutput: (s: string) => void }
    process.stderr.write(prompt)
    output._writeToOutput = () => {}
    rl.question('', (answer) => {
      rl.close()
      process.stderr.write('\n')
      resolve(answer)
    })
  })
}

/** Opens the keystore and connects to the node and the chain it names. */
export async function connect(options: GlobalOptions): Promise<PcmimsClient> {
  if (!options.keystore) throw new UsageError('No keystore', 'pass --keystore FILE or set PCMIMS_KEYSTORE')
  let text: string
  try {
    text = await readFile(options.keystore, 'utf8')
  } catch {
    throw new UsageError(`Cannot read the keystore ${options.keystore}`)
  }
  const opened = await decryptKeystore({ keystore: text, passphrase: await readPassphrase() })
  const client = await createPcmimsClient({
    nodeUrl: options.node,
    account: privateKeyToAccount(opened.privateKey),
    encryptionKeyPair: opened.encryptionKeyPair,
  })
  connected.push(client)
  return client
}

const connected: PcmimsClient[] = []

/** Ends the sessions this invocation opened: a command is one session, not one left idle on the node. */
export async function signOutAll(): Promise<void> {
  const clients = connected.splice(0)
  await Promise.allSettled(
    clients.map((client) => client.node.signOut({ signal: AbortSignal.timeout(2000) })),
  )
}
