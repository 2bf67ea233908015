import {
  Kind,
  Purpose,
  pcmimsAbi,
  pcmimsBytecode,
  Role,
  Scope,
  seedPaperImageCentricAbi,
  seedPaperImageCentricBytecode,
} from '@pcmims/contracts'
import {
  newParticipant,
  startTestChain,
  type TestChain,
  type TestParticipant,
  type TestWalletClient,
} from '@pcmims/test-utils'
import { type Abi, type Address, encodeFunctionData, type Hash, type Hex, toHex } from 'viem'

export type GasRow = {
  operation: string
  /** gasUsed of one transaction (or the stated average / per-unit share). */
  ours: number
  /** The seed paper's reconstructed contract doing the closest equivalent. */
  seedPaper?: number
  /** ours / seedPaper (lower is better). */
  ratio?: number
  note?: string
}

export type GasBenchResult = {
  rows: GasRow[]
  /** Targets from the design, with whether this run met them. */
  targets: Array<{ what: string; target: number; measured: number; met: boolean }>
  environment: { anvil: string; chainId: number; blockGasLimit: number; node: string }
  measuredAt: string
}

export type RunGasBenchParameters = {
  signal?: AbortSignal | undefined
  /** Calls averaged for steady-state figures (default 20). */
  samples?: number | undefined
  /** Instances of the CT study compared per image against the paper (default 300). */
  studyInstances?: number | undefined
  onProgress?: ((message: string) => void) | undefined
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** A CIDv0-shaped string: "Qm" + 44 base58 characters (46 in all), as the paper stores file hashes. */
function cidV0(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(44))
  return `Qm${Array.from(bytes, (b) => BASE58[b % BASE58.length]).join('')}`
}

const randomId = (): Hex => toHex(crypto.getRandomValues(new Uint8Array(32)))
const mean = (values: readonly number[]) => Math.round(values.reduce((a, b) => a + b, 0) / values.length)
const ratio = (ours: number, seedPaper: number) => Math.round((ours / seedPaper) * 10_000) / 10_000

/**
 * Deploys Pcmims and the seed paper's reconstructed `SeedPaperImageCentric` on one anvil and measures receipt
 * gasUsed for each operation. Everything runs against the same chain in the same run.
 */
export async function runGasBench(params: RunGasBenchParameters = {}): Promise<GasBenchResult> {
  const samples = params.samples ?? 20
  const instances = params.studyInstances ?? 300
  const progress = params.onProgress ?? (() => {})
  const chain = await startTestChain({ deploy: false, signal: params.signal })
  try {
    return await measureAll(chain, { samples, instances, progress, signal: params.signal })
  } finally {
    await chain.stop()
  }
}

