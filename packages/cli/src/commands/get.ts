import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { closeRecord, openRecord, readRecordFile } from '@pcmims/core'
import type { Hex } from 'viem'
import type { Command } from '../command.js'
import { str } from '../command.js'
import { connect } from '../context.js'
import { UsageError } from '../io.js'

export const get: Command = {
  name: ['get'],
  summary: 'Retrieve a record: check access on chain, fetch, decrypt and verify every file into a folder',
  usage: 'get RECORD_ID --out DIR',
  positionals: true,
  options: { out: { type: 'string' } },
  async run(ctx) {
    const id = ctx.positionals[0]
    if (!id || ctx.positionals.length !== 1 || !/^0x[0-9a-fA-F]{64}$/.test(id))
      throw new UsageError('Give one record id (0x + 64 hex)')
    const out = str(ctx, 'out')
    if (!out) throw new UsageError('--out DIR is required')
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
                  ctx.io.progress(`${i + 1}/${record.manifest.files.length} ${file.path} ${n} bytes`),
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
            ...written.map((f) => `  ${f.path}  ${f.size} bytes  verified`),
          ].join('\n'),
      )
    } finally {
      closeRecord(record)
    }
  },
}
