import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createNodeClient, decryptKeystore, parseDicomFile } from '@pcmims/core'
import { writeSynthesizedStudy } from '@pcmims/test-utils'
import { privateKeyToAccount } from 'viem/accounts'
import { type StowFile, stowMultipart } from './dicom-multipart.js'
import { freePort, MiB, type NodeProcess, peakRss, round, startNodeProcess } from './node-process.js'

const ORTHANC = '/usr/sbin/Orthanc'
const ORTHANC_PLUGIN_DIRS = ['/usr/share/orthanc/plugins', '/usr/lib/orthanc']
const PCMIMS_AE = 'PCMIMS'
const ORTHANC_AE = 'ORTHANC'
const SCU_AE = 'BENCHSCU'
const DICOMWEB = '/api/v1/dicomweb'
/*
 * Debian's dcmtk (storescu, and Orthanc's DICOM server built on it) leaves Nagle's algorithm on unless
 * TCP_NODELAY=1 is in the environment: 100 instances took 5.4 s into Orthanc without it, 0.8 s with it.
 * DESIGN.md's Orthanc C-STORE figure was measured with it; the PCMIMS receiver sets it on its sockets.
 */
const DCMTK_ENV = { ...process.env, TCP_NODELAY: '1' }

export type DicomRow = {
  system: 'PCMIMS' | 'Orthanc'
  method: string
  instances: number
  seconds: number
  instancesPerSecond: number
  mibPerSecond: number
  /** CPU seconds (user + system) the receiving process (node, Orthanc) spent during the upload. */
  receiverCpuSeconds: number
  receiverCpuMsPerInstance: number
  /** Peak resident memory of the receiving process before the upload (started, idle), MiB. */
  peakRssBeforeMB: number
  /** Peak resident memory of the receiving process over its whole life (VmHWM), MiB. */
  peakRssMB: number
  encrypts: boolean
}

export type FirstImage = {
  /** Instances in the study's current record (QIDO-RS): all of them unless the study was split. */
  recordInstances: number
  /** The patient's CT records on the node (fresh node: 1 unless the study was split). */
  ctRecords: number
  /** From the end of the upload (the STOW-RS answer, storescu's exit) to the first 200 of WADO-RS `frames/1`. */
  firstFrameSeconds: number
  /** The first `/rendered` (PNG) answer right after, ms. */
  renderedMs: number
  /** WADO-RS retrieve of single instances not read before (multipart/related application/dicom), ms. */
  instanceMs: { first: number; median: number; max: number; samples: number }
  /** WADO-RS retrieve of the whole series, s and MiB/s. */
  seriesSeconds: number
  seriesMiBPerSecond: number
}

export type DicomBenchResult = {
  corpus: { description: string; instances: number; bytes: number; mib: number; transferSyntax: string }
  quietPeriodMs: number
  rows: DicomRow[]
  firstImage: { stow: FirstImage; cstore: FirstImage }
  orthanc: {
    version: string
    dicomwebPlugin: boolean
    pluginsFound: string[]
    /** Orthanc REST `GET /instances/{id}/file` of single instances right after its REST ingest, ms. */
    instanceFileMs: { first: number; median: number; max: number; samples: number }
  }
  /** PCMIMS throughput ÷ Orthanc throughput, by method (Orthanc REST stands in for its absent STOW-RS). */
  ratios: Record<string, number | null>
  /** PCMIMS receiver CPU per instance ÷ Orthanc's, by method. */
  cpuRatios: Record<string, number | null>
  loadAverage: { start: number[]; end: number[] }
  notes: string[]
}

export type RunDicomBenchParameters = {
  /** Instances in the synthesized CT (default 300, 512×512). */
  count?: number | undefined
  quietPeriodMs?: number | undefined
  onLog?: ((line: string) => void) | undefined
}

