import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  BaseError,
  closeRecord,
  getAccess,
  getCustodialCopy,
  openRecord,
  type PcmimsClient,
  readCustodialFile,
  readRecordFile,
} from '@pcmims/core'
import type { Hex } from 'viem'
import type { Command } from '../command.js'
import { str } from '../command.js'
import { connect } from '../context.js'
import { formatBytes } from '../format.js'
import { UsageError } from '../io.js'

export const get: Command = {
  name: ['get'],
  summary: 'Retrieve a record: check access on chain, fetch, decrypt and verify every file into a folder',
  usage: 'get RECORD_ID --out DIR',
  positionals: true,
  options: { out: { type: 'string' } },
  details: [
    ['RECORD_ID', 'the record id (0x + 64 hex), as `pcmims records` lists it'],
    ['--out DIR', 'the folder to write into (created if missing); files keep their paths in the record'],
  ],
  async run(ctx) {
    const id = ctx.positionals[0]
    if (!id || ctx.positionals.length !== 1 || !/^0x[0-9a-fA-F]{64}$/.test(id))
      throw new UsageError('Give one record id (0x + 64 hex)')
    const out = str(ctx, 'out')
    if (!out) throw new UsageError('--out DIR is required')
    const existing = await stat(out).catch(() => undefined)
    if (existing && !existing.isDirectory()) throw new UsageError(`--out ${out} exists and is not a folder`)
    const client = await connect(ctx.global)
    // Asked of the chain before anything is fetched: a view-only grantee is told at once, and the node
    // never releases keys or ciphertext for a download that was not allowed.
    const access = await getAccess(client.publicClient, {
      contract: client.config.contract,
      grantee: client.account.address,
      recordId: id as Hex,
    })
    if (access.allowed && !access.download && access.basis === 'Grant') throw viewOnly()
    const record = await openSource(client, id as Hex, ctx.signal)
    try {
      if (!record.access.download && record.access.basis === 'Grant') throw viewOnly()
      const root = resolve(out)
      await mkdir(root, { recursive: true })
      const written: Array<{ path: string; size: number }> = []
      for (const [i, file] of record.files.entries()) {
        const target = resolve(root, ...file.path.split('/'))
        if (!target.startsWith(root + sep)) throw new UsageError('Unsafe path in the manifest')
        await mkdir(dirname(target), { recursive: true })
        // Written under a temporary name and renamed only after the digest matched.
        const partial = join(dirname(target), `.${Date.now()}-${i}.partial`)
        try {
          await pipeline(
            Readable.from(
              file.read((n) =>
                ctx.io.progress(`${i + 1}/${record.files.length} ${file.path} ${formatBytes(n)}`),
              ),
            ),
            createWriteStream(partial, { mode: 0o600 }),
          )
          await rename(partial, target)
        } catch (error) {
          await rm(partial, { force: true })
          throw error
        }
        written.push({ path: target, size: file.size })
      }
      ctx.io.progressDone()
      ctx.io.result(
        {
          recordId: record.recordId,
          kind: record.kind,
          date: record.date,
          appointment: record.appointment,
          description: record.description,
          access: record.access,
          decryptedBy: record.decryptedBy,
          files: written,
        },
        () =>
          [
            `record ${record.recordId} (${record.kind}, ${record.date}${record.appointment ? `, appointment ${record.appointment}` : ''})`,
            ...(record.description ? [`  ${record.description}`] : []),
            ...(record.decryptedBy === 'custodian'
              ? [`  decrypted by the custodian node (access: ${record.access.basis})`]
              : []),
            ...written.map((f) => `  ${f.path}  ${formatBytes(f.size)}  verified`),
          ].join('\n'),
      )
    } finally {
      record.close()
    }
  },
}

type Source = {
  recordId: Hex
  kind: string
  date: string
  appointment: string | undefined
  description: string | undefined
  access: { basis: string; download: boolean }
  decryptedBy: 'me' | 'custodian'
  files: Array<{
    path: string
    size: number
    read(onProgress: (n: number) => void): AsyncIterable<Uint8Array>
  }>
  close(): void
}

/**
 * The record through the caller's own key; without one (a medic in an emergency, a download grantee
 * whose key bundle is missing), decrypted by its custodian node, which checks the chain first.
 */
async function openSource(client: PcmimsClient, recordId: Hex, signal: AbortSignal): Promise<Source> {
  try {
    const record = await openRecord(client, { recordId, signal })
    const m = record.manifest
    return {
      recordId,
      kind: m.kind,
      date: m.date,
      appointment: m.appointment,
      description: m.description,
      access: record.access,
      decryptedBy: 'me',
      files: m.files.map((file) => ({
        path: file.path,
        size: file.size,
        read: (onProgress) => readRecordFile(client, { record, file, signal, onProgress }),
      })),
      close: () => closeRecord(record),
    }
  } catch (error) {
    if ((error as { code?: string }).code !== 'NO_KEY') throw error
  }
  const copy = await getCustodialCopy(client, { recordId, signal })
  return {
    recordId,
    kind: copy.kind,
    date: copy.date,
    appointment: copy.appointment ?? undefined,
    description: copy.description ?? undefined,
    access: copy.access,
    decryptedBy: 'custodian',
    files: copy.files.map((file) => ({
      path: file.path,
      size: file.size,
      read: (onProgress) => readCustodialFile(client, { copy, index: file.index, signal, onProgress }),
    })),
    close: () => undefined,
  }
}

function viewOnly(): BaseError {
  return new BaseError('Your grant is view-only: the patient did not allow downloads', {
    code: 'VIEW_ONLY',
    details: 'see the record with `pcmims show RECORD_ID`',
  })
}