async function measureAll(
  base: TestChain,
  opts: {
    samples: number
    instances: number
    progress: (m: string) => void
    signal: AbortSignal | undefined
  },
): Promise<GasBenchResult> {
  const { samples, instances, progress, signal } = opts
  const governance = base.walletClientFor(base.governance)

  const gasOf = async (hash: Hash) => {
    signal?.throwIfAborted()
    const receipt = await base.publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
    return { gas: Number(receipt.gasUsed), contractAddress: receipt.contractAddress }
  }
  // Explicit gas limits: no estimateGas round trip per call (gasUsed does not depend on the limit).
  const call = async (
    abi: Abi,
    address: Address,
    wallet: TestWalletClient,
    functionName: string,
    args: unknown[],
  ) =>
    (
      await gasOf(
        // biome-ignore lint/suspicious/noExplicitAny: one helper for both contracts' functions
        await wallet.writeContract({ address, abi, functionName, args, gas: 5_000_000n } as any),
      )
    ).gas

  progress('deploying')
  const pcmimsDeploy = await gasOf(
    await governance.deployContract({
      abi: pcmimsAbi,
      bytecode: pcmimsBytecode,
      args: [base.governance.address],
    }),
  )
  const seedDeploy = await gasOf(
    await governance.deployContract({
      abi: seedPaperImageCentricAbi,
      bytecode: seedPaperImageCentricBytecode,
    }),
  )
  const contract = pcmimsDeploy.contractAddress!
  const seed = seedDeploy.contractAddress!
  const chain: TestChain = { ...base, contract }
  const ours = (from: { wallet: TestWalletClient }, fn: string, args: unknown[]) =>
    call(pcmimsAbi, contract, from.wallet, fn, args)
  const paper = (fn: string, args: unknown[]) => call(seedPaperImageCentricAbi, seed, governance, fn, args)

  // --- the paper: AddImageCentric with realistic values
  progress('seed paper: AddImageCentric')
  const patientUserId = 'PAT-2024-000123'
  const description = (i: number) => `CT chest w/ contrast, axial 1.25mm #${String(i).padStart(3, '0')}`
  let appointment = 240_000_100
  const addImage = (appointmentId: number, i: number) =>
    paper('AddImageCentric', [patientUserId, BigInt(appointmentId), description(i), cidV0()])
  const paperFirst = await addImage(appointment++, 0)
  const paperSteady: number[] = []
  for (let i = 1; i <= samples; i++) paperSteady.push(await addImage(appointment++, i))
  const paperSteadyMean = mean(paperSteady)

  // --- ours: participants
  progress('ours: participants')
  const unitParticipant = await newParticipant(chain)
  const admitGas = await ours({ wallet: governance }, 'admitUnit', [
    unitParticipant.address,
    unitParticipant.encryptionKey,
  ])
  const registerGas: number[] = []
  const approveGas: number[] = []
  const join = async (role: number): Promise<TestParticipant> => {
    const p = await newParticipant(chain)
    registerGas.push(await ours(p, 'register', [unitParticipant.address, role, p.encryptionKey]))
    approveGas.push(await ours(unitParticipant, 'approve', [p.address]))
    return p
  }
  const patient = await join(Role.Patient)
  const uploader = await join(Role.Uploader)
  const medics: TestParticipant[] = []
  for (let i = 0; i < 6; i++) medics.push(await join(Role.Medic))
  const requestors: TestParticipant[] = []
  for (let i = 0; i < 3; i++) requestors.push(await join(Role.Requestor))

  // --- ours: anchoring
  progress('ours: anchoring')
  const anchor = (from: TestParticipant | typeof unitParticipant, kind: number = Kind.CT) =>
    ours(from, 'anchorRecord', [randomId(), patient.address, uploader.address, kind])
  const anchorFirst = await anchor(uploader)
  const direct: number[] = []
  for (let i = 0; i < samples; i++) direct.push(await anchor(uploader))
  const relayed: number[] = []
  for (let i = 0; i < samples; i++) relayed.push(await anchor(unitParticipant))
  const batchPerRecord = async (size: number) => {
    const items = Array.from({ length: size }, (_, i) => ({
      id: randomId(),
      patient: patient.address,
      uploader: uploader.address,
      kind: i % 6,
    }))
    return Math.round((await ours(unitParticipant, 'anchorRecords', [items])) / size)
  }
  const batch1 = await batchPerRecord(1)
  const batch5 = await batchPerRecord(5)
  const batch20 = await batchPerRecord(20)

  // records of the patient to grant
  const recordIds: Hex[] = []
  for (let i = 0; i < 5; i++) {
    const id = randomId()
    await ours(unitParticipant, 'anchorRecord', [id, patient.address, uploader.address, i])
    recordIds.push(id)
  }

  // --- ours: grants (each on a fresh (patient, grantee) pair: a new storage slot)
  progress('ours: grants')
  const now = async () => Number((await chain.publicClient.getBlock()).timestamp)
  const expiry = async () => (await now()) + 30 * 24 * 3600
  const grant = async (to: TestParticipant, scope: number, mask: number, ids: Hex[], flags = 1) =>
    ours(patient, 'grant', [to.address, scope, mask, ids, await expiry(), flags, randomId()])
  const grantAll = await grant(medics[0]!, Scope.All, 0, [])
  const grantKinds = await grant(medics[1]!, Scope.Kinds, (1 << Kind.CT) | (1 << Kind.MRI), [])
  const grantRecords1 = await grant(medics[2]!, Scope.Records, 0, recordIds.slice(0, 1))
  const grantRecords5 = await grant(medics[3]!, Scope.Records, 0, recordIds)
  const changeGrant = await grant(medics[0]!, Scope.Kinds, 1 << Kind.REPORT, [], 3)
  const revoke = await ours(patient, 'revoke', [medics[0]!.address])
  const regrantAfterRevoke = await grant(medics[0]!, Scope.All, 0, [])

  progress('ours: requests, emergency, rotation')
  const request = async (from: TestParticipant) => {
    const hash = await from.wallet.writeContract({
      address: contract,
      abi: pcmimsAbi,
      functionName: 'requestAccess',
      args: [patient.address, Scope.Kinds, 1 << Kind.CT, Purpose.Research, randomId()],
      gas: 1_000_000n,
    })
    const gas = (await gasOf(hash)).gas
    const id = await chain.publicClient.readContract({
      address: contract,
      abi: pcmimsAbi,
      functionName: 'requestCount',
    })
    return { gas, id }
  }
  const req1 = await request(requestors[0]!)
  const approveRequestGas = await ours(patient, 'approveRequest', [req1.id, await expiry(), 2, randomId()])
  const req2 = await request(requestors[1]!)
  const denyRequestGas = await ours(patient, 'denyRequest', [req2.id])
  const declare = await ours(medics[4]!, 'declareEmergency', [patient.address, 1, 3600])
  const endEmergencyGas = await ours(patient, 'endEmergency', [medics[4]!.address])
  const rotate = await ours(patient, 'rotateRecord', [recordIds[4]!, randomId()])
  const keyRotation = await ours(medics[5]!, 'setEncryptionKey', [randomId()])

  // --- de-identified copies: the requestor of the approved request (de-identified only) is the audience
  progress('ours: de-identified copies, access reads')
  const copyRelayed = await ours(unitParticipant, 'anchorDeidentifiedCopy', [
    randomId(),
    recordIds[0]!,
    requestors[0]!.address,
  ])
  const copyId = randomId()
  const copyByPatient = await ours(patient, 'anchorDeidentifiedCopy', [
    copyId,
    recordIds[1]!,
    requestors[0]!.address,
  ])
  // Gas of the access views as a node calls them (eth_estimateGas of the call; 21k of it is the call itself).
  const viewGas = async (functionName: 'canAccess' | 'accessOf', who: Address, id: Hex) =>
    Number(
      await chain.publicClient.estimateGas({
        to: contract,
        data: encodeFunctionData({ abi: pcmimsAbi, functionName, args: [who, id] }),
      }),
    )
  // medics[1] holds a Kinds grant (CT, MRI): recordIds[1] is a CT record.
  const canAccessGrant = await viewGas('canAccess', medics[1]!.address, recordIds[1]!)
  const accessOfGrant = await viewGas('accessOf', medics[1]!.address, recordIds[1]!)
  const accessOfCopy = await viewGas('accessOf', requestors[0]!.address, copyId)
  const accessOfOriginalDeidentifiedOnly = await viewGas('accessOf', requestors[0]!.address, recordIds[1]!)

  // --- one CT study of N instances: ours one anchor vs the paper's per-image calls
  progress(`study: ${instances} instances`)
  const studyOurs = await anchor(unitParticipant, Kind.CT)
  let studyPaperDistinct = 0
  for (let i = 0; i < instances; i++) studyPaperDistinct += await addImage(appointment++, i)
  const sameAppointment = appointment++
  let studyPaperSame = 0
  for (let i = 0; i < instances; i++) studyPaperSame += await addImage(sameAppointment, i)

  const blockGasLimit = Number((await chain.publicClient.getBlock()).gasLimit)
  const anvilVersion = await chain.publicClient.request({ method: 'web3_clientVersion' })

  const paperRow = (operation: string, o: number, p: number, note?: string): GasRow => ({
    operation,
    ours: o,
    seedPaper: p,
    ratio: ratio(o, p),
    ...(note ? { note } : {}),
  })
  const rows: GasRow[] = [
    paperRow(
      'deploy contract',
      pcmimsDeploy.gas,
      seedDeploy.gas,
      'Pcmims does far more than the paper’s contract',
    ),
    paperRow('anchor one record: first call (ours direct by uploader)', anchorFirst, paperFirst),
    paperRow(
      `anchor one record: steady, avg of ${samples} (ours direct by uploader)`,
      mean(direct),
      paperSteadyMean,
    ),
    paperRow(
      `anchor one record: steady, avg of ${samples} (ours relayed by unit)`,
      mean(relayed),
      paperSteadyMean,
    ),
    paperRow('anchorRecords batch of 1, per record', batch1, paperSteadyMean),
    paperRow('anchorRecords batch of 5, per record', batch5, paperSteadyMean),
    paperRow('anchorRecords batch of 20, per record', batch20, paperSteadyMean),
    paperRow(
      `one ${instances}-instance CT study (ours 1 anchor; paper ${instances} calls, one appointment id per image)`,
      studyOurs,
      studyPaperDistinct,
      `paper needs ${Math.ceil(studyPaperDistinct / blockGasLimit)} full ${blockGasLimit}-gas blocks`,
    ),
    paperRow(
      `one ${instances}-instance CT study (paper ${instances} calls, same appointment id)`,
      studyOurs,
      studyPaperSame,
      'paper overwrites both mappings each call: only the last image stays retrievable',
    ),
    paperRow(
      'per instance of that study',
      Math.round(studyOurs / instances),
      Math.round(studyPaperDistinct / instances),
    ),
    { operation: 'admitUnit (governance)', ours: admitGas },
    { operation: 'register (avg)', ours: mean(registerGas) },
    { operation: 'approve participant (avg)', ours: mean(approveGas) },
    { operation: 'grant scope All (new pair)', ours: grantAll },
    { operation: 'grant scope Kinds (new pair)', ours: grantKinds },
    { operation: 'grant scope Records, 1 record (new pair)', ours: grantRecords1 },
    { operation: 'grant scope Records, 5 records (new pair)', ours: grantRecords5 },
    { operation: 'change grant (existing pair)', ours: changeGrant },
    { operation: 'revoke', ours: revoke },
    { operation: 're-grant after revoke', ours: regrantAfterRevoke },
    { operation: 'requestAccess', ours: req1.gas },
    { operation: 'approveRequest (writes the grant)', ours: approveRequestGas },
    { operation: 'denyRequest', ours: denyRequestGas },
    { operation: 'declareEmergency', ours: declare },
    { operation: 'endEmergency', ours: endEmergencyGas },
    { operation: 'rotateRecord', ours: rotate },
    { operation: 'setEncryptionKey', ours: keyRotation },
    {
      operation: 'anchorDeidentifiedCopy (relayed by the custodian unit, as the outbox sends it)',
      ours: copyRelayed,
    },
    { operation: 'anchorDeidentifiedCopy (by the patient)', ours: copyByPatient },
    { operation: 'canAccess view, grantee with a Kinds grant (eth_estimateGas)', ours: canAccessGrant },
    { operation: 'accessOf view, grantee with a Kinds grant (eth_estimateGas)', ours: accessOfGrant },
    {
      operation: 'accessOf view, the audience of a de-identified copy (eth_estimateGas)',
      ours: accessOfCopy,
    },
    {
      operation: 'accessOf view, de-identified-only grantee on an original: refused (eth_estimateGas)',
      ours: accessOfOriginalDeidentifiedOnly,
    },
  ]
  const targets = [
    { what: 'anchor one record (direct)', target: 46_000, measured: mean(direct) },
    { what: 'anchor one record (relayed)', target: 46_000, measured: mean(relayed) },
    { what: 'gas per instance of a batched study', target: 200, measured: Math.round(studyOurs / instances) },
    { what: 'grant (scope All, new pair)', target: 50_000, measured: grantAll },
    { what: 'revoke', target: 30_000, measured: revoke },
  ].map((t) => ({ ...t, met: t.measured <= t.target }))

  return {
    rows,
    targets,
    environment: {
      anvil: String(anvilVersion),
      chainId: chain.chain.id,
      blockGasLimit,
      node: process.version,
    },
    measuredAt: new Date().toISOString(),
  }
}

/** Plain-text table of the rows. */
export function formatGasTable(result: GasBenchResult): string {
  const header = ['operation', 'ours', 'seed paper', 'ratio']
  const lines = result.rows.map((r) => [
    r.operation,
    r.ours.toLocaleString('en-US'),
    r.seedPaper === undefined ? '' : r.seedPaper.toLocaleString('en-US'),
    r.ratio === undefined ? '' : r.ratio.toFixed(4),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  const out = [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmt)]
  const notes = result.rows.filter((r) => r.note).map((r) => `* ${r.operation}: ${r.note}`)
  const targets = result.targets.map(
    (t) =>
      `${t.met ? 'met   ' : 'missed'} ${t.what}: ${t.measured.toLocaleString('en-US')} (target ≤ ${t.target.toLocaleString('en-US')})`,
  )
  return [...out, '', ...notes, '', ...targets].join('\n')
}
