import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createAccount } from '@pcmims/core'
import { toHex } from 'viem'
import type { Command } from '../command.js'
import { str } from '../command.js'
import { readPassphrase } from '../context.js'
import { UsageError } from '../io.js'

export const accountNew: Command = {
  name: ['account', 'new'],
  summary: 'Create an account (signing key + encryption key) in a passphrase-protected keystore file',
  usage: 'account new --out FILE',
  options: { out: { type: 'string' } },
  details: [['--out FILE', 'where to write the keystore; an existing file is never overwritten']],
  clientOptions: ['json', 'passphrase'],
  async run(ctx) {
    const out = str(ctx, 'out')
    if (!out) throw new UsageError('--out FILE is required')
    if (existsSync(out)) throw new UsageError(`${out} exists; refusing to overwrite a keystore`)
    const passphrase = await readPassphrase('New passphrase: ')
    if (!process.env.PCMIMS_PASSPHRASE && passphrase !== (await readPassphrase('Repeat passphrase: '))) {
      throw new UsageError('The passphrases differ')
    }
    if (passphrase.length < 8) throw new UsageError('Use a passphrase of at least 8 characters')
    ctx.io.progress('deriving the keystore key (scrypt)…')
    const account = await createAccount({ passphrase })
    ctx.io.progressDone()
    await writeFile(out, `${JSON.stringify(account.keystore, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
    const encryptionKey = toHex(account.encryptionKeyPair.publicKey)
    ctx.io.result({ address: account.address, encryptionKey, keystore: out }, () =>
      [
        `address         ${account.address}`,
        `encryption key  ${encryptionKey}`,
        `keystore        ${out}  (keep a backup: it restores both keys)`,
      ].join('\n'),
    )
  },
}
