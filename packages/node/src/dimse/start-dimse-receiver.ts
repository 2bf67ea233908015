import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { mkdir, unlink } from 'node:fs/promises'
import net from 'node:net'
import type { Writable } from 'node:stream'
import dimse, { type association, type requests } from 'dcmjs-dimse'
import type { Logger } from '../logger.js'
import {
  Abort,
  AssociateReject,
  CommandField,
  DEFAULT_STORAGE_TRANSFER_SYNTAXES,
  isStorageSopClass,
  isValidUid,
  NO_DATA_SET,
  PduType,
  StoreStatus,
  VERIFICATION_SOP_CLASS,
  VERIFICATION_TRANSFER_SYNTAXES,
} from './constants.js'
import { DimseReceiverError, DimseStoreError } from './errors.js'
import { fileMetaHeader } from './file-meta.js'
import {
  abortPdu,
  type Pdu,
  PduProtocolError,
  PduReader,
  readCommandSummary,
  readPdvs,
} from './pdu-reader.js'
import { SpoolFile } from './spool-file.js'

// dcmjs-dimse (PantelisGeorgiadis, MIT, the DIMSE companion of dcmjs used by OHIF) does the parts that are
// easy to get subtly wrong: decoding the A-ASSOCIATE-RQ, encoding AC/RJ/RP PDUs, decoding DIMSE commands
// and encoding responses. It is not built for hostile peers, so this module keeps the socket to itself and
// hands the library only PDUs that passed our checks (see pdu-reader.ts), through a stand-in socket:
// - it buffers a PDU of any declared length and never checks presentation contexts or command sizes;
// - its server-side association timeout never fires (connectedTime is only set for clients) and its PDU
//   timeout would cut an association while our own handler is still working, so timers live here;
// - it answers with the peer's max PDU length min its own instead of announcing ours, writes whatever
//   asynchronous-operations window the peer proposes into the AC, and logs everything at trace level to
//   the console by default (silenced below);
// - its C-STORE stream only waits for 'drain' on the first fragment, so the sink we give it never asks
//   it to wait: backpressure is applied on the real socket instead.
const { Scp, Dataset, Implementation } = dimse
const { PresentationContextResult, Status } = dimse.constants
const { CStoreResponse, CEchoResponse } = dimse.responses
dimse.log.setLevel('silent')

type PresentationContext = association.PresentationContext
type Association = association.Association
type CStoreRequest = requests.CStoreRequest
type CEchoRequest = requests.CEchoRequest
type CStoreResponseT = InstanceType<typeof CStoreResponse>
type CEchoResponseT = InstanceType<typeof CEchoResponse>

/** One instance received over C-STORE and spooled as a durable Part 10 file. */
export type DimseInstance = {
  /** The spool file (`<spoolDir>/<associationId>-<n>.dcm`); the handler owns it from now on. */
  path: string
  sopClassUid: string
  sopInstanceUid: string
  /** The negotiated transfer syntax: the data set is kept exactly as it was sent. */
  transferSyntaxUid: string
  callingAeTitle: string
  associationId: string
  /** Bytes of the spool file (preamble, file meta and data set). */
  size: number
}

/** What happened to an association, reported once it is over and its instances are settled. */
export type DimseAssociationEnd = {
  associationId: string
  callingAeTitle: string
  calledAeTitle: string
  remoteAddress: string | undefined
  /** `released`: normal end; `peer-aborted`: the peer sent A-ABORT or dropped the connection; `aborted`: we
   * aborted it (protocol violation, limit, timeout); `shutdown`: the receiver was closed. */
  outcome: 'released' | 'peer-aborted' | 'aborted' | 'shutdown'
  /** Instances stored with success (0x0000) answered or at least handed to `onInstance`, in arrival order. */
  instances: DimseInstance[]
  /** C-STORE requests answered with a failure status. */
  failures: number
  startedAt: number
  endedAt: number
}

