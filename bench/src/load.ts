import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  anchorRecords,
  approveParticipant,
  closeRecord,
  createPcmimsClient,
  createSignInMessage,
  decryptKeystore,
  deriveEncryptionKeyPair,
  grantAccess,
  openRecord,
  type PcmimsClient,
  readRecordFile,
  registerParticipant,
  uploadRecord,
} from '@pcmims/core'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type LocalAccount,
  toHex,
} from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import {
  label,
  MiB,
  type NodeProcess,
  peakRss,
  round,
  startNodeProcess,
  writeRandomFile,
} from './node-process.js'

/** The node's token buckets (config `rateLimit`), per signed-in address and per client IP before sign-in. */
export type LoadRateLimit = { burst: number; perSecond: number; signInPerMinute: number }

export type LoadBenchParameters = {
  /** Distinct registered accounts that sign in and list (half patients, half medics with a grant). */
  accounts: number
  /** Sign-ins per account in the sign-in phase. */
  signInRounds: number
  /** Records anchored for each patient before the listing phase (what each listing returns). */
  recordsPerPatient: number
  /** Listing requests in the listing phase. */
  listings: number
  /** In-flight requests in the sign-in and listing phases (and the per-address limiter phase). */
  concurrency: number
  /** Records uploaded in the upload phase, each one file of `uploadBytes`, `uploadConcurrency` at a time. */
  uploads: number
  uploadBytes: number
  uploadConcurrency: number
  /** Requests one signed-in address sends as fast as it can, to meet the limiter (well above `burst`). */
  limiterRequests: number
  /** Nonce requests one client IP sends, to meet the sign-in limiter. */
  limiterSignIns: number
  /** The node's limits; the measured phases stay within them, the limiter phases exceed them. */
  rateLimit: LoadRateLimit
  onLog?: ((line: string) => void) | undefined
}

/**
 * The full run (about a minute on a 2-core machine): 32 accounts signing in 4 times each, 1 600
 * listings of 20 records, eight 100 MiB uploads four at a time, under the node's default limits.
 */
export const DEFAULT_LOAD: Omit<LoadBenchParameters, 'onLog'> = {
  accounts: 32,
  signInRounds: 4,
  recordsPerPatient: 20,
  listings: 1600,
  concurrency: 16,
  uploads: 8,
  uploadBytes: 100 * MiB,
  uploadConcurrency: 4,
  limiterRequests: 600,
  limiterSignIns: 45,
  rateLimit: { burst: 200, perSecond: 50, signInPerMinute: 30 },
}

export type LoadPhase = {
  phase: string
  concurrency: number
  requests: number
  /** 2xx answers that were also correct (a listing with the expected records, an anchored upload). */
  ok: number
  /** 429 answers: expected in the limiter phases, a failure in the measured ones. */
  rateLimited: number
  /** Everything else: wrong status, wrong content, no answer. Must be 0. */
  errors: number
  errorSamples: string[]
  seconds: number
  requestsPerSecond: number
  p50Ms: number
  p95Ms: number
  maxMs: number
  /** Uploads only: payload MiB per second over the phase (all uploads together). */
  mibPerSecond?: number | undefined
  /** Limiter phases: true when 429 is the expected outcome. */
  limiter: boolean
}

export type LoadBenchResult = {
  rateLimit: LoadRateLimit
  parameters: Omit<LoadBenchParameters, 'onLog' | 'rateLimit'>
  phases: LoadPhase[]
  /** A limiter phase saw 429 answers (false: the limiter is not mounted, or its limits exceed what was sent). */
  limiterMounted: boolean
  /** `retry-after` of the first 429 answer, seconds. */
  retryAfterS: number | undefined
  nodePeakRssMB: number
}

/**
 * A bounded HTTP load test of a real node on loopback (its own process: embedded anvil, Helia), from
 * this process: concurrent SIWE sign-ins of distinct registered accounts, each from its own loopback
 * address as distinct clients would be (per-IP sign-in limits apply); concurrent record listings by
 * patients and by medics holding a grant; concurrent streamed uploads of large files, each encrypted
 * here and anchored; then one address and one IP going over their limits, to see the 429s.
 */
