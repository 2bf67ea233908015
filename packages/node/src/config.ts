import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { BaseError } from '@pcmims/core'
import { z } from 'zod'

/**
 * Every setting of the node, read in this one place: defaults, then the JSON config file, then
 * `PCMIMS_*` environment variables, then explicit overrides (command-line flags).
 */
const configSchema = z.object({
  dataDir: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(0).max(65535),
  /** Public URL clients use to reach this node (defaults to http://host:port, https:// with `tls`). */
  publicUrl: z.string().url().optional(),
  chain: z.discriminatedUnion('mode', [
    z.object({
      mode: z.literal('embedded'),
      port: z.number().int().min(0).max(65535),
      chainId: z.number().int().positive(),
      /** Seconds between anvil state dumps, on top of the dumps the node asks for after each block. */
      stateInterval: z.number().int().positive(),
    }),
    z.object({
      mode: z.literal('rpc'),
      rpcUrl: z.string().url(),
      /** RPC URL handed to clients, if different from the node's. */
      publicRpcUrl: z.string().url().optional(),
      contract: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
      /** Block the contract was deployed in: where the indexer starts. */
      fromBlock: z.number().int().nonnegative(),
      confirmations: z.number().int().nonnegative(),
    }),
  ]),
  ipfs: z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('embedded') }),
    /**
     * A Kubo node (or IPFS Cluster proxy) through its RPC API; ciphertext is added and pinned there.
     * `rpcUrl` is the API's base, e.g. `http://127.0.0.1:5001`; `user:password@` in it becomes Basic auth.
     */
    z.object({ mode: z.literal('kubo'), rpcUrl: z.string().url() }),
  ]),
  /**
   * HTTPS with these PEM files (read and checked at start); plain HTTP otherwise (behind a
   * TLS-terminating proxy). Both or neither.
   */
  tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
  sessions: z.object({
    /** A session unused this long ends. */
    idleMs: z.number().int().positive(),
    /** A session ends this long after sign-in, however active. */
    absoluteMs: z.number().int().positive(),
    /** A sign-in nonce is good for this long, once. */
    nonceTtlMs: z.number().int().positive(),
  }),
  /** Token buckets per signed-in address (and per client IP before sign-in). */
  rateLimit: z.object({
    /** Requests a caller may make in a burst. */
    burst: z.number().int().positive(),
    /** Sustained requests per second. */
    perSecond: z.number().positive(),
    /** Sign-in requests (nonce + sign-in count one each) per client IP per minute; a hospital's NAT is one IP. */
    signInPerMinute: z.number().int().positive(),
  }),
  audit: z.object({
    /** Seconds between anchors of the audit log's Merkle root (0: only on demand and at shutdown). */
    anchorIntervalS: z.number().int().nonnegative(),
  }),
  unit: z.object({
    /** The health unit's operator keystore: it relays anchors and opens custodial copies. */
    keystore: z.string().optional(),
    passphraseEnv: z.string(),
  }),
  /** Create a demo health unit and one approved account per role (embedded chain only). */
  dev: z.boolean(),
  outbox: z.object({ batchSize: z.number().int().min(1).max(100), pollMs: z.number().int().positive() }),
  /** Ciphertext uploaded but never made part of a record is unpinned after this long. */
  orphans: z.object({ ttlMs: z.number().int().positive(), sweepMs: z.number().int().positive() }),
  indexer: z.object({ pollMs: z.number().int().positive() }),
  limits: z.object({
    maxBlobBytes: z.number().int().positive(),
    maxJsonBytes: z.number().int().positive(),
  }),
  /** DICOM C-STORE/C-ECHO receiver (off unless enabled): modalities and PACS push studies to it. */
  dimse: z.object({
    enabled: z.boolean(),
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    /** Our AE title: associations calling another one are rejected. */
    aeTitle: aeTitleSchema(),
    /** Calling AE titles allowed to associate; empty: any. */
    allowedCallingAeTitles: z.array(aeTitleSchema()),
    /** Largest instance accepted; larger ones are refused (C-STORE status 0xA700). */
    maxInstanceBytes: z.number().int().positive(),
    /** Associations open at once; more are rejected as transient (local limit exceeded). */
    maxAssociations: z.number().int().positive(),
    /**
     * The approved Uploader account of this unit named as uploader of the records made from what DICOM
     * peers send (a gateway account the unit registers like staff; the node relays, it never signs as it).
     * Required when enabled, except on the development chain (the demo radiologist by default).
     */
    uploader: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/)
      .optional(),
    /** Per calling AE title, another uploader account than `uploader` (e.g. one per modality). */
    uploaders: z.record(z.string(), z.string().regex(/^0x[0-9a-fA-F]{40}$/)),
  }),
  /** The web portal: a built folder (`index.html` and its assets) served at `/`; `null` serves none. */
  portal: z.object({ dir: z.string().min(1).nullable() }),
  dicomweb: z.object({
    /** Decrypted instances kept in memory for viewers scrolling a study (never on disk). */
    cacheBytes: z.number().int().nonnegative(),
  }),
  /** Node-side DICOM ingest (C-STORE and STOW-RS). */
  ingest: z.object({
    /** A received study is sealed into one record once no instance arrived for it this long. */
    quietPeriodMs: z.number().int().positive(),
    /** Largest instance taken over STOW-RS (C-STORE has dimse.maxInstanceBytes). */
    maxInstanceBytes: z.number().int().positive(),
    /** Largest STOW-RS request body. */
    maxStowBytes: z.number().int().positive(),
  }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
})