export type StartDimseReceiverParameters = {
  /** Interface to listen on. */
  host: string
  /** TCP port (0: any free port; the handle tells which). */
  port: number
  /** Our AE title: associations calling another one are rejected (called AE not recognized). */
  aeTitle: string
  /** Calling AE titles allowed to associate; empty or absent: any. */
  allowedCallingAeTitles?: readonly string[] | undefined
  /** Longest P-DATA-TF PDU we accept and announce (4096…16 MiB; default 256 KiB). */
  maxPduLength?: number | undefined
  /** Associations open at once; more are rejected as transient (local limit exceeded). Default 8. */
  maxAssociations?: number | undefined
  /** Largest data set accepted per instance; larger ones are refused with 0xA700 and not kept. */
  maxInstanceBytes: number
  /** Where instances are spooled; created if missing. */
  spoolDir: string
  /**
   * fsync each spooled instance before `onInstance` (default true). Turn off only when `onInstance` itself
   * makes the instance durable before it resolves (success is answered after it, never before).
   */
  durableSpool?: boolean | undefined
  /**
   * Takes over one spooled instance; C-STORE success is answered only once it resolved. Throw
   * DimseStoreError to choose the failure status; the spool file is then deleted.
   */
  onInstance: (instance: DimseInstance, options: { signal: AbortSignal }) => Promise<void> | void
  /** Called once per accepted association after it ended and all its instances were settled. */
  onAssociationEnd?: ((end: DimseAssociationEnd) => Promise<void> | void) | undefined
  logger?: Logger | undefined
  /** Aborting it closes the receiver (as `close()`). */
  signal?: AbortSignal | undefined
  /** ARTIM: time allowed for the A-ASSOCIATE-RQ after connecting, and for the peer to close after a
   * reject or release. Default 30 s. */
  artimTimeoutMs?: number | undefined
  /** An association on which nothing arrives this long, while we are not working on a request, is aborted.
   * Default 60 s. */
  idleTimeoutMs?: number | undefined
  /** Transfer syntaxes accepted for storage, in no particular order (the sender's order decides). */
  transferSyntaxUids?: readonly string[] | undefined
  /** Which abstract syntaxes are accepted as storage SOP classes. Default: `isStorageSopClass`. */
  acceptSopClass?: ((sopClassUid: string) => boolean) | undefined
}

export type DimseReceiver = {
  readonly host: string
  /** The port actually listened on. */
  readonly port: number
  /** Associations open now. */
  readonly activeAssociations: number
  /** Stops listening, aborts open associations, waits for their handlers and reports. */
  close(): Promise<void>
}

export type StartDimseReceiverReturnType = DimseReceiver

const MAX_ASSOCIATE_RQ_BYTES = 128 * 1024
const MAX_COMMAND_BYTES = 64 * 1024
// A data set on a non-storage command (nothing we accept has one) is read to its end within this bound.
const MAX_OTHER_DATA_SET_BYTES = 64 * 1024
// A refused oversized instance is read (and dropped) to its end so it can be answered with a status; past
// this much more the peer is aborted instead.
const MAX_DISCARD_BYTES = 256 * 1024 * 1024
const AE_TITLE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/
const VERIFICATION_SYNTAXES: ReadonlySet<string> = new Set(VERIFICATION_TRANSFER_SYNTAXES)
const APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1'
const SHUTDOWN_GRACE_MS = 500

/**
 * Starts a DICOM Storage SCP (C-STORE) and Verification SCP (C-ECHO) on `host:port`. Each instance is
 * written to `spoolDir` as a Part 10 file (file meta built from the command and the negotiated transfer
 * syntax, data set kept as sent), fsynced, handed to `onInstance`, and only then answered with success.
 */
export async function startDimseReceiver(params: StartDimseReceiverParameters): Promise<DimseReceiver> {
  const options = resolveOptions(params)
  try {
    await mkdir(options.spoolDir, { recursive: true, mode: 0o700 })
  } catch (cause) {
    throw new DimseReceiverError('Cannot create the DICOM spool directory', undefined, cause)
  }
  if (params.signal?.aborted) throw new DimseReceiverError('Aborted before the DICOM receiver started')

  const shutdown = new AbortController()
  const connections = new Set<Connection>()
  const finished = new Set<Promise<void>>()
  const state = { activeAssociations: 0 }
  const server = net.createServer({ noDelay: true }, (socket) => {
    if (shutdown.signal.aborted) {
      socket.destroy()
      return
    }
    const connection = new Connection(socket, options, state, shutdown.signal)
    connections.add(connection)
    const done = connection.finished.then(() => {
      connections.delete(connection)
      finished.delete(done)
    })
    finished.add(done)
  })
  // Connections past this are dropped by the kernel side of Node before any byte is read.
  server.maxConnections = options.maxAssociations * 2 + 2

  await new Promise<void>((resolve, reject) => {
    const onError = (cause: Error) =>
      reject(
        new DimseReceiverError('The DICOM receiver cannot listen', `${params.host}:${params.port}`, cause),
      )
    server.once('error', onError)
    server.listen({ host: params.host, port: params.port }, () => {
      server.off('error', onError)
      resolve()
    })
  })
  server.on('error', (error) => options.logger?.error({ err: error }, 'DICOM receiver socket error'))
  const address = server.address() as net.AddressInfo
  options.logger?.info(
    { host: address.address, port: address.port, aeTitle: options.aeTitle },
    'DICOM receiver listening',
  )

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      shutdown.abort()
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const connection of connections) connection.shutdown()
      await Promise.all([stopped, ...finished])
      options.logger?.info('DICOM receiver stopped')
    })()
    return closing
  }
  params.signal?.addEventListener('abort', () => void close(), { once: true })

  return {
    host: address.address,
    port: address.port,
    get activeAssociations() {
      return state.activeAssociations
    },
    close,
  }
}

