import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'
import { expect } from 'vitest'

/*
 * Real DICOM peers for tests: dcmtk's storescu options and an Orthanc (Debian's package) started on
 * loopback that forwards to a receiver under test.
 */

export // storescu proposes a compressed syntax only when told which; each option adds the uncompressed ones too.
const STORESCU_PROPOSAL: Record<string, string> = {
  '1.2.840.10008.1.2': '-xi',
  '1.2.840.10008.1.2.1': '-xe',
  '1.2.840.10008.1.2.2': '-xb',
  '1.2.840.10008.1.2.1.99': '-xd',
  '1.2.840.10008.1.2.5': '-xr',
  '1.2.840.10008.1.2.4.50': '-xy',
  '1.2.840.10008.1.2.4.51': '-xx',
  '1.2.840.10008.1.2.4.70': '-xs',
  '1.2.840.10008.1.2.4.90': '-xv',
  '1.2.840.10008.1.2.4.91': '-xw',
}

// For one association carrying every fixture: a presentation context per (SOP class, transfer syntax).
export const DCMTK_SYNTAX_NAMES: Record<string, string> = {
  ExplicitLE: 'LittleEndianExplicit',
  ImplicitLE: 'LittleEndianImplicit',
  BigEndian: 'BigEndianExplicit',
  Deflated: 'DeflatedLittleEndianExplicit',
  RLE: 'RLELossless',
  JPEGBaseline: 'JPEGBaseline',
  JPEGExtended: 'JPEGExtended:Process2+4',
  JPEGLossless: 'JPEGLossless:Non-hierarchical-1stOrderPrediction',
  J2KLossless: 'JPEG2000LosslessOnly',
  J2K: 'JPEG2000',
}
export const FIXTURE_SOP_CLASSES = [
  'CTImageStorage',
  'MRImageStorage',
  'SecondaryCaptureImageStorage',
  'XRayAngiographicImageStorage',
  'SegmentationStorage',
  'ComprehensiveSRStorage',
]

export function storescuProfile(): string {
  const lines = ['[[TransferSyntaxes]]']
  for (const [key, name] of Object.entries(DCMTK_SYNTAX_NAMES))
    lines.push(`[${key}]`, `TransferSyntax1 = ${name}`)
  lines.push('[[PresentationContexts]]', '[All]')
  let n = 0
  for (const sopClass of FIXTURE_SOP_CLASSES) {
    for (const key of Object.keys(DCMTK_SYNTAX_NAMES))
      lines.push(`PresentationContext${++n} = ${sopClass}\\${key}`)
  }
  lines.push('[[Profiles]]', '[All]', 'PresentationContexts = All', '')
  return lines.join('\n')
}

export type Orthanc = { url: string; stop(): Promise<void> }

export async function orthancStore(url: string, resources: string[], expected: number): Promise<void> {
  const response = await fetch(`${url}/modalities/pcmims/store`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ Resources: resources, Synchronous: true }),
  })
  const text = await response.text()
  expect(response.ok, text).toBe(true)
  const job = JSON.parse(text) as { FailedInstancesCount: number; InstancesCount: number }
  expect(job).toMatchObject({ FailedInstancesCount: 0, InstancesCount: expected })
}

export async function startOrthanc(work: string, receiverPort: number, aeTitle: string): Promise<Orthanc> {
  const dir = await mkdtemp(join(work, 'orthanc-'))
  const httpPort = await freePort()
  const config = {
    Name: 'pcmims-test',
    StorageDirectory: join(dir, 'db'),
    IndexDirectory: join(dir, 'db'),
    Plugins: [],
    HttpServerEnabled: true,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    OrthancExplorerEnabled: false,
    WebDavEnabled: false,
    // Orthanc only pushes here; its own DICOM server would listen on every interface.
    DicomServerEnabled: false,
    DicomAet: 'ORTHANC',
    DicomModalities: { pcmims: [aeTitle, '127.0.0.1', receiverPort] },
    DicomScuTimeout: 30,
    SaveJobs: false,
    ConcurrentJobs: 1,
  }
  const configPath = join(dir, 'orthanc.json')
  await writeFile(configPath, JSON.stringify(config))
  const child: ChildProcess = spawn('/usr/sbin/Orthanc', [configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let log = ''
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${httpPort}`
  const ready = await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`Orthanc exited: ${log.slice(-2000)}`)
    return fetch(`${url}/system`).then(
      (r) => r.ok,
      () => false,
    )
  }, 30_000).then(
    () => true,
    () => false,
  )
  if (!ready) {
    child.kill('SIGKILL')
    throw new Error(`Orthanc did not start: ${log.slice(-2000)}`)
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(killer)
    },
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

export type RunResult = { code: number; stdout: string; stderr: string }

export function run(
  command: string,
  args: string[],
  { check = false, env = {} }: { check?: boolean; env?: Record<string, string> } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const options = { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } }
    execFile(command, args, options, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      if (check && code !== 0) reject(new Error(`${command} failed (${code}): ${stderr}`))
      else resolve({ code, stdout, stderr })
    })
  })
}

export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** dcmdump of a file's data set, normalised so two encodings of the same data set compare equal. */
export async function dataSetDump(path: string): Promise<string[]> {
  const { stdout, code } = await run('dcmdump', ['-q', '+L', path])
  expect(code).toBe(0)
  const start = stdout.indexOf('# Dicom-Data-Set')
  return stdout
    .slice(start)
    .split('\n')
    .filter((l) => l.trim() && !/DataSetTrailingPadding|Delimitation|# Used TransferSyntax/.test(l))
    .map((l) =>
      l
        .replace(/\((Sequence|Item) with (?:explicit|undefined) length #=\d+\)/, '($1)')
        .replace(/\s+#.*$/, '')
        .trimEnd(),
    )
}