/** 1-16 characters of the default repertoire, no backslash, not all spaces (PS3.5 AE). */
function aeTitleSchema() {
  return z
    .string()
    .regex(/^[\x20-\x5b\x5d-\x7e]{1,16}$/, 'an AE title is 1-16 printable characters, no backslash')
    .refine((title) => title.trim() !== '', 'an AE title cannot be blank')
}

export type NodeConfig = z.infer<typeof configSchema>
type DeepPartial<T> = { [K in keyof T]?: (T[K] extends object ? DeepPartial<T[K]> : T[K]) | undefined }
export type NodeConfigOverrides = DeepPartial<NodeConfig>

export class ConfigError extends BaseError {
  override name = 'ConfigError'
  constructor(message: string, details?: string) {
    super(message, { code: 'INVALID_CONFIG', details })
  }
}

export const DEFAULT_PORT = 8480

/** The built portal of this repository (`@pcmims/portal`'s `dist`), when it has been built. */
function defaultPortalDir(): string | null {
  try {
    const dir = join(dirname(createRequire(import.meta.url).resolve('@pcmims/portal/package.json')), 'dist')
    return existsSync(join(dir, 'index.html')) ? dir : null
  } catch {
    return null
  }
}

export function defaultConfig(dataDir = '.pcmims'): NodeConfig {
  return {
    dataDir,
    host: '127.0.0.1',
    port: DEFAULT_PORT,
    chain: { mode: 'embedded', port: 8545, chainId: 31337, stateInterval: 5 },
    ipfs: { mode: 'embedded' },
    sessions: { idleMs: 30 * 60 * 1000, absoluteMs: 12 * 3600 * 1000, nonceTtlMs: 5 * 60 * 1000 },
    rateLimit: { burst: 200, perSecond: 50, signInPerMinute: 600 },
    audit: { anchorIntervalS: 600 },
    unit: { passphraseEnv: 'PCMIMS_UNIT_PASSPHRASE' },
    dev: true,
    outbox: { batchSize: 20, pollMs: 200 },
    orphans: { ttlMs: 6 * 3600 * 1000, sweepMs: 10 * 60 * 1000 },
    indexer: { pollMs: 300 },
    limits: { maxBlobBytes: 8 * 1024 ** 3, maxJsonBytes: 2 * 1024 * 1024 },
    dimse: {
      enabled: false,
      host: '127.0.0.1',
      port: 11112,
      aeTitle: 'PCMIMS',
      allowedCallingAeTitles: [],
      maxInstanceBytes: 2 * 1024 ** 3,
      maxAssociations: 8,
      uploaders: {},
    },
    portal: { dir: defaultPortalDir() },
    dicomweb: { cacheBytes: 256 * 1024 ** 2 },
    ingest: {
      quietPeriodMs: 10_000,
      maxInstanceBytes: 1024 ** 3,
      maxStowBytes: 8 * 1024 ** 3,
    },
    logLevel: 'info',
  }
}

export type LoadConfigParameters = {
  overrides?: NodeConfigOverrides | undefined
  env?: Record<string, string | undefined> | undefined
  /** Explicit config file; otherwise `<dataDir>/pcmims.config.json` if it exists. */
  configFile?: string | undefined
}