type ResolvedOptions = {
  aeTitle: string
  allowedCallingAeTitles: ReadonlySet<string>
  maxPduLength: number
  maxAssociations: number
  maxInstanceBytes: number
  spoolDir: string
  durableSpool: boolean
  onInstance: StartDimseReceiverParameters['onInstance']
  onAssociationEnd: StartDimseReceiverParameters['onAssociationEnd']
  logger: Logger | undefined
  artimTimeoutMs: number
  idleTimeoutMs: number
  storageTransferSyntaxes: ReadonlySet<string>
  acceptSopClass: (sopClassUid: string) => boolean
}

function resolveOptions(params: StartDimseReceiverParameters): ResolvedOptions {
  const aeTitle = params.aeTitle.trim()
  if (!AE_TITLE.test(params.aeTitle) || aeTitle === '') {
    throw new DimseReceiverError('Invalid AE title', 'an AE title is 1-16 printable characters, no backslash')
  }
  const allowed = (params.allowedCallingAeTitles ?? []).map((t) => t.trim()).filter((t) => t !== '')
  const maxPduLength = params.maxPduLength ?? 256 * 1024
  if (!Number.isInteger(maxPduLength) || maxPduLength < 4096 || maxPduLength > 16 * 1024 * 1024) {
    throw new DimseReceiverError('Invalid maximum PDU length', 'between 4096 and 16 MiB')
  }
  const maxAssociations = params.maxAssociations ?? 8
  if (!Number.isInteger(maxAssociations) || maxAssociations < 1) {
    throw new DimseReceiverError('Invalid maximum number of associations')
  }
  if (!Number.isSafeInteger(params.maxInstanceBytes) || params.maxInstanceBytes < 1) {
    throw new DimseReceiverError('Invalid maximum instance size')
  }
  return {
    aeTitle,
    allowedCallingAeTitles: new Set(allowed),
    maxPduLength,
    maxAssociations,
    maxInstanceBytes: params.maxInstanceBytes,
    spoolDir: params.spoolDir,
    durableSpool: params.durableSpool ?? true,
    onInstance: params.onInstance,
    onAssociationEnd: params.onAssociationEnd,
    logger: params.logger,
    artimTimeoutMs: params.artimTimeoutMs ?? 30_000,
    idleTimeoutMs: params.idleTimeoutMs ?? 60_000,
    storageTransferSyntaxes: new Set(params.transferSyntaxUids ?? DEFAULT_STORAGE_TRANSFER_SYNTAXES),
    acceptSopClass: params.acceptSopClass ?? isStorageSopClass,
  }
}

/**
 * What the library does not check in an A-ASSOCIATE-RQ: protocol version 1 and the DICOM application
 * context. Returns the A-ASSOCIATE-RJ result, source and reason, or undefined if acceptable.
 */
function checkAssociateRq(bytes: Buffer): [number, number, number] | undefined {
  if (bytes.length < 6 + 68 + 4)
    throw new PduProtocolError('Truncated A-ASSOCIATE-RQ', Abort.reasonInvalidPduParameter)
  if ((bytes.readUInt16BE(6) & 0x0001) === 0) {
    return [
      AssociateReject.permanent,
      AssociateReject.sourceServiceProviderAcse,
      AssociateReject.protocolVersionNotSupported,
    ]
  }
  const itemType = bytes[74]
  const length = bytes.readUInt16BE(76)
  const name = bytes.toString('latin1', 78, 78 + length).replace(/[\0 ]+$/, '')
  if (itemType !== 0x10 || name !== APPLICATION_CONTEXT) {
    return [
      AssociateReject.permanent,
      AssociateReject.sourceServiceUser,
      AssociateReject.applicationContextNotSupported,
    ]
  }
  return undefined
}

type AcceptedContext = { abstractSyntaxUid: string; transferSyntaxUid: string }

