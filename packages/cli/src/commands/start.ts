import type { Command } from '../command.js'
import { str } from '../command.js'
import { UsageError } from '../io.js'

function port(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${name} must be a port number`)
  return n
}

export const start: Command = {
  name: ['start'],
  summary: 'Start a node: embedded chain, IPFS, indexer, outbox and HTTP API (dev accounts printed)',
  usage:
    'start [--data-dir DIR] [--port N] [--host ADDR] [--chain-port N] [--ipfs-rpc-url URL] [--tls-cert FILE --tls-key FILE] [--dicom-port N] [--config FILE]',
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'chain-port': { type: 'string' },
    'ipfs-rpc-url': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    config: { type: 'string' },
    'dicom-port': { type: 'string' },
  },
  details: [
    ['--data-dir DIR', 'where the node keeps its chain, blocks and database (default .pcmims)'],
    ['--port N', "the HTTP API's port (default 8480)"],
    ['--host ADDR', 'the address to listen on (default 127.0.0.1)'],
    ['--chain-port N', "the embedded chain's RPC port (default 8545)"],
    [
      '--ipfs-rpc-url URL',
      "store ciphertext on a Kubo node through its RPC API (e.g. http://127.0.0.1:5001)\ninstead of the node's embedded IPFS store",
    ],
    ['--tls-cert FILE', 'serve HTTPS with this PEM certificate (with --tls-key)'],
    ['--tls-key FILE', "the certificate's PEM private key"],
    [
      '--dicom-port N',
      'also receive DICOM (C-STORE, C-ECHO) on this port, AE title PCMIMS by default\n(see docs/operations.md: dimse.*; on the dev chain records name the dev radiologist)',
    ],
    ['--config FILE', 'a JSON configuration file (default DIR/pcmims.config.json); options override it'],
  ],
  clientOptions: ['json'],
  async run(ctx) {
    // Loaded here, not at the top: the node pulls in Helia and friends, which client commands never need.
    const { createLogger, loadConfig, startNode } = await import('@pcmims/node')
    const chainPort = port(str(ctx, 'chain-port'), '--chain-port')
    const dicomPort = port(str(ctx, 'dicom-port'), '--dicom-port')
    const ipfsRpcUrl = str(ctx, 'ipfs-rpc-url')
    const tlsCert = str(ctx, 'tls-cert')
    const tlsKey = str(ctx, 'tls-key')
    if ((tlsCert === undefined) !== (tlsKey === undefined)) {
      throw new UsageError('--tls-cert and --tls-key go together')
    }
    const config = loadConfig({
      overrides: {
        ...(str(ctx, 'data-dir') ? { dataDir: str(ctx, 'data-dir') } : {}),
        ...(port(str(ctx, 'port'), '--port') !== undefined ? { port: port(str(ctx, 'port'), '--port') } : {}),
        ...(str(ctx, 'host') ? { host: str(ctx, 'host') } : {}),
        ...(chainPort !== undefined ? { chain: { port: chainPort } } : {}),
        ...(ipfsRpcUrl ? { ipfs: { mode: 'kubo' as const, rpcUrl: ipfsRpcUrl } } : {}),
        ...(tlsCert && tlsKey ? { tls: { certFile: tlsCert, keyFile: tlsKey } } : {}),
        ...(dicomPort !== undefined ? { dimse: { enabled: true, port: dicomPort } } : {}),
      },
      ...(str(ctx, 'config') ? { configFile: str(ctx, 'config') } : {}),
    })
    // Listening from before the start: a Ctrl+C while the node starts stops it as soon as it is up,
    // instead of leaving a half-started node. A second signal gives up on the graceful stop.
    let signals = 0
    let onStop: () => void = () => undefined
    const stopRequested = new Promise<void>((resolve) => {
      onStop = resolve
    })
    const onSignal = (name: NodeJS.Signals) => {
      signals++
      if (signals === 1) {
        ctx.io.err(`${name}: stopping (finishing requests in flight; again to stop at once)…`)
        onStop()
      } else {
        ctx.io.err('stopping at once')
        process.exit(name === 'SIGINT' ? 130 : 143)
      }
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    // Logs go to stderr, so stdout carries only the summary (one JSON document with --json).
    const node = await startNode({
      config,
      logger: createLogger({ level: config.logLevel, destination: process.stderr }),
    }).catch((error: unknown) => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      throw error
    })
    const accounts = node.devAccounts.map(({ privateKey: _secret, ...rest }) => rest)
    ctx.io.result(
      {
        url: node.url,
        portal: config.portal.dir ? node.url : null,
        chainId: node.chainId,
        contract: node.contract,
        rpcUrl: node.rpcUrl,
        unit: node.unit,
        dicom: node.dimse ?? null,
        accounts,
      },
      () =>
        [
          '',
          `PCMIMS node ${node.url}`,
          config.portal.dir
            ? `  portal ${node.url}/ (open it in a browser; development accounts sign in with one click)`
            : '  portal not built (npm run build), or portal.dir is null: API only',
          `  chain ${node.rpcUrl} (chain id ${node.chainId}), contract ${node.contract}`,
          `  data  ${config.dataDir}`,
          `  ipfs  ${config.ipfs.mode === 'kubo' ? 'Kubo RPC API' : 'embedded'}${config.tls ? ', HTTPS' : ''}`,
          `  dicomweb ${node.url}/api/v1/dicomweb (QIDO-RS, WADO-RS, STOW-RS)`,
          ...(node.dimse
            ? [`  dicom ${node.dimse.aeTitle}@${node.dimse.host}:${node.dimse.port} (C-STORE, C-ECHO)`]
            : []),
          ...(accounts.length
            ? [
                '',
                'Development accounts (DEVELOPMENT ONLY: well-known keys, never use them for real data):',
                ...accounts.map(
                  (a) =>
                    `  ${a.role.padEnd(10)} ${a.address}  --keystore ${a.keystore}  passphrase: ${a.passphrase}`,
                ),
                `  (also in ${config.dataDir}/dev-accounts.json)`,
              ]
            : []),
          '',
          'Try: PCMIMS_PASSPHRASE=pcmims-dev-patient npx pcmims records --keystore <patient keystore>',
          'Press Ctrl+C to stop.',
        ].join('\n'),
    )
    await stopRequested
    await node.stop()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    ctx.io.err('stopped')
    // Everything is stopped and flushed; idle keep-alive sockets must not hold the process for seconds.
    setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref()
  },
}