export async function runLoadBench(params: LoadBenchParameters): Promise<LoadBenchResult> {
  const log = params.onLog ?? (() => {})
  const dir = await mkdtemp(join(tmpdir(), 'pcmims-load-'))
  const agents: Agent[] = []
  let node: NodeProcess | undefined
  try {
    const configFile = join(dir, 'pcmims.config.json')
    await writeFile(configFile, JSON.stringify({ rateLimit: params.rateLimit, logLevel: 'warn' }))
    log(`load: starting a node (rate limits ${JSON.stringify(params.rateLimit)})…`)
    node = await startNodeProcess(join(dir, 'node'), { configFile })
    const setup = await setUp(node, params, log)
    // The upload clients and the reader sign in now, before the sign-in phase spends any budget.
    const uploaderClients = await Promise.all(setup.uploaders.map((who) => clientOf(node!.url, who)))
    const reader = await clientOf(node.url, setup.patients[0] as Lister)

    const phases: LoadPhase[] = []
    const tokens = new Map<Address, string>()

    log(`load: ${params.accounts * params.signInRounds} sign-ins…`)
    const clientAgents = setup.listers.map((_, i) => {
      // Each account is its own client: its own loopback address, so per-IP sign-in limits apply to it.
      const agent = new Agent({ keepAlive: true, localAddress: loopbackAddress(i) })
      agents.push(agent)
      return agent
    })
    const signIns = Array.from(
      { length: params.accounts * params.signInRounds },
      (_, i) => i % params.accounts,
    )
    phases.push(
      await runPhase('sign-in (nonce + sign + verify)', signIns, params.concurrency, async (index) => {
        const who = setup.listers[index] as Lister
        const agent = clientAgents[index] as Agent
        const nonce = await httpJson(agent, `${node!.url}/api/v1/auth/nonce`, 'POST')
        if (nonce.status !== 200) return outcome(nonce)
        const {
          nonce: value,
          chainId,
          statement,
        } = nonce.json as {
          nonce: string
          chainId: number
          statement?: string
        }
        const message = createSignInMessage({
          address: who.account.address,
          nodeUrl: node!.url,
          chainId,
          nonce: value,
          statement,
        })
        const signature = await who.account.signMessage({ message })
        const signedIn = await httpJson(agent, `${node!.url}/api/v1/auth/sign-in`, 'POST', {
          message,
          signature,
        })
        if (signedIn.status !== 200) return outcome(signedIn)
        tokens.set(who.account.address, (signedIn.json as { token: string }).token)
        return 'ok'
      }),
    )

    log(`load: ${params.listings} listings…`)
    const listings = Array.from({ length: params.listings }, (_, i) => i % setup.listers.length)
    phases.push(
      await runPhase('list records (patients, medics)', listings, params.concurrency, async (index) => {
        const who = setup.listers[index] as Lister
        const token = tokens.get(who.account.address)
        if (!token) return { error: 'no session from the sign-in phase' }
        const query = who.role === 'Medic' ? `?patient=${who.patient}` : ''
        const response = await fetch(`${node!.url}/api/v1/records${query}`, {
          headers: { authorization: `Bearer ${token}` },
        })
        const body = await response.text()
        if (response.status !== 200) return outcome({ status: response.status, text: body })
        const count = (JSON.parse(body) as { records: unknown[] }).records.length
        return count === params.recordsPerPatient
          ? 'ok'
          : { error: `listed ${count} records, expected ${params.recordsPerPatient}` }
      }),
    )

    log(
      `load: ${params.uploads} uploads of ${params.uploadBytes / MiB} MiB, ${params.uploadConcurrency} at a time…`,
    )
    const file = join(dir, 'upload.bin')
    const fileSha256 = await writeRandomFile(file, params.uploadBytes)
    const uploaded: Array<{ recordId: Hex; patient: number }> = []
    const uploadPhase = await runPhase(
      `upload ${label(params.uploadBytes)} (encrypt + store + anchor)`,
      Array.from({ length: params.uploads }, (_, i) => i),
      params.uploadConcurrency,
      async (i) => {
        const client = uploaderClients[i % uploaderClients.length] as PcmimsClient
        const patient = i % setup.patients.length
        const result = await uploadRecord(client, {
          patient: (setup.patients[patient] as Lister).account.address,
          kind: 'CT',
          files: [
            {
              path: `load-${i}.bin`,
              mediaType: 'application/octet-stream',
              size: params.uploadBytes,
              open: () => createReadStream(file, { highWaterMark: MiB }),
            },
          ],
        })
        if (result.status !== 'confirmed') return { error: `upload ${i} ended ${result.status}` }
        uploaded.push({ recordId: result.recordId, patient })
        return 'ok'
      },
    )
    uploadPhase.mibPerSecond = round((uploadPhase.ok * params.uploadBytes) / MiB / uploadPhase.seconds)
    // Not timed: one upload of the first patient read back whole, byte for byte (by digest).
    const first = uploaded.find((u) => u.patient === 0)
    if (first) {
      const record = await openRecord(reader, { recordId: first.recordId })
      const hash = createHash('sha256')
      for await (const chunk of readRecordFile(reader, { record, file: record.manifest.files[0]! })) {
        hash.update(chunk)
      }
      closeRecord(record)
      if (hash.digest('hex') !== fileSha256) {
        uploadPhase.errors++
        uploadPhase.errorSamples.push(`record ${first.recordId} does not read back as uploaded`)
      }
    }
    phases.push(uploadPhase)

    log('load: one address and one IP over their limits…')
    let retryAfterS: number | undefined
    // The last patient: no reads since the listing phase, so its bucket is full again. It asks for its
    // session, the cheapest authenticated request, so the limiter (not the work) sets the pace.
    const patientToken = tokens.get((setup.patients[setup.patients.length - 1] as Lister).account.address)
    phases.push(
      await runPhase(
        'limiter: one address, flat out',
        Array.from({ length: params.limiterRequests }, (_, i) => i),
        params.concurrency,
        async () => {
          const response = await fetch(`${node!.url}/api/v1/auth/session`, {
            headers: { authorization: `Bearer ${patientToken}` },
          })
          const text = await response.text()
          if (response.status === 429) retryAfterS ??= Number(response.headers.get('retry-after'))
          return response.status === 200 ? 'ok' : outcome({ status: response.status, text })
        },
        { limiter: true },
      ),
    )
    const oneIp = new Agent({ keepAlive: true, localAddress: '127.0.2.1' })
    agents.push(oneIp)
    phases.push(
      await runPhase(
        'limiter: one IP, sign-in nonces flat out',
        Array.from({ length: params.limiterSignIns }, (_, i) => i),
        4,
        async () => outcome(await httpJson(oneIp, `${node!.url}/api/v1/auth/nonce`, 'POST')),
        { limiter: true },
      ),
    )

    const limiterPhases = phases.filter((p) => p.limiter)
    return {
      rateLimit: params.rateLimit,
      parameters: {
        accounts: params.accounts,
        signInRounds: params.signInRounds,
        recordsPerPatient: params.recordsPerPatient,
        listings: params.listings,
        concurrency: params.concurrency,
        uploads: params.uploads,
        uploadBytes: params.uploadBytes,
        uploadConcurrency: params.uploadConcurrency,
        limiterRequests: params.limiterRequests,
        limiterSignIns: params.limiterSignIns,
      },
      phases,
      limiterMounted: limiterPhases.some((p) => p.rateLimited > 0),
      retryAfterS,
      nodePeakRssMB: round((await peakRss(node.process.pid as number)) / MiB),
    }
  } finally {
    for (const agent of agents) agent.destroy()
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

/** What went wrong in a run, one line each: errors anywhere, 429s where none were expected. */
export function loadFailures(result: LoadBenchResult): string[] {
  const out: string[] = []
  for (const phase of result.phases) {
    if (phase.errors > 0) {
      out.push(`${phase.phase}: ${phase.errors} errors (${phase.errorSamples.slice(0, 3).join('; ')})`)
    }
    if (!phase.limiter && phase.rateLimited > 0) {
      out.push(`${phase.phase}: ${phase.rateLimited} answers 429 within the limits configured for it`)
    }
  }
  return out
}

export function formatLoadTable(result: LoadBenchResult): string {
  const header = [
    'phase',
    'conc.',
    'requests',
    'ok',
    '429',
    'errors',
    'req/s',
    'p50 ms',
    'p95 ms',
    'max ms',
    'MiB/s',
  ]
  const lines = result.phases.map((p) => [
    p.phase,
    String(p.concurrency),
    String(p.requests),
    String(p.ok),
    String(p.rateLimited),
    String(p.errors),
    String(p.requestsPerSecond),
    String(p.p50Ms),
    String(p.p95Ms),
    String(p.maxMs),
    p.mibPerSecond === undefined ? '-' : String(p.mibPerSecond),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)))
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ')
  const { burst, perSecond, signInPerMinute } = result.rateLimit
  return [
    `node rate limits: burst ${burst}, ${perSecond}/s per address (per IP before sign-in), ` +
      `${signInPerMinute} sign-in requests/min per IP; node peak RSS ${result.nodePeakRssMB} MiB`,
    fmt(header),
    fmt(widths.map((w) => '-'.repeat(w))),
    ...lines.map(fmt),
    limiterLine(result),
  ].join('\n')
}

function limiterLine(result: LoadBenchResult): string {
  if (!result.limiterMounted) {
    return 'limiter: NO 429 in any limiter phase — the rate limiter is not mounted (or its limits exceed what was sent)'
  }
  const quiet = result.phases.filter((p) => p.limiter && p.rateLimited === 0).map((p) => `"${p.phase}"`)
  return (
    `limiter: answers 429 past the budget (retry-after ${result.retryAfterS} s); 429s there are not errors` +
    (quiet.length > 0 ? `; none in ${quiet.join(', ')} (its limit is above what was sent)` : '')
  )
}

type Lister = {
  account: LocalAccount
  privateKey: Hex
  role: 'Patient' | 'Medic' | 'Uploader'
  /** For a medic: the patient whose records it lists (under a grant). */
  patient?: Address | undefined
}

type Setup = { listers: Lister[]; patients: Lister[]; uploaders: Lister[] }

/** Registers and approves every account at the node's unit, anchors the listed records, grants the medics. */
async function setUp(
  node: NodeProcess,
  params: LoadBenchParameters,
  log: (line: string) => void,
): Promise<Setup> {
  const unitInfo = node.accounts.find((a) => a.role === 'unit')
  if (!unitInfo) throw new Error('the node printed no development unit')
  const unitKey = await decryptKeystore({
    keystore: await readFile(unitInfo.keystore, 'utf8'),
    passphrase: unitInfo.passphrase,
  })
  const chain = defineChain({
    id: node.chainId,
    name: 'pcmims-load',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [node.rpcUrl] } },
  })
  const transport = http(node.rpcUrl)
  const publicClient = createPublicClient({ chain, transport })
  const walletOf = (account: LocalAccount) => createWalletClient({ chain, transport, account })
  const unitWallet = walletOf(privateKeyToAccount(unitKey.privateKey))
  const contract = node.contract

  const make = (role: Lister['role']): Lister => {
    const privateKey = generatePrivateKey()
    return { account: privateKeyToAccount(privateKey), privateKey, role }
  }
  const patientCount = Math.ceil(params.accounts / 2)
  const patients = Array.from({ length: patientCount }, () => make('Patient'))
  const medics = Array.from({ length: params.accounts - patientCount }, (_, i) => ({
    ...make('Medic'),
    patient: (patients[i % patientCount] as Lister).account.address,
  }))
  const uploaders = Array.from({ length: params.uploadConcurrency }, () => make('Uploader'))
  const everyone = [...patients, ...medics, ...uploaders]
  log(`load: registering ${everyone.length} accounts…`)
  await Promise.all(
    everyone.map(async (who) => {
      await publicClient.request({
        method: 'anvil_setBalance' as never,
        params: [who.account.address, '0x56BC75E2D63100000'] as never,
      })
      const { publicKey } = await deriveEncryptionKeyPair(who.privateKey)
      await registerParticipant(walletOf(who.account), {
        contract,
        unit: unitInfo.address as Address,
        role: who.role,
        encryptionKey: toHex(publicKey),
      })
    }),
  )
  // One sender: its transactions go one after the other.
  for (const who of everyone) await approveParticipant(unitWallet, { contract, account: who.account.address })

  // Listed records are anchored straight on chain by the unit (as its outbox would): a listing reads
  // the index and asks the chain, it never opens the ciphertext.
  const records = patients.flatMap((patient) =>
    Array.from({ length: params.recordsPerPatient }, () => ({
      id: toHex(randomBytes(32)),
      patient: patient.account.address,
      uploader: (uploaders[0] as Lister).account.address,
      kind: 'CT' as const,
    })),
  )
  for (let i = 0; i < records.length; i += 100) {
    await anchorRecords(unitWallet, { contract, records: records.slice(i, i + 100) })
  }
  const now = Number((await publicClient.getBlock()).timestamp)
  await Promise.all(
    medics.map((medic, i) =>
      grantAccess(walletOf((patients[i % patientCount] as Lister).account), {
        contract,
        grantee: medic.account.address,
        scope: 'All',
        expiresAt: now + 86_400,
      }),
    ),
  )
  return { listers: [...patients, ...medics], patients, uploaders }
}