type MessageInProgress = {
  presentationContextId: number
  phase: 'command' | 'data'
  command: Buffer[]
  commandBytes: number
  dataBytes: number
  dataLimit: number
}

type StoreJob = {
  sopClassUid: string
  sopInstanceUid: string
  transferSyntaxUid: string
  /** Set when the request is refused before any byte is spooled. */
  refusal: number | undefined
  spool: SpoolFile | undefined
}

/** The minimal socket dcmjs-dimse drives: it writes through us and reads only the PDUs we pass on. */
class SocketStandIn extends EventEmitter {
  readonly #connection: Connection
  constructor(connection: Connection) {
    super()
    this.#connection = connection
  }
  get remoteAddress(): string | undefined {
    return this.#connection.remoteAddress
  }
  setTimeout(): this {
    return this
  }
  write(data: Buffer): boolean {
    this.#connection.send(data)
    return true
  }
  end(): void {
    this.#connection.endGracefully()
  }
  destroy(): void {
    this.#connection.destroy()
  }
}

class ReceiverScp extends Scp {
  readonly #connection: Connection
  constructor(standIn: SocketStandIn, connection: Connection) {
    // The library's own timers are disabled (they are kept here, see above).
    const never = 2 ** 31 - 1
    super(standIn as unknown as net.Socket, {
      connectTimeout: never,
      associationTimeout: never,
      pduTimeout: never,
    })
    this.#connection = connection
  }
  override associationRequested(association: Association): void {
    this.#connection.decide(association)
  }
  override associationReleaseRequested(): void {
    this.#connection.release()
  }
  override cEchoRequest(request: CEchoRequest, callback: (response: CEchoResponseT) => void): void {
    const response = CEchoResponse.fromRequest(request)
    response.setStatus(Status.Success)
    callback(response)
  }
  override createStoreWritableStream(context: PresentationContext, request: CStoreRequest): Writable {
    return this.#connection.beginStore(context, request) as unknown as Writable
  }
  override createDatasetFromStoreWritableStream(
    _writable: Writable,
    context: PresentationContext,
    callback: (dataset: InstanceType<typeof Dataset>) => void,
  ): void {
    // The bytes went to the spool file; the library only needs a placeholder to dispatch the request.
    callback(new Dataset({}, context.getAcceptedTransferSyntaxUid()))
  }
  override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponseT) => void): void {
    this.#connection.completeStore(request, callback)
  }
  override abort(): void {
    // A-ABORT from the peer is handled before the library sees it.
  }
}

type StoreSink = { write(chunk: Buffer): boolean; end(): void; once(): StoreSink; on(): StoreSink }

class Connection {
  readonly id = randomUUID()
  readonly finished: Promise<void>
  readonly remoteAddress: string | undefined
  // releasing: A-RELEASE-RQ received, answer pending; ending: RJ or RP sent, waiting for the peer to close;
  // closing: A-ABORT sent or transport dropped.
  #state: 'awaiting-rq' | 'deciding' | 'established' | 'releasing' | 'ending' | 'closing' | 'closed' =
    'awaiting-rq'
  #outcome: DimseAssociationEnd['outcome'] = 'peer-aborted'
  readonly #socket: net.Socket
  readonly #options: ResolvedOptions
  readonly #counts: { activeAssociations: number }
  readonly #shutdown: AbortSignal
  readonly #standIn: SocketStandIn
  readonly #scp: ReceiverScp
  readonly #reader: PduReader
  readonly #accepted = new Map<number, AcceptedContext>()
  readonly #jobs = new WeakMap<CStoreRequest, StoreJob>()
  readonly #openSpools = new Set<SpoolFile>()
  readonly #pending = new Set<Promise<void>>()
  readonly #instances: DimseInstance[] = []
  #failures = 0
  #message: MessageInProgress | undefined
  #timer: NodeJS.Timeout | undefined
  #congested = 0
  #seq = 0
  #isAssociation = false
  #callingAeTitle = ''
  #calledAeTitle = ''
  #startedAt = Date.now()
  #resolveFinished!: () => void