/**
 * Node-side DICOM ingest next to Orthanc on the same machine and corpus (a synthesized 300-slice CT,
 * Explicit VR Little Endian, ~150 MiB): PCMIMS STOW-RS (one request, streamed from disk) and C-STORE
 * (storescu, one association), each on a fresh node process, with the time until the sealed, anchored
 * record serves its first image by WADO-RS; Orthanc (Debian package, fresh storage each) by STOW-RS when
 * its DICOMweb plugin is installed, by REST `POST /instances` one file at a time, and by C-STORE.
 */
export async function runDicomBench(params: RunDicomBenchParameters = {}): Promise<DicomBenchResult> {
  const log = params.onLog ?? (() => {})
  const quietPeriodMs = params.quietPeriodMs ?? 500
  const loadStart = loadavg().map((n) => round(n, 2))
  const work = await mkdtemp(join(tmpdir(), 'pcmims-bench-dicom-'))
  const notes: string[] = []
  try {
    const ctDir = join(work, 'ct')
    log(`dicom: synthesizing the CT into ${ctDir}…`)
    const study = await writeSynthesizedStudy({
      kind: 'CT',
      count: params.count ?? 300,
      seed: 'bench-dicom',
      directory: ctDir,
      patient: { name: 'BENCH^CT', id: 'BENCH-CT-300' },
      study: { accessionNumber: 'BENCH-CT-300', description: 'BENCH CT' },
    })
    const files = await Promise.all(
      study.files.map(async (path) => ({ path, size: (await stat(path)).size })),
    )
    const bytes = files.reduce((n, f) => n + f.size, 0)
    const first = parseDicomFile(new Uint8Array(await readFile(files[0]!.path)))
    const sopOf = async (index: number) =>
      String(
        parseDicomFile(new Uint8Array(await readFile(files[index]!.path))).dataset['00080018']?.Value?.[0],
      )
    // Slices read by the latency probes: the first (time to first image) and others no one read before.
    const probeIndexes = [0, ...spread(files.length, 5)]
    const sops = await Promise.all(probeIndexes.map(sopOf))
    const ids = { study: study.studyInstanceUid, series: study.seriesInstanceUid, sops }
    const corpus = {
      description: `synthesized CT, ${files.length} × ${study.rows}×${study.columns}`,
      instances: files.length,
      bytes,
      mib: round(bytes / MiB),
      transferSyntax: first.transferSyntaxUid,
    }
    const row = async (
      system: DicomRow['system'],
      method: string,
      seconds: number,
      receiver: Receiver,
      encrypts: boolean,
    ): Promise<DicomRow> => {
      const cpu = (await cpuSeconds(receiver.pid)) - receiver.cpuBefore
      return {
        system,
        method,
        instances: files.length,
        seconds: round(seconds, 2),
        instancesPerSecond: round(files.length / seconds),
        mibPerSecond: round(bytes / MiB / seconds),
        receiverCpuSeconds: round(cpu, 2),
        receiverCpuMsPerInstance: round((cpu * 1000) / files.length),
        peakRssBeforeMB: round(receiver.rssBefore / MiB),
        peakRssMB: round((await peakRss(receiver.pid)) / MiB),
        encrypts,
      }
    }
    const rows: DicomRow[] = []

    // PCMIMS, STOW-RS: one request carrying the whole series.
    let stowFirst: FirstImage
    {
      const node = await startBenchNode(join(work, 'node-stow'), quietPeriodMs, undefined)
      try {
        const { uploader, patient } = await signInDev(node)
        const body = stowMultipart(files)
        log(`dicom: PCMIMS STOW-RS, ${files.length} instances, ${corpus.mib} MiB in one request…`)
        const receiver = await receiverOf(pid(node.process))
        const t0 = performance.now()
        const answer = await postStream(
          `${node.url}${DICOMWEB}/studies?patient=${patient.address}`,
          {
            authorization: `Bearer ${uploader.token}`,
            'content-type': body.contentType,
            'content-length': String(body.contentLength),
            accept: 'application/dicom+json',
          },
          body.open(),
        )
        const seconds = (performance.now() - t0) / 1000
        if (answer.status !== 200)
          throw new Error(`STOW-RS answered ${answer.status}: ${answer.text.slice(0, 500)}`)
        const stored = (JSON.parse(answer.text) as Record<string, { Value?: unknown[] }>)['00081199']?.Value
        if (stored?.length !== files.length) {
          throw new Error(`STOW-RS stored ${stored?.length} of ${files.length} instances`)
        }
        const afterUpload = performance.now()
        // CPU of the upload alone: taken before the first-image probes make the node work again.
        const uploadRow = await row('PCMIMS', 'STOW-RS (1 request)', seconds, receiver, true)
        stowFirst = await firstImage(node, patient.token, ids, afterUpload, bytes, log)
        rows.push({ ...uploadRow, peakRssMB: round((await peakRss(receiver.pid)) / MiB) })
      } finally {
        await node.stop()
      }
    }

    // PCMIMS, C-STORE: storescu, one association, into the node's receiver.
    let cstoreFirst: FirstImage
    {
      const dimsePort = await freePort()
      const node = await startBenchNode(join(work, 'node-cstore'), quietPeriodMs, dimsePort)
      try {
        const { uploader, patient } = await signInDev(node)
        // The receiver names the patient by the unit's MRN map: map the CT's Patient ID first.
        const mapped = await httpRequest(`${node.url}/api/v1/unit/patient-ids`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${uploader.token}`, 'content-type': 'application/json' },
          body: Buffer.from(JSON.stringify({ patientId: study.patient.id, patient: patient.address })),
        })
        if (mapped.status !== 200) {
          throw new Error(`mapping the Patient ID failed: ${mapped.status} ${mapped.body.toString('utf8')}`)
        }
        log(`dicom: PCMIMS C-STORE, storescu → 127.0.0.1:${dimsePort}…`)
        const receiver = await receiverOf(pid(node.process))
        const seconds = await storescu(PCMIMS_AE, dimsePort, study.files)
        const afterUpload = performance.now()
        const uploadRow = await row('PCMIMS', 'C-STORE (storescu, 1 assoc.)', seconds, receiver, true)
        cstoreFirst = await firstImage(node, patient.token, ids, afterUpload, bytes, log)
        rows.push({ ...uploadRow, peakRssMB: round((await peakRss(receiver.pid)) / MiB) })
      } finally {
        await node.stop()
      }
    }

    // Orthanc: fresh storage for each method.
    const pluginsFound = (
      await Promise.all(
        ORTHANC_PLUGIN_DIRS.filter((d) => existsSync(d)).map((d) => readdir(d).catch(() => [] as string[])),
      )
    ).flat()
    const dicomwebPlugin = pluginsFound.some((name) => /dicomweb/i.test(name))
    let orthancStow: DicomRow | undefined
    if (dicomwebPlugin) {
      const plugin = ORTHANC_PLUGIN_DIRS.map((d) =>
        join(d, pluginsFound.find((n) => /dicomweb/i.test(n))!),
      ).find(existsSync)!
      const orthanc = await startOrthanc(join(work, 'orthanc-stow'), { plugins: [plugin] })
      try {
        const body = stowMultipart(files)
        log('dicom: Orthanc STOW-RS…')
        const receiver = await receiverOf(orthanc.pid)
        const t0 = performance.now()
        const answer = await postStream(
          `${orthanc.url}/dicom-web/studies`,
          {
            'content-type': body.contentType,
            'content-length': String(body.contentLength),
            accept: 'application/dicom+json',
          },
          body.open(),
        )
        const seconds = (performance.now() - t0) / 1000
        if (answer.status !== 200) throw new Error(`Orthanc STOW-RS answered ${answer.status}`)
        orthancStow = await row('Orthanc', 'STOW-RS (1 request)', seconds, receiver, false)
        rows.push(orthancStow)
      } finally {
        await orthanc.stop()
      }
    } else {
      notes.push(
        `Orthanc STOW-RS not measured: no DICOMweb plugin in Debian's orthanc package here (plugins: ${pluginsFound.join(', ') || 'none'}); PCMIMS STOW-RS is compared with Orthanc's REST ingest instead`,
      )
    }

    let instanceFileMs: DicomBenchResult['orthanc']['instanceFileMs']
    let version = 'unknown'
    let orthancRest: DicomRow
    {
      const orthanc = await startOrthanc(join(work, 'orthanc-rest'), {})
      try {
        version = String(
          (
            JSON.parse((await httpRequest(`${orthanc.url}/system`)).body.toString('utf8')) as {
              Version?: string
            }
          ).Version,
        )
        log('dicom: Orthanc REST POST /instances, one file at a time…')
        const receiver = await receiverOf(orthanc.pid)
        const t0 = performance.now()
        const orthancIds = await orthancPost(orthanc.url, files, 1)
        const seconds = (performance.now() - t0) / 1000
        orthancRest = await row('Orthanc', 'REST POST /instances (1 client)', seconds, receiver, false)
        rows.push(orthancRest)
        const samples: number[] = []
        for (const index of probeIndexes) {
          samples.push(await timedGet(`${orthanc.url}/instances/${orthancIds[index]}/file`, {}))
        }
        instanceFileMs = stats(samples)
      } finally {
        await orthanc.stop()
      }
    }
    {
      // DESIGN.md's Orthanc figure also has four clients at once.
      const orthanc = await startOrthanc(join(work, 'orthanc-rest4'), {})
      try {
        log('dicom: Orthanc REST POST /instances, four clients…')
        const receiver = await receiverOf(orthanc.pid)
        const t0 = performance.now()
        await orthancPost(orthanc.url, files, 4)
        const seconds = (performance.now() - t0) / 1000
        rows.push(await row('Orthanc', 'REST POST /instances (4 clients)', seconds, receiver, false))
      } finally {
        await orthanc.stop()
      }
    }

    let orthancCstore: DicomRow
    {
      const dicomPort = await freePort()
      const orthanc = await startOrthanc(join(work, 'orthanc-cstore'), { dicomPort })
      try {
        log(`dicom: Orthanc C-STORE, storescu → 127.0.0.1:${dicomPort}…`)
        const receiver = await receiverOf(orthanc.pid)
        const seconds = await storescu(ORTHANC_AE, dicomPort, study.files)
        const stored = JSON.parse((await httpRequest(`${orthanc.url}/statistics`)).body.toString('utf8')) as {
          CountInstances: number
        }
        if (stored.CountInstances !== files.length) {
          throw new Error(`Orthanc holds ${stored.CountInstances} of ${files.length} instances after C-STORE`)
        }
        orthancCstore = await row('Orthanc', 'C-STORE (storescu, 1 assoc.)', seconds, receiver, false)
        rows.push(orthancCstore)
      } finally {
        await orthanc.stop()
      }
    }

    const ratio = (a: DicomRow | undefined, b: DicomRow | undefined) =>
      a && b ? round(a.mibPerSecond / b.mibPerSecond, 2) : null
    const pcmims = (method: string) => rows.find((r) => r.system === 'PCMIMS' && r.method.startsWith(method))
    const ratios: Record<string, number | null> = {
      'STOW-RS / Orthanc STOW-RS': ratio(pcmims('STOW-RS'), orthancStow),
      'STOW-RS / Orthanc REST': ratio(pcmims('STOW-RS'), orthancRest),
      'C-STORE / Orthanc C-STORE': ratio(pcmims('C-STORE'), orthancCstore),
    }
    // Less sensitive to the machine's load than wall time: receiver CPU per instance, PCMIMS ÷ Orthanc.
    const cpuRatio = (a: DicomRow | undefined, b: DicomRow | undefined) =>
      a && b ? round(a.receiverCpuMsPerInstance / b.receiverCpuMsPerInstance, 1) : null
    const cpuRatios: Record<string, number | null> = {
      'STOW-RS / Orthanc REST': cpuRatio(pcmims('STOW-RS'), orthancRest),
      'C-STORE / Orthanc C-STORE': cpuRatio(pcmims('C-STORE'), orthancCstore),
    }
    for (const [name, f] of [
      ['STOW-RS', stowFirst],
      ['C-STORE', cstoreFirst],
    ] as const) {
      if (f.recordInstances !== files.length || f.ctRecords !== 1) {
        notes.push(
          `after ${name} the study is not one record of ${files.length} instances: ${f.ctRecords} CT records, the current one holds ${f.recordInstances}`,
        )
      }
    }
    notes.push(
      'Orthanc stores the files as they come: it neither encrypts nor hashes nor anchors; PCMIMS encrypts each instance, stores it in its IPFS blockstore, seals the study into a record and anchors it on the (embedded) chain',
      `PCMIMS ingest quiet period ${quietPeriodMs} ms (a study is sealed once no instance came for that long); time to first image includes it`,
      "storescu runs with its defaults against both receivers, with TCP_NODELAY=1 in storescu's and Orthanc's environment; each receiver's own max PDU: PCMIMS 256 KiB, Orthanc its default 16 KiB",
      "Orthanc 1.10 cannot bind its DICOM server to one address: during its C-STORE run it listens on every interface, storing only from the bench's AE title at 127.0.0.1",
    )
    return {
      corpus,
      quietPeriodMs,
      rows,
      firstImage: { stow: stowFirst, cstore: cstoreFirst },
      orthanc: { version, dicomwebPlugin, pluginsFound, instanceFileMs },
      ratios,
      cpuRatios,
      loadAverage: { start: loadStart, end: loadavg().map((n) => round(n, 2)) },
      notes,
    }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

export function formatDicomTable(result: DicomBenchResult): string {
  const header = [
    'system',
    'method',
    'instances',
    'seconds',
    'inst/s',
    'MiB/s',
    'receiver CPU s',
    'CPU ms/inst',
    'RSS before MiB',
    'peak RSS MiB',
    'encrypts',
  ]
  const lines = result.rows.map((r) => [
    r.system,
    r.method,
    String(r.instances),
    String(r.seconds),
    String(r.instancesPerSecond),
    String(r.mibPerSecond),
    String(r.receiverCpuSeconds),
    String(r.receiverCpuMsPerInstance),
    String(r.peakRssBeforeMB),
    String(r.peakRssMB),
    r.encrypts ? 'yes' : 'no',
  ])
  const first = (name: string, f: FirstImage) =>
    `  after ${name}: ${f.ctRecords} record of ${f.recordInstances} instances; first frame ${f.firstFrameSeconds} s after the upload ended; then /rendered ${f.renderedMs} ms, ` +
    `instance ${f.instanceMs.first} ms (median ${f.instanceMs.median}, max ${f.instanceMs.max} of ${f.instanceMs.samples}), ` +
    `whole series ${f.seriesSeconds} s (${f.seriesMiBPerSecond} MiB/s)`
  const o = result.orthanc.instanceFileMs
  return [
    `${result.corpus.description}, ${result.corpus.mib} MiB, ${result.corpus.transferSyntax}; Orthanc ${result.orthanc.version}`,
    table(header, lines),
    '',
    `PCMIMS/Orthanc (MiB/s): ${Object.entries(result.ratios)
      .map(([k, v]) => `${k} ${v === null ? 'n/a' : `${v}×`}`)
      .join('; ')}`,
    `receiver CPU per instance, PCMIMS/Orthanc: ${Object.entries(result.cpuRatios)
      .map(([k, v]) => `${k} ${v === null ? 'n/a' : `${v}×`}`)
      .join('; ')}`,
    'Time to first image by WADO-RS (record sealed, anchored, indexed):',
    first('STOW-RS', result.firstImage.stow),
    first('C-STORE', result.firstImage.cstore),
    `  Orthanc REST GET /instances/{id}/file: first ${o.first} ms (median ${o.median}, max ${o.max} of ${o.samples})`,
    `load average at start ${result.loadAverage.start.join(' ')}, at end ${result.loadAverage.end.join(' ')}`,
    ...result.notes.map((n) => `note: ${n}`),
  ].join('\n')
}

function table(header: string[], lines: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)))
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ')
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n')
}

/** `count` indexes spread over `1..n-1` (never 0: that one the first-image probe already read). */
export function spread(n: number, count: number): number[] {
  const out = new Set<number>()
  for (let i = 1; i <= count; i++) {
    const index = Math.min(n - 1, Math.max(1, Math.round((i * n) / (count + 1))))
    if (n > 1) out.add(index)
  }
  return [...out]
}

export function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b)
  const median = sorted.length === 0 ? Number.NaN : (sorted[Math.floor((sorted.length - 1) / 2)] as number)
  return {
    first: round(samples[0] ?? Number.NaN),
    median: round(median),
    max: round(sorted.at(-1) ?? Number.NaN),
    samples: samples.length,
  }
}

/** Orthanc's REST ingest, `clients` requests in flight; resolves to the instance IDs in file order. */
async function orthancPost(url: string, files: StowFile[], clients: number): Promise<string[]> {
  const ids: string[] = []
  let next = 0
  const client = async () => {
    for (let index = next++; index < files.length; index = next++) {
      const response = await httpRequest(`${url}/instances`, {
        method: 'POST',
        headers: { 'content-type': 'application/dicom' },
        body: await readFile((files[index] as StowFile).path),
      })
      const text = response.body.toString('utf8')
      if (response.status !== 200)
        throw new Error(`Orthanc POST /instances answered ${response.status}: ${text}`)
      ids[index] = (JSON.parse(text) as { ID: string }).ID
    }
  }
  await Promise.all(Array.from({ length: clients }, client))
  return ids
}

type Receiver = { pid: number; cpuBefore: number; rssBefore: number }

async function receiverOf(pid: number): Promise<Receiver> {
  return { pid, cpuBefore: await cpuSeconds(pid), rssBefore: await peakRss(pid) }
}

/** CPU time (user + system) a process has used, in seconds (Linux `/proc/<pid>/stat`); NaN if unreadable. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  // Fields after the command name (which may hold spaces), which ends at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  // USER_HZ is 100 on Linux.
  return (utime + stime) / 100
}

function pid(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error('no pid')
  return child.pid
}

type BenchNode = NodeProcess & { logTail(): string }

async function startBenchNode(
  dataDir: string,
  quietPeriodMs: number,
  dimsePort: number | undefined,
): Promise<BenchNode> {
  const node = await startNodeProcess(dataDir, {
    env: {
      PCMIMS_LOG_LEVEL: 'warn',
      PCMIMS_INGEST_QUIET_PERIOD_MS: String(quietPeriodMs),
      ...(dimsePort === undefined
        ? { PCMIMS_DIMSE_ENABLED: '0' }
        : {
            PCMIMS_DIMSE_ENABLED: '1',
            PCMIMS_DIMSE_HOST: '127.0.0.1',
            PCMIMS_DIMSE_PORT: String(dimsePort),
            PCMIMS_AE_TITLE: PCMIMS_AE,
            PCMIMS_DIMSE_ALLOWED_AES: SCU_AE,
          }),
    },
  })
  // Warnings and errors only (log level warn): what a failed run needs to be understood.
  let tail = ''
  node.process.stderr?.on('data', (d: Buffer) => {
    tail = `${tail}${d}`.slice(-8_000)
  })
  return { ...node, logTail: () => tail }
}

type Session = { address: string; token: string }

async function signInDev(node: NodeProcess): Promise<{ uploader: Session; patient: Session }> {
  const signIn = async (role: string): Promise<Session> => {
    const dev = node.accounts.find((a) => a.role === role)
    if (!dev) throw new Error(`the node has no dev ${role}`)
    const { privateKey } = await decryptKeystore({
      keystore: await readFile(dev.keystore, 'utf8'),
      passphrase: dev.passphrase,
    })
    const account = privateKeyToAccount(privateKey)
    const { token } = await createNodeClient({ url: node.url, account }).signIn()
    return { address: account.address, token }
  }
  return { uploader: await signIn('uploader'), patient: await signIn('patient') }
}

/** A POST whose body streams from `body` with the length given in the headers (node:http: no chunking). */
function postStream(
  url: string,
  headers: Record<string, string>,
  body: NodeJS.ReadableStream,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    pipeline(body, req).catch(reject)
  })
}

/** storescu sending every file over one association; resolves to its wall time in seconds. */
async function storescu(calledAe: string, port: number, files: string[]): Promise<number> {
  const t0 = performance.now()
  const result = await runCommand('storescu', [
    '-aet',
    SCU_AE,
    '-aec',
    calledAe,
    '127.0.0.1',
    String(port),
    ...files,
  ])
  const seconds = (performance.now() - t0) / 1000
  if (result.code !== 0) throw new Error(`storescu exited with ${result.code}: ${result.stderr.slice(-2000)}`)
  return seconds
}

function runCommand(command: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: DCMTK_ENV })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr = `${stderr}${d}`.slice(-20_000)
    })
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code: code ?? 1, stderr }))
  })
}

/*
 * node:http with keep-alive for every request of the bench to either system: undici's fetch against
 * Orthanc's web server measured 25 ms per 0.5 MiB POST and 60-80 ms per GET here, where node:http and curl
 * took 9 ms and 1-15 ms, which would have made Orthanc look slower than it is.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 8 })

type HttpAnswer = { status: number; body: Buffer }

function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers = {
      ...options.headers,
      ...(options.body ? { 'content-length': String(options.body.length) } : {}),
    }
    const req = request(url, { method: options.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/** Milliseconds until the whole body of a GET is in (it must answer 200). */
async function timedGet(url: string, headers: Record<string, string>): Promise<number> {
  const t0 = performance.now()
  const response = await httpRequest(url, { headers })
  const ms = performance.now() - t0
  if (response.status !== 200) {
    throw new Error(`GET ${url} answered ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`)
  }
  return ms
}

async function firstImage(
  node: BenchNode,
  token: string,
  ids: { study: string; series: string; sops: string[] },
  afterUpload: number,
  bytes: number,
  log: (line: string) => void,
): Promise<FirstImage> {
  const nodeUrl = node.url
  const auth = { authorization: `Bearer ${token}` }
  const instance = (sop: string) =>
    `${nodeUrl}${DICOMWEB}/studies/${ids.study}/series/${ids.series}/instances/${sop}`
  const [firstSop, ...others] = ids.sops
  const frame = `${instance(firstSop as string)}/frames/1`
  const deadline = afterUpload + 120_000
  // Until the record is sealed, anchored and indexed the study is unknown (404): poll every 20 ms.
  for (;;) {
    const response = await httpRequest(frame, {
      headers: { ...auth, accept: 'multipart/related; type="application/octet-stream"' },
    })
    if (response.status === 200) break
    if (response.status !== 404) throw new Error(`WADO-RS frames answered ${response.status}`)
    if (performance.now() > deadline) {
      throw new Error(
        `no first image within 120 s of the upload; the node holds ${JSON.stringify(await studyState(nodeUrl, token, ids.study))}; its log ends:\n${node.logTail()}`,
      )
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  const firstFrameSeconds = round((performance.now() - afterUpload) / 1000, 2)
  log(`dicom: first frame ${firstFrameSeconds} s after the upload`)
  const renderedMs = await timedGet(`${instance(firstSop as string)}/rendered`, {
    ...auth,
    accept: 'image/png',
  })
  const samples: number[] = []
  for (const sop of others) {
    samples.push(
      await timedGet(instance(sop), { ...auth, accept: 'multipart/related; type="application/dicom"' }),
    )
  }
  const seriesMs = await timedGet(`${nodeUrl}${DICOMWEB}/studies/${ids.study}/series/${ids.series}`, {
    ...auth,
    accept: 'multipart/related; type="application/dicom"',
  })
  const state = await studyState(nodeUrl, token, ids.study)
  return {
    ...state,
    firstFrameSeconds,
    renderedMs: round(renderedMs),
    instanceMs: stats(samples),
    seriesSeconds: round(seriesMs / 1000, 2),
    seriesMiBPerSecond: round(bytes / MiB / (seriesMs / 1000)),
  }
}

/** What the patient sees of the study: its instances in the current record (QIDO-RS) and their CT records. */
async function studyState(nodeUrl: string, token: string, study: string) {
  const auth = { authorization: `Bearer ${token}` }
  const json = async (url: string) => {
    const response = await httpRequest(url, { headers: auth })
    return response.status === 200 ? (JSON.parse(response.body.toString('utf8')) as unknown) : undefined
  }
  const found = ((await json(`${nodeUrl}${DICOMWEB}/studies?StudyInstanceUID=${study}`)) ?? []) as Array<
    Record<string, { Value?: unknown[] }>
  >
  const listed = (
    ((await json(`${nodeUrl}/api/v1/records?kind=CT`)) ?? { records: [] }) as { records: unknown[] }
  ).records
  return {
    recordInstances: Number(found[0]?.['00201208']?.Value?.[0] ?? 0),
    ctRecords: listed.length,
  }
}

type RunningOrthanc = { url: string; pid: number; stop(): Promise<void> }

/**
 * Orthanc on loopback with its own fresh storage. Its HTTP server takes local callers only; its DICOM
 * server (when `dicomPort` is given) stores only from the bench's AE title at 127.0.0.1.
 */
async function startOrthanc(
  dir: string,
  options: { dicomPort?: number | undefined; plugins?: string[] | undefined },
): Promise<RunningOrthanc> {
  await mkdir(dir, { recursive: true })
  const httpPort = await freePort()
  const config = {
    Name: 'pcmims-bench',
    StorageDirectory: join(dir, 'db'),
    IndexDirectory: join(dir, 'db'),
    Plugins: options.plugins ?? [],
    HttpServerEnabled: true,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    OrthancExplorerEnabled: false,
    WebDavEnabled: false,
    DicomServerEnabled: options.dicomPort !== undefined,
    DicomPort: options.dicomPort ?? 4242,
    DicomAet: ORTHANC_AE,
    DicomCheckCalledAet: true,
    DicomAlwaysAllowEcho: false,
    DicomAlwaysAllowStore: false,
    DicomCheckModalityHost: true,
    DicomModalities: { bench: [SCU_AE, '127.0.0.1', 104] },
    SaveJobs: false,
  }
  const configPath = join(dir, 'orthanc.json')
  await writeFile(configPath, JSON.stringify(config))
  const child = spawn(ORTHANC, [configPath], { stdio: ['ignore', 'ignore', 'pipe'], env: DCMTK_ENV })
  let log = ''
  child.stderr.on('data', (d: Buffer) => {
    log = `${log}${d}`.slice(-10_000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${httpPort}`
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(killer)
  }
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Orthanc exited: ${log.slice(-2000)}`)
    const up = await httpRequest(`${url}/system`).then(
      (r) => r.status === 200,
      () => false,
    )
    if (up) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`Orthanc did not start in 30 s: ${log.slice(-2000)}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return { url, pid: pid(child), stop }
}
