import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { closeRecord, openRecord, readRecordFile } from '@pcmims/core'
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
    const record = await openRecord(client, { recordId: id as Hex, signal: ctx.signal })
    try {
      if (!record.access.download && record.access.basis === 'Grant') {
        throw new UsageError('Your grant is view-only: the patient did not allow downloads')
      }
      const root = resolve(out)
      await mkdir(root, { recursive: true })
      const written: Array<{ path: string; size: number }> = []
      for (const [i, file] of record.manifest.files.entries()) {
        const target = resolve(root, ...file.path.split('/'))
        if (!target.startsWith(root + sep)) throw new UsageError('Unsafe path in the manifest')
        await mkdir(dirname(target), { recursive: true })
        // Written under a temporary name and renamed only after the digest matched.
        const partial = join(dirname(target), `.${Date.now()}-${i}.partial`)
        try {
          await pipeline(
            Readable.from(
              readRecordFile(client, {
                record,
                file,
                signal: ctx.signal,
                onProgress: (n) =>
                  ctx.io.progress(`${i + 1}/${record.manifest.files.length} ${file.path} ${formatBytes(n)}`),
              }),
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
      const m = record.manifest
      ctx.io.result(
        {
          recordId: record.recordId,
          kind: m.kind,
          date: m.date,
          appointment: m.appointment,
          description: m.description,
          access: record.access,
          files: written,
        },
        () =>
          [
            `record ${record.recordId} (${m.kind}, ${m.date}${m.appointment ? `, appointment ${m.appointment}` : ''})`,
            ...(m.description ? [`  ${m.description}`] : []),
            ...written.map((f) => `  ${f.path}  ${formatBytes(f.size)}  verified`),
          ].join('\n'),
      )
    } finally {
      closeRecord(record)
    }
  },
}