async function clientOf(nodeUrl: string, who: Lister): Promise<PcmimsClient> {
  return createPcmimsClient({
    nodeUrl,
    account: who.account,
    encryptionKeyPair: await deriveEncryptionKeyPair(who.privateKey),
  })
}

/** 127.0.1.2, 127.0.1.3, …: loopback addresses, one per simulated client (all of 127/8 is loopback). */
function loopbackAddress(index: number): string {
  return `127.0.${1 + Math.floor(index / 250)}.${2 + (index % 250)}`
}

type Outcome = 'ok' | 'limited' | { error: string }

function outcome(answer: { status: number; text: string }): Outcome {
  if (answer.status >= 200 && answer.status < 300) return 'ok'
  if (answer.status === 429) return 'limited'
  let code = ''
  try {
    code = (JSON.parse(answer.text) as { code?: string }).code ?? ''
  } catch {
    // not problem+json
  }
  return { error: `HTTP ${answer.status} ${code}`.trim() }
}

/** Runs `work` over `items`, `concurrency` at a time, timing each. */
async function runPhase<T>(
  phase: string,
  items: T[],
  concurrency: number,
  work: (item: T) => Promise<Outcome>,
  options: { limiter?: boolean } = {},
): Promise<LoadPhase> {
  const latencies: number[] = []
  const errorSamples: string[] = []
  let ok = 0
  let rateLimited = 0
  let errors = 0
  let next = 0
  const started = performance.now()
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T
      const t = performance.now()
      let result: Outcome
      try {
        result = await work(item)
      } catch (error) {
        // A client that throws on an error answer (uploadRecord) still says which one it was.
        result =
          (error as { status?: unknown }).status === 429
            ? 'limited'
            : { error: (error as Error).message.split('\n')[0] ?? 'error' }
      }
      latencies.push(performance.now() - t)
      if (result === 'ok') ok++
      else if (result === 'limited') rateLimited++
      else {
        errors++
        if (errorSamples.length < 10) errorSamples.push(result.error)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const pct = (p: number) => round(latencies[Math.max(0, Math.ceil(p * latencies.length) - 1)] ?? 0)
  return {
    phase,
    concurrency,
    requests: items.length,
    ok,
    rateLimited,
    errors,
    errorSamples,
    seconds: round(seconds, 2),
    requestsPerSecond: round(items.length / seconds),
    p50Ms: pct(0.5),
    p95Ms: pct(0.95),
    maxMs: round(latencies[latencies.length - 1] ?? 0),
    limiter: options.limiter ?? false,
  }
}

/** One HTTP/1.1 JSON request through `agent` (which fixes the client's source address). */
function httpJson(
  agent: Agent,
  url: string,
  method: string,
  body?: unknown,
): Promise<{ status: number; text: string; json: unknown }> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let json: unknown
          try {
            json = JSON.parse(text)
          } catch {
            json = undefined
          }
          resolve({ status: res.statusCode ?? 0, text, json })
        })
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}
