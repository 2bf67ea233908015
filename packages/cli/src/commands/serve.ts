import { listReceivedGrants } from '@pcmims/core'
import { getAddress, isAddress } from 'viem'
import type { Command } from '../command.js'
import { str, strs } from '../command.js'
import { connect } from '../context.js'
import { UsageError } from '../io.js'

export const serve: Command = {
  name: ['serve'],
  summary: 'Serve DICOMweb on this machine over the studies your key opens, for any DICOMweb viewer',
  usage: 'serve [--port N] [--patient ADDR…] [--token SECRET] [--cache-mb N]',
  options: {
    port: { type: 'string' },
    patient: { type: 'string', multiple: true },
    token: { type: 'string' },
    'cache-mb': { type: 'string' },
  },
  details: [
    ['--port N', 'the local port (default 8042; 0 picks a free one); it listens on 127.0.0.1 only'],
    [
      '--patient ADDR',
      'serve the records of this patient, who granted you access (repeat for several;\ndefault: your own records and those of every patient who granted you access)',
    ],
    [
      '--token SECRET',
      'the secret path segment of the URL (16+ characters of A-Z a-z 0-9 _ -;\ndefault: a new random one each run)',
    ],
    ['--cache-mb N', 'decrypted instances kept in memory for fast scrolling (default 64; never on disk)'],
  ],
  async run(ctx) {
    const portText = str(ctx, 'port') ?? '8042'
    const port = Number(portText)
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError('--port must be a port number')
    const cacheMb = Number(str(ctx, 'cache-mb') ?? '64')
    if (!Number.isFinite(cacheMb) || cacheMb < 0 || cacheMb > 16384) {
      throw new UsageError('--cache-mb must be between 0 and 16384')
    }
    const token = str(ctx, 'token')
    if (token !== undefined && !/^[A-Za-z0-9_-]{16,128}$/.test(token)) {
      throw new UsageError('--token must be 16 to 128 characters of A-Z, a-z, 0-9, _ and -')
    }
    const patients = strs(ctx, 'patient').map((p) => {
      if (!isAddress(p, { strict: false })) throw new UsageError(`--patient ${p} is not an address`)
      return getAddress(p)
    })
    // Loaded here: only this command needs the HTTP server.
    const { keyholderStudySource, startDicomwebServer } = await import('@pcmims/node/dicomweb')
    const client = await connect(ctx.global)
    if (patients.length === 0) {
      // Default: your own records and those of every patient who granted you access now.
      const received = await listReceivedGrants(client, { signal: ctx.signal })
      patients.push(client.account.address)
      for (const g of received)
        if (!g.deidentifiedOnly && !patients.includes(g.patient)) patients.push(g.patient)
    }
    const source = keyholderStudySource({
      client,
      patients,
      cache: { instanceBytes: cacheMb * 1024 * 1024 },
    })
    const stopped = new AbortController()
    const stop = () => stopped.abort()
    ctx.signal.addEventListener('abort', stop, { once: true })
    process.once('SIGTERM', stop)
    const server = await startDicomwebServer({
      source,
      port,
      token,
      log: (line) => ctx.io.err(line),
    })
    ctx.io.result(
      {
        url: server.url,
        port: server.port,
        account: client.account.address,
        patients,
      },
      () =>
        [
          `DICOMweb for ${client.account.address} at`,
          `  ${server.url}`,
          'Give this URL to a DICOMweb viewer as its QIDO-RS and WADO-RS root. It holds a secret: anyone',
          'on this machine who has it can read these studies while this runs; it changes on every start.',
          'Access is checked on the chain on every request: a revoked grant stops serving at once.',
          'Press Ctrl+C to stop.',
        ].join('\n'),
    )
    if (!stopped.signal.aborted) {
      await new Promise<void>((resolve) =>
        stopped.signal.addEventListener('abort', () => resolve(), { once: true }),
      )
    }
    process.off('SIGTERM', stop)
    await server.stop()
    ctx.io.err('stopped')
  },
}