export function loadConfig({
  overrides = {},
  env = process.env,
  configFile,
}: LoadConfigParameters = {}): NodeConfig {
  const dataDir = resolve(overrides.dataDir ?? env.PCMIMS_DATA_DIR ?? '.pcmims')
  let merged: Record<string, unknown> = defaultConfig(dataDir)
  const file = configFile ?? join(dataDir, 'pcmims.config.json')
  if (existsSync(file)) {
    try {
      merged = deepMerge(merged, JSON.parse(readFileSync(file, 'utf8')))
    } catch (cause) {
      throw new ConfigError(`Cannot read the config file ${file}`, String(cause))
    }
  } else if (configFile) {
    throw new ConfigError(`Config file not found: ${configFile}`)
  }
  merged = deepMerge(merged, fromEnv(env))
  merged = deepMerge(merged, overrides as Record<string, unknown>)
  merged.dataDir = dataDir
  const parsed = configSchema.safeParse(merged)
  if (!parsed.success) {
    throw new ConfigError(
      'Invalid configuration',
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    )
  }
  return parsed.data
}

function fromEnv(env: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const int = (v: string) => Number.parseInt(v, 10)
  if (env.PCMIMS_HOST) out.host = env.PCMIMS_HOST
  if (env.PCMIMS_PORT) out.port = int(env.PCMIMS_PORT)
  if (env.PCMIMS_PUBLIC_URL) out.publicUrl = env.PCMIMS_PUBLIC_URL
  if (env.PCMIMS_LOG_LEVEL) out.logLevel = env.PCMIMS_LOG_LEVEL
  if (env.PCMIMS_PORTAL_DIR) out.portal = { dir: env.PCMIMS_PORTAL_DIR }
  if (env.PCMIMS_CHAIN_RPC_URL) {
    out.chain = {
      mode: 'rpc',
      rpcUrl: env.PCMIMS_CHAIN_RPC_URL,
      contract: env.PCMIMS_CONTRACT,
      fromBlock: int(env.PCMIMS_FROM_BLOCK ?? '0'),
      confirmations: int(env.PCMIMS_CONFIRMATIONS ?? '0'),
      ...(env.PCMIMS_PUBLIC_RPC_URL ? { publicRpcUrl: env.PCMIMS_PUBLIC_RPC_URL } : {}),
    }
    out.dev = false
  } else if (env.PCMIMS_CHAIN_PORT) {
    out.chain = { port: int(env.PCMIMS_CHAIN_PORT) }
  }
  if (env.PCMIMS_AUDIT_ANCHOR_INTERVAL_S)
    out.audit = { anchorIntervalS: int(env.PCMIMS_AUDIT_ANCHOR_INTERVAL_S) }
  if (env.PCMIMS_IPFS_RPC_URL) out.ipfs = { mode: 'kubo', rpcUrl: env.PCMIMS_IPFS_RPC_URL }
  if (env.PCMIMS_TLS_CERT || env.PCMIMS_TLS_KEY) {
    out.tls = { certFile: env.PCMIMS_TLS_CERT, keyFile: env.PCMIMS_TLS_KEY }
  }
  if (env.PCMIMS_UNIT_KEYSTORE) out.unit = { keystore: env.PCMIMS_UNIT_KEYSTORE }
  if (env.PCMIMS_DEV) out.dev = env.PCMIMS_DEV === '1' || env.PCMIMS_DEV === 'true'
  const dimse: Record<string, unknown> = {}
  if (env.PCMIMS_DIMSE_ENABLED)
    dimse.enabled = env.PCMIMS_DIMSE_ENABLED === '1' || env.PCMIMS_DIMSE_ENABLED === 'true'
  if (env.PCMIMS_DIMSE_HOST) dimse.host = env.PCMIMS_DIMSE_HOST
  if (env.PCMIMS_DIMSE_PORT) dimse.port = int(env.PCMIMS_DIMSE_PORT)
  if (env.PCMIMS_AE_TITLE) dimse.aeTitle = env.PCMIMS_AE_TITLE
  if (env.PCMIMS_DIMSE_ALLOWED_AES !== undefined) {
    dimse.allowedCallingAeTitles = env.PCMIMS_DIMSE_ALLOWED_AES.split(',')
      .map((title) => title.trim())
      .filter((title) => title !== '')
  }
  if (env.PCMIMS_DIMSE_UPLOADER) dimse.uploader = env.PCMIMS_DIMSE_UPLOADER
  if (Object.keys(dimse).length > 0) out.dimse = dimse
  if (env.PCMIMS_INGEST_QUIET_PERIOD_MS)
    out.ingest = { quietPeriodMs: int(env.PCMIMS_INGEST_QUIET_PERIOD_MS) }
  return out
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) continue
    const current = out[key]
    // A different chain mode replaces the whole chain section instead of mixing two shapes.
    const replace =
      (key === 'chain' || key === 'ipfs') &&
      isObject(value) &&
      'mode' in value &&
      isObject(current) &&
      current.mode !== value.mode
    out[key] = isObject(value) && isObject(current) && !replace ? deepMerge(current, value) : value
  }
  return out
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