  constructor(
    socket: net.Socket,
    options: ResolvedOptions,
    counts: { activeAssociations: number },
    shutdown: AbortSignal,
  ) {
    this.#socket = socket
    this.#options = options
    this.#counts = counts
    this.#shutdown = shutdown
    this.remoteAddress = socket.remoteAddress
    this.finished = new Promise((resolve) => {
      this.#resolveFinished = resolve
    })
    this.#reader = new PduReader({
      maxAssociateRqBytes: MAX_ASSOCIATE_RQ_BYTES,
      maxPduLength: options.maxPduLength,
    })
    this.#standIn = new SocketStandIn(this)
    this.#scp = new ReceiverScp(this.#standIn, this)
    this.#scp.on('networkError', (error: Error) => {
      this.#options.logger?.warn({ associationId: this.id, err: error }, 'DICOM association error')
      this.#abort(Abort.sourceServiceProvider, Abort.reasonNotSpecified)
    })
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', () => {}) // 'close' follows
    socket.on('close', () => void this.#onClose())
    this.#arm(options.artimTimeoutMs)
  }

  send(data: Buffer): void {
    if (this.#state === 'closed' || this.#socket.destroyed || !this.#socket.writable) return
    this.#socket.write(data)
  }

  endGracefully(): void {
    this.#closeAfterFlush()
  }

  destroy(): void {
    this.#socket.destroy()
  }

  /** Receiver shutting down: abort whatever is open. */
  shutdown(): void {
    if (this.#state === 'closed') return
    this.#abort(Abort.sourceServiceUser, Abort.reasonNotSpecified, 'shutdown')
    // Not a full ARTIM: a moment for the A-ABORT to leave, then the transport goes.
    this.#arm(SHUTDOWN_GRACE_MS)
  }

  // ---- association negotiation (called by the library once it decoded our A-ASSOCIATE-RQ) ----

  decide(association: Association): void {
    if (this.#state !== 'deciding') return
    try {
      this.#decide(association)
    } catch (error) {
      // The library swallows exceptions thrown by its event handlers: handle them here.
      this.#options.logger?.error(
        { associationId: this.id, err: error },
        'DICOM association negotiation failed',
      )
      this.#abort(Abort.sourceServiceProvider, Abort.reasonNotSpecified)
    }
  }

  #decide(association: Association): void {
    this.#callingAeTitle = association.getCallingAeTitle()
    this.#calledAeTitle = association.getCalledAeTitle()
    const log = this.#options.logger
    const context = {
      associationId: this.id,
      callingAeTitle: this.#callingAeTitle,
      calledAeTitle: this.#calledAeTitle,
    }
    if (this.#calledAeTitle !== this.#options.aeTitle) {
      log?.warn(context, 'DICOM association rejected: called AE title not ours')
      this.#reject(
        AssociateReject.permanent,
        AssociateReject.sourceServiceUser,
        AssociateReject.calledAeNotRecognized,
      )
      return
    }
    const allowed = this.#options.allowedCallingAeTitles
    if (allowed.size > 0 && !allowed.has(this.#callingAeTitle)) {
      log?.warn(context, 'DICOM association rejected: calling AE title not allowed')
      this.#reject(
        AssociateReject.permanent,
        AssociateReject.sourceServiceUser,
        AssociateReject.callingAeNotRecognized,
      )
      return
    }
    if (this.#counts.activeAssociations >= this.#options.maxAssociations) {
      log?.warn(context, 'DICOM association rejected: too many associations')
      this.#reject(
        AssociateReject.transient,
        AssociateReject.sourceServiceProviderPresentation,
        AssociateReject.localLimitExceeded,
      )
      return
    }
    for (const { id, context: pc } of association.getPresentationContexts()) {
      const abstractSyntaxUid = pc.getAbstractSyntaxUid()
      const verification = abstractSyntaxUid === VERIFICATION_SOP_CLASS
      if (!verification && !this.#options.acceptSopClass(abstractSyntaxUid)) {
        pc.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported)
        continue
      }
      const supported = verification ? VERIFICATION_SYNTAXES : this.#options.storageTransferSyntaxes
      const transferSyntaxUid = pc.getTransferSyntaxUids().find((ts) => supported.has(ts))
      if (transferSyntaxUid === undefined) {
        pc.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported)
        continue
      }
      pc.setResult(PresentationContextResult.Accept, transferSyntaxUid)
      // Role selection, if proposed, is answered with: the peer may be SCU, not SCP.
      if (pc.getUserRole() !== undefined || pc.getProviderRole() !== undefined) pc.setProviderRole(false)
      this.#accepted.set(id, { abstractSyntaxUid, transferSyntaxUid })
    }
    if (this.#accepted.size === 0) {
      log?.warn(context, 'DICOM association rejected: no acceptable presentation context')
      this.#reject(
        AssociateReject.permanent,
        AssociateReject.sourceServiceUser,
        AssociateReject.noReasonGiven,
      )
      return
    }
    // Operations are processed one at a time; no user identity is asserted back.
    association.setNegotiateAsyncOps(false)
    association.setMaxAsyncOpsInvoked(1)
    association.setMaxAsyncOpsPerformed(1)
    association.setNegotiateUserIdentityServerResponse(false)
    // The AC announces our maximum; the library would announce min(peer's, its own) instead.
    association.setMaxPduLength(this.#options.maxPduLength)
    const previousMax = Implementation.getMaxPduLength()
    Implementation.setMaxPduLength(this.#options.maxPduLength)
    try {
      this.#scp.sendAssociationAccept()
    } finally {
      Implementation.setMaxPduLength(previousMax)
    }
    this.#state = 'established'
    this.#isAssociation = true
    this.#counts.activeAssociations++
    this.#startedAt = Date.now()
    log?.info({ ...context, contexts: this.#accepted.size }, 'DICOM association accepted')
    this.#arm(this.#options.idleTimeoutMs)
  }

  #reject(result: number, source: number, reason: number): void {
    this.#scp.sendAssociationReject(result, source, reason)
    this.#state = 'ending'
    this.#closeAfterFlush()
  }

  release(): void {
    if (this.#state !== 'releasing') return
    void (async () => {
      await Promise.allSettled([...this.#pending])
      if (this.#state !== 'releasing') return
      this.#outcome = 'released'
      this.#scp.sendAssociationReleaseResponse()
      this.#state = 'ending'
      this.#closeAfterFlush()
    })()
  }

  // ---- C-STORE ----

  beginStore(context: PresentationContext, request: CStoreRequest): StoreSink {
    const accepted = this.#accepted.get(context.getPresentationContextId())
    const sopClassUid = request.getAffectedSopClassUid()
    const sopInstanceUid = request.getAffectedSopInstanceUid()
    let refusal: number | undefined
    if (accepted === undefined || accepted.abstractSyntaxUid === VERIFICATION_SOP_CLASS) {
      refusal = StoreStatus.SopClassNotSupported
    } else if (!isValidUid(sopClassUid) || !isValidUid(sopInstanceUid)) {
      refusal = StoreStatus.CannotUnderstand
    } else if (sopClassUid !== accepted.abstractSyntaxUid) {
      refusal = StoreStatus.SopClassNotSupported
    }
    const job: StoreJob = {
      sopClassUid,
      sopInstanceUid,
      transferSyntaxUid: accepted?.transferSyntaxUid ?? '',
      refusal,
      spool: undefined,
    }
    if (refusal === undefined) {
      const spool = new SpoolFile({
        directory: this.#options.spoolDir,
        name: `${this.id}-${++this.#seq}`,
        header: fileMetaHeader({
          sopClassUid,
          sopInstanceUid,
          transferSyntaxUid: job.transferSyntaxUid,
          sourceAeTitle: this.#callingAeTitle,
        }),
        maxDataSetBytes: this.#options.maxInstanceBytes,
        durable: this.#options.durableSpool,
        onPressure: (congested) => this.#onPressure(congested),
      })
      job.spool = spool
      this.#openSpools.add(spool)
    }
    this.#jobs.set(request, job)
    const sink: StoreSink = {
      write: (chunk) => {
        job.spool?.write(chunk)
        return true
      },
      end: () => {
        if (job.spool) {
          this.#openSpools.delete(job.spool)
          job.spool.end()
        }
      },
      once: () => sink,
      on: () => sink,
    }
    return sink
  }

  completeStore(request: CStoreRequest, callback: (response: CStoreResponseT) => void): void {
    const job = this.#jobs.get(request)
    this.#jobs.delete(request)
    this.#track(async () => {
      const status = job ? await this.#store(job) : StoreStatus.CannotUnderstand
      if (status !== StoreStatus.Success) this.#failures++
      const response = CStoreResponse.fromRequest(request)
      response.setStatus(status)
      callback(response)
    })
  }

  async #store(job: StoreJob): Promise<number> {
    const log = this.#options.logger
    if (job.refusal !== undefined || job.spool === undefined) {
      log?.warn({ associationId: this.id, sopClassUid: job.sopClassUid }, 'C-STORE refused')
      return job.refusal ?? StoreStatus.CannotUnderstand
    }
    const result = await job.spool.result()
    if (!result.ok) {
      log?.warn(
        { associationId: this.id, reason: result.reason, err: result.error, bytes: job.spool.dataSetBytes },
        'C-STORE refused',
      )
      if (result.reason === 'empty') return StoreStatus.CannotUnderstand
      if (result.reason === 'aborted') return StoreStatus.ProcessingFailure
      return StoreStatus.OutOfResources
    }
    const instance: DimseInstance = {
      path: result.path,
      sopClassUid: job.sopClassUid,
      sopInstanceUid: job.sopInstanceUid,
      transferSyntaxUid: job.transferSyntaxUid,
      callingAeTitle: this.#callingAeTitle,
      associationId: this.id,
      size: result.size,
    }
    try {
      await this.#options.onInstance(instance, { signal: this.#shutdown })
    } catch (error) {
      await unlink(result.path).catch(() => {})
      log?.warn({ associationId: this.id, err: error }, 'C-STORE refused by the instance handler')
      return error instanceof DimseStoreError ? error.status : StoreStatus.ProcessingFailure
    }
    this.#instances.push(instance)
    return StoreStatus.Success
  }

  #track(work: () => Promise<void>): void {
    this.#disarm()
    const run = work()
      .catch((error) =>
        this.#options.logger?.error({ associationId: this.id, err: error }, 'DIMSE handler failed'),
      )
      .finally(() => {
        this.#pending.delete(run)
        if (this.#pending.size === 0 && this.#state === 'established') this.#arm(this.#options.idleTimeoutMs)
      })
    this.#pending.add(run)
  }

  // ---- wire ----

  #onData(chunk: Buffer): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    try {
      for (const pdu of this.#reader.push(chunk)) {
        this.#onPdu(pdu)
        if (this.#isOver()) return
      }
    } catch (error) {
      const protocol = error instanceof PduProtocolError
      this.#options.logger?.warn(
        { associationId: this.id, problem: protocol ? error.message : String(error) },
        'DICOM protocol violation',
      )
      this.#abort(Abort.sourceServiceProvider, protocol ? error.reason : Abort.reasonNotSpecified)
      return
    }
    if (this.#state === 'established' && this.#pending.size === 0) this.#arm(this.#options.idleTimeoutMs)
  }

  #isOver(): boolean {
    return this.#state === 'closing' || this.#state === 'closed'
  }

  #onPdu(pdu: Pdu): void {
    switch (this.#state) {
      case 'awaiting-rq':
        if (pdu.type !== PduType.associateRq) {
          throw new PduProtocolError('Expected A-ASSOCIATE-RQ', Abort.reasonUnexpectedPdu)
        }
        {
          const refusal = checkAssociateRq(pdu.bytes)
          if (refusal !== undefined) {
            this.#options.logger?.warn(
              { associationId: this.id },
              'DICOM association rejected: not DICOM 3.0',
            )
            this.send(Buffer.from([PduType.associateRj, 0, 0, 0, 0, 4, 0, ...refusal]))
            this.#state = 'ending'
            this.#closeAfterFlush()
            return
          }
        }
        // ARTIM keeps running until the library hands us the decoded request.
        this.#state = 'deciding'
        this.#forward(pdu)
        return
      case 'established':
        if (pdu.type === PduType.pData) {
          this.#checkPData(pdu.bytes)
          this.#forward(pdu)
        } else if (pdu.type === PduType.releaseRq) {
          if (this.#message !== undefined) {
            throw new PduProtocolError('A-RELEASE-RQ in the middle of a message', Abort.reasonUnexpectedPdu)
          }
          this.#state = 'releasing'
          this.#forward(pdu)
        } else if (pdu.type === PduType.abort) {
          this.#outcome = 'peer-aborted'
          this.#state = 'closing'
          this.#socket.destroy()
        } else {
          throw new PduProtocolError(`Unexpected PDU type ${pdu.type}`, Abort.reasonUnexpectedPdu)
        }
        return
      case 'releasing':
      case 'ending':
        // Nothing is expected until the peer closes; an A-ABORT ends it at once.
        if (pdu.type === PduType.abort) this.#socket.destroy()
        return
      default:
        throw new PduProtocolError(`Unexpected PDU type ${pdu.type}`, Abort.reasonUnexpectedPdu)
    }
  }

  #checkPData(bytes: Buffer): void {
    for (const pdv of readPdvs(bytes)) {
      if (!this.#accepted.has(pdv.presentationContextId)) {
        throw new PduProtocolError(
          `PDV on presentation context ${pdv.presentationContextId}, which was not accepted`,
          Abort.reasonInvalidPduParameter,
        )
      }
      let message = this.#message
      if (message === undefined) {
        if (!pdv.isCommand)
          throw new PduProtocolError('Data set fragment without a command', Abort.reasonUnexpectedPdu)
        message = {
          presentationContextId: pdv.presentationContextId,
          phase: 'command',
          command: [],
          commandBytes: 0,
          dataBytes: 0,
          dataLimit: 0,
        }
        this.#message = message
      }
      if (pdv.presentationContextId !== message.presentationContextId) {
        throw new PduProtocolError(
          'Message fragments on different presentation contexts',
          Abort.reasonInvalidPduParameter,
        )
      }
      if (message.phase === 'command') {
        if (!pdv.isCommand)
          throw new PduProtocolError('Data set fragment inside a command', Abort.reasonUnexpectedPdu)
        message.commandBytes += pdv.value.length
        if (message.commandBytes > MAX_COMMAND_BYTES) {
          throw new PduProtocolError('Command set too long', Abort.reasonInvalidPduParameter)
        }
        message.command.push(pdv.value)
        if (!pdv.isLast) continue
        const { commandField, dataSetType } = readCommandSummary(Buffer.concat(message.command))
        if (dataSetType === NO_DATA_SET) {
          this.#message = undefined
          continue
        }
        message.phase = 'data'
        message.command = []
        message.dataLimit =
          commandField === CommandField.cStoreRq
            ? this.#options.maxInstanceBytes + MAX_DISCARD_BYTES
            : MAX_OTHER_DATA_SET_BYTES
      } else {
        if (pdv.isCommand)
          throw new PduProtocolError('Command fragment inside a data set', Abort.reasonUnexpectedPdu)
        message.dataBytes += pdv.value.length
        if (message.dataBytes > message.dataLimit) {
          throw new PduProtocolError('Data set too long', Abort.reasonNotSpecified)
        }
        if (pdv.isLast) this.#message = undefined
      }
    }
  }

  #forward(pdu: Pdu): void {
    this.#standIn.emit('data', pdu.bytes)
  }

  #onPressure(congested: boolean): void {
    this.#congested += congested ? 1 : -1
    if (this.#congested > 0) this.#socket.pause()
    else this.#socket.resume()
  }

  // ---- timers and teardown ----

  #arm(ms: number): void {
    this.#disarm()
    this.#timer = setTimeout(() => this.#onTimer(), ms)
    this.#timer.unref()
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #onTimer(): void {
    if (this.#state === 'established' && (this.#pending.size > 0 || this.#congested > 0)) {
      // Our side is busy (a handler runs, or the disk is behind): not the peer's idleness.
      this.#arm(this.#options.idleTimeoutMs)
    } else if (this.#state === 'established') {
      this.#options.logger?.warn({ associationId: this.id }, 'DICOM association idle too long; aborting')
      this.#abort(Abort.sourceServiceProvider, Abort.reasonNotSpecified)
    } else {
      // ARTIM expired: no A-ASSOCIATE-RQ in time, or the peer did not close after reject/release.
      this.#socket.destroy()
    }
  }

  #abort(source: number, reason: number, outcome: DimseAssociationEnd['outcome'] = 'aborted'): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    this.#outcome = outcome
    const wasOpen = this.#state !== 'awaiting-rq'
    this.#state = 'closing'
    this.#socket.resume()
    if (wasOpen && this.#socket.writable) this.#socket.write(abortPdu(source, reason))
    this.#closeAfterFlush()
  }

  #closeAfterFlush(): void {
    if (this.#socket.writable) this.#socket.end()
    // The peer has ARTIM to close its side; then the transport is dropped.
    this.#arm(this.#options.artimTimeoutMs)
  }

  async #onClose(): Promise<void> {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#disarm()
    for (const spool of this.#openSpools) spool.abort()
    this.#openSpools.clear()
    this.#standIn.emit('close')
    await Promise.allSettled([...this.#pending])
    if (this.#isAssociation) {
      this.#counts.activeAssociations--
      const end: DimseAssociationEnd = {
        associationId: this.id,
        callingAeTitle: this.#callingAeTitle,
        calledAeTitle: this.#calledAeTitle,
        remoteAddress: this.remoteAddress,
        outcome: this.#outcome,
        instances: this.#instances,
        failures: this.#failures,
        startedAt: this.#startedAt,
        endedAt: Date.now(),
      }
      this.#options.logger?.info(
        {
          associationId: this.id,
          callingAeTitle: this.#callingAeTitle,
          outcome: end.outcome,
          instances: end.instances.length,
          failures: end.failures,
        },
        'DICOM association ended',
      )
      try {
        await this.#options.onAssociationEnd?.(end)
      } catch (error) {
        this.#options.logger?.error(
          { associationId: this.id, err: error },
          'DICOM association end handler failed',
        )
      }
    }
    this.#resolveFinished()
  }
}
