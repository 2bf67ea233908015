/**
 * The node's REST API, one entry per route: the OpenAPI document is generated from this registry
 * (openapi-document.ts) and `validateAgainstSpec` (validate.ts) checks requests and answers against it.
 *
 * Adding or changing a route:
 * 1. Write the Hono handler as usual (routes/*.ts); keep reading and checking JSON bodies there.
 * 2. Add an entry below, in the group of its tag: `method` (lowercase), `path` in OpenAPI form
 *    (`/api/v1/records/{id}` for Hono's `/api/v1/records/:id`), a unique camelCase `operationId`,
 *    `security: 'session'` when the handler authenticates, zod schemas for `params` and `query`
 *    (validated before the handler: a mismatch is a 400 INVALID_PARAMS / INVALID_QUERY), the request
 *    `body`, every success status in `responses` with the zod schema of exactly what the handler
 *    returns (strict objects, nullability and number-vs-string as sent), and in `problems` the error
 *    statuses it answers with problem+json (429 is added to every route). Reuse the named schemas of
 *    schemas.ts; name a new one with `component()` when a second route returns it; `doc()` describes a
 *    field; `withProblemCode()` keeps a parameter's own 400 code (INVALID_CID).
 * 3. Call it in the real session of packages/node/test/openapi.test.ts, then run
 *    `npx vitest run packages/node/src/http/openapi packages/node/test/openapi.test.ts`: the document
 *    must stay valid OpenAPI 3.1, list exactly the app's routes, and describe real answers.
 */
import { AUDIT_ACTIONS, AUDIT_OUTCOMES } from '@pcmims/core'
import { z } from 'zod'
import {
  Access,
  Address,
  AddressInput,
  Bytes32,
  Cid,
  Count,
  component,
  DecimalString,
  doc,
  IsoTime,
  KindName,
  Participant,
  PurposeName,
  RecordId,
  RecordIdInput,
  RequestStatusName,
  RoleName,
  ScopeName,
  Session,
  StatusName,
  StoredBlob,
  TxHash,
  UnixSeconds,
  UploadStatus,
  withProblemCode,
} from './schemas.js'

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch'

export type ApiTag =
  | 'meta'
  | 'auth'
  | 'participants'
  | 'blobs'
  | 'records'
  | 'custody'
  | 'consent'
  | 'chain'
  | 'uploads'
  | 'audit'
  | 'dicomweb'
  | 'unit'

/** A header of a response (documented, not checked). */
export type ApiHeader = { description: string; schema: z.ZodType; required?: boolean }

export type ApiResponse = {
  description: string
  /** An `application/json` body: described in the document and checked by `validateAgainstSpec`. */
  json?: z.ZodType
  // Any other body (a stream, DAG-CBOR, ciphertext): its media type, or a range like image/* when it varies.
  content?: string
  headers?: Record<string, ApiHeader>
}

export type ApiRequestBody =
  /** A JSON body, read bounded and checked by the handler itself (the middleware never reads bodies). */
  | { json: z.ZodType; description?: string }
  /** A raw body (streamed or bytes), of this media type. */
  | { contentType: string; description: string }

export type ApiRoute = {
  method: HttpMethod
  path: `/api/v1/${string}`
  operationId: string
  tag: ApiTag
  summary: string
  description?: string
  /** `session`: a SIWE session, as a bearer token or the `pcmims_session` cookie. */
  security: 'none' | 'session'
  /** Path parameters, one key per `{name}` of the path. */
  params?: z.ZodObject
  /** Query parameters; keys not listed are ignored, a repeated key is refused. */
  query?: z.ZodObject
  /** Request headers the route needs (documented only: the handler checks them). */
  headers?: z.ZodObject
  body?: ApiRequestBody
  /** Answers other than problems, by status. */
  responses: Record<number, ApiResponse>
  /** Error statuses answered with a problem+json body (500 always may be, and is not listed). */
  problems: number[]
}

export type ApiSpec = {
  title: string
  description: string
  /** Problems any route may answer (middleware in front of all of them: the rate limits' 429). */
  commonProblems: number[]
  tags: Array<{ name: ApiTag; description: string }>
  routes: ApiRoute[]
}

// ------------------------------------------------------------------------------------------------------
// Parameters
// ------------------------------------------------------------------------------------------------------

const recordIdParams = z.object({ id: RecordIdInput })
const cidParam = withProblemCode(
  doc(
    z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9]+$/),
    'A CID (the node parses it; a bad one is INVALID_CID).',
  ),
  'INVALID_CID',
)
/** Not refused here: to the tus routes, any id but their own 32 hex digits is an upload that does not exist (404). */
const uploadIdParams = z.object({
  id: doc(z.string().min(1), 'An upload id (the last segment of `Location`).'),
})
const waitQuery = z.object({
  wait: doc(
    z.enum(['anchored']).optional(),
    'Wait (up to two minutes) for the record to be anchored before answering.',
  ),
})

const dicomUid = doc(
  z
    .string()
    .max(128)
    .regex(/^[0-9.]+$/),
  'A DICOM UID.',
)
const studyParams = z.object({ study: dicomUid })
const seriesParams = z.object({ study: dicomUid, series: dicomUid })
const instanceParams = z.object({ study: dicomUid, series: dicomUid, instance: dicomUid })
const optionalText = z.string().max(1024).optional()
const qidoLimit = doc(
  z
    .string()
    .regex(/^\d{1,6}$/)
    .optional(),
  'At most this many results (capped at 1000).',
)
const qidoOffset = doc(
  z
    .string()
    .regex(/^\d{1,9}$/)
    .optional(),
  'Skip this many results.',
)
const qidoSeriesKeys = { Modality: optionalText, SeriesInstanceUID: optionalText, SeriesNumber: optionalText }
const qidoInstanceKeys = { SOPInstanceUID: optionalText, InstanceNumber: optionalText }
const qidoStudyQuery = z.object({
  PatientName: optionalText,
  PatientID: optionalText,
  StudyDate: doc(
    z
      .string()
      .regex(/^(\d{8}|\d{8}-|-\d{8}|\d{8}-\d{8})$/)
      .optional(),
    'YYYYMMDD, or a range a-b, -b, a-.',
  ),
  ModalitiesInStudy: optionalText,
  AccessionNumber: optionalText,
  StudyInstanceUID: optionalText,
  includefield: doc(optionalText, '`all`, or keywords / tags, comma-separated.'),
  fuzzymatching: z.enum(['true', 'false']).optional(),
  limit: qidoLimit,
  offset: qidoOffset,
})
const renderedQuery = z.object({
  window: doc(
    z
      .string()
      .regex(/^-?\d+(\.\d+)?,\d+(\.\d+)?(,[A-Za-z_]+)?$/)
      .optional(),
    'VOI window: center,width.',
  ),
  viewport: doc(
    z
      .string()
      .regex(/^\d{1,4}(,\d{1,4})?$/)
      .optional(),
    'Fit inside width,height (thumbnail: the largest side, default 128).',
  ),
})
const dicomMetadataAnswer: ApiResponse = {
  description: 'DICOM JSON, one dataset per instance; pixel data as a BulkDataURI to its frames.',
  content: 'application/dicom+json',
}
const renderedAnswer: ApiResponse = {
  description: 'image/png, or image/jpeg when the Accept header prefers it.',
  content: 'image/*',
}

const TUS_RESUMABLE = doc(
  z.literal('1.0.0'),
  'The tus protocol version; every request but OPTIONS carries it.',
)
const tusVersionHeader: ApiHeader = { description: 'The tus version spoken.', schema: z.literal('1.0.0') }
const uploadOffsetHeader: ApiHeader = {
  description: 'Bytes of the upload the node holds, fsynced.',
  schema: z.string().regex(/^\d+$/),
}
const uploadExpiresHeader: ApiHeader = {
  description: 'When an unfinished upload is dropped (RFC 9110 date). Absent once it is complete.',
  schema: z.string(),
  required: false,
}
const blobCidHeader: ApiHeader = {
  description: 'The CID of the blob a complete upload became (as `cid` from `POST /api/v1/blobs`).',
  schema: z.string(),
  required: false,
}
const blobSizeHeader: ApiHeader = {
  description: 'The size of that blob.',
  schema: z.string().regex(/^\d+$/),
  required: false,
}
const uploadStatusHeaders: Record<string, ApiHeader> = {
  'Upload-Length': { description: 'The upload’s size.', schema: z.string().regex(/^\d+$/) },
  'Upload-Offset': uploadOffsetHeader,
  'Upload-Expires': uploadExpiresHeader,
  'PCMIMS-Blob-CID': blobCidHeader,
  'PCMIMS-Blob-Size': blobSizeHeader,
  'Tus-Resumable': tusVersionHeader,
}
const tusDiscoveryHeaders: Record<string, ApiHeader> = {
  'Tus-Version': tusVersionHeader,
  'Tus-Extension': { description: 'The tus extensions served.', schema: z.string() },
  'Tus-Max-Size': { description: 'The largest upload, in bytes.', schema: z.string().regex(/^\d+$/) },
}

// ------------------------------------------------------------------------------------------------------
// Bodies
// ------------------------------------------------------------------------------------------------------

const RecordSubmission = z.object({
  envelope: doc(z.string().max(2 * 1024 * 1024), 'The record envelope: canonical DAG-CBOR, base64.'),
  blobs: doc(
    z.array(z.string().max(128)).min(1).max(100_000),
    'CIDs of every blob of the record (the encrypted manifest and each encrypted file), uploaded by the caller.',
  ),
})

const DeidentifiedCopySubmission = RecordSubmission.extend({
  audience: doc(
    AddressInput,
    'The requestor the copy is for: an approved participant with a live grant from the patient.',
  ),
})

const RpcId = z.union([z.number().int(), z.string().max(64), z.null()])
const RpcRequest = z.strictObject({
  jsonrpc: z.literal('2.0'),
  id: RpcId,
  method: z.string().max(64),
  params: z.array(z.unknown()).max(8).optional(),
})
const RpcResponse = z.union([
  z.strictObject({ jsonrpc: z.literal('2.0'), id: RpcId, result: z.unknown() }),
  z.strictObject({
    jsonrpc: z.literal('2.0'),
    id: RpcId,
    error: z.strictObject({ code: z.number().int(), message: z.string(), data: z.unknown().optional() }),
  }),
])

// ------------------------------------------------------------------------------------------------------
// Answers
// ------------------------------------------------------------------------------------------------------

const Health = z.strictObject({
  status: doc(z.enum(['ok', 'degraded']), 'degraded: the chain, the content store or the database is down.'),
  chain: z.strictObject({
    ok: doc(z.boolean(), 'Same as `reachable`.'),
    reachable: z.boolean(),
    chainId: z.number().int().positive(),
    blockNumber: doc(Count.nullable(), 'The latest block (null when unreachable).'),
    latencyMs: Count,
  }),
  ipfs: z.strictObject({
    mode: z.enum(['embedded', 'kubo']),
    ok: z.boolean(),
    latencyMs: Count.optional(),
    version: doc(z.string().optional(), 'The remote implementation’s version (Kubo).'),
    error: doc(z.enum(['stopped', 'unreachable', 'error']).optional(), 'Why `ok` is false.'),
  }),
  outbox: doc(
    z
      .strictObject({
        queued: Count,
        submitted: Count,
        confirmed: Count,
        failed: Count,
        oldestQueuedAgeS: doc(Count.nullable(), 'Age of the oldest entry still waiting to be sent.'),
      })
      .nullable(),
    'Submitted records by anchoring state (null when the database cannot be read).',
  ),
  indexer: z.strictObject({
    lastBlock: doc(Count.nullable(), 'The last block the index has applied.'),
    lagBlocks: Count.nullable(),
  }),
  audit: doc(
    z
      .strictObject({
        size: Count,
        pending: doc(Count, 'Entries not yet covered by an anchor on chain.'),
        anchoredSize: Count,
        anchoredAt: z.string().nullable(),
        anchorIntervalS: Count,
      })
      .nullable(),
    'The audit log and its latest on-chain anchor (null when the database cannot be read).',
  ),
  uptimeS: Count,
  version: z.string().min(1),
})

const RecordSummary = z.strictObject({
  id: RecordId,
  patient: Address,
  uploader: Address,
  kind: KindName,
  unitIndex: Count,
  createdAt: UnixSeconds,
  blockNumber: Count,
  txHash: TxHash,
  deidentifiedFrom: doc(Bytes32.optional(), 'For a de-identified copy: the record it was made from.'),
  audience: doc(Address.optional(), 'For a de-identified copy: the one requestor it was made for.'),
})

const Grant = z.strictObject({
  patient: Address,
  grantee: Address,
  scope: ScopeName,
  kindMask: doc(Count, 'Bit `1 << kind` for each record kind covered (scope Kinds).'),
  expiresAt: UnixSeconds,
  download: z.boolean(),
  deidentifiedOnly: z.boolean(),
  epoch: Count,
  keyBundle: doc(Bytes32.nullable(), 'Digest of the DAG-CBOR key bundle block (zero when none).'),
  records: doc(z.array(RecordId), 'The records of a Records-scoped grant (empty otherwise).'),
})

const Emergency = z.strictObject({
  medic: Address,
  patient: Address,
  unitIndex: Count,
  reasonCode: Count,
  until: UnixSeconds,
  active: doc(z.boolean(), 'Not ended and not yet lapsed, by the chain clock.'),
  ended: z.boolean(),
  blockNumber: Count,
})

const AccessRequest = z.strictObject({
  id: DecimalString,
  requestor: Address,
  patient: Address,
  scope: ScopeName,
  kindMask: Count,
  purpose: PurposeName,
  status: RequestStatusName,
  direction: doc(
    z.enum(['incoming', 'outgoing']),
    'incoming: addressed to the caller as patient; outgoing: made by the caller.',
  ),
})

const DecryptedRecord = z.strictObject({
  id: RecordId,
  kind: KindName,
  patient: z.strictObject({
    address: Address,
    name: z.string().optional(),
    mrn: z.string().optional(),
    birthDate: z.string().optional(),
  }),
  appointment: z.string().nullable(),
  description: z.string().nullable(),
  date: doc(z.string(), 'Date of the examination or report, as the uploader wrote it (ISO 8601).'),
  createdAt: doc(z.string(), 'When the record was built, as the uploader wrote it (ISO 8601).'),
  uploader: Address,
  unit: Address,
  access: z.strictObject({ basis: Access.shape.basis, until: Access.shape.until, download: z.boolean() }),
  files: z.array(
    z.strictObject({
      index: Count,
      path: doc(z.string(), 'Relative path inside the record, `/`-separated.'),
      mediaType: z.string(),
      size: Count,
      sha256: doc(Bytes32, 'SHA-256 of the plaintext.'),
    }),
  ),
})

const LowerAddress = doc(z.string().regex(/^0x[0-9a-f]{40}$/), 'An address, lowercase (as hashed).')

const AuditEntry = component(
  'AuditEntry',
  z.strictObject({
    seq: doc(Count, 'Position in the log: the Merkle leaf index.'),
    time: doc(
      z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      'ISO 8601 UTC, milliseconds.',
    ),
    actor: LowerAddress.nullable(),
    actorRole: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,32}$/)
      .nullable(),
    action: z.enum(AUDIT_ACTIONS),
    recordId: RecordId.nullable(),
    patient: LowerAddress.nullable(),
    source: doc(
      z.union([z.literal('chain'), z.literal('unknown'), z.ipv4(), z.ipv6()]),
      'The client IP, or `chain` for what the node saw on chain.',
    ),
    outcome: z.enum(AUDIT_OUTCOMES),
    detail: doc(
      z
        .string()
        .regex(/^[A-Za-z0-9._:-]{1,64}$/)
        .nullable(),
      'A short code, never PHI.',
    ),
    prevHash: doc(Bytes32, 'The hash of entry `seq - 1` (zero for seq 0).'),
  }),
  'One audit entry: who, what record, what action, when, from where, with what outcome.',
)

const AuditAnchor = component(
  'AuditAnchor',
  z.strictObject({ size: Count, root: Bytes32, txHash: TxHash, anchoredAt: IsoTime }),
  'A Merkle root of the log this node anchored on chain (RFC 9162).',
)

const HashPath = z.array(Bytes32)

/** What a read of one record or blob may be refused with. */
const READ_PROBLEMS = [400, 401, 403, 404, 503]

const heldParams = z.object({ id: doc(z.string().min(1).max(64), 'A held study’s id.') })
const IngestBatch = z.strictObject({
  id: z.string(),
  state: z.enum(['open', 'sealing', 'held', 'sealed', 'discarded']),
  recordId: RecordId.nullable(),
  reason: z.string().nullable(),
})
const HeldStudy = z.strictObject({
  id: z.string(),
  source: doc(z.string(), '`dimse:<calling AE>` or `stow:<uploader>`.'),
  reason: z.string(),
  receivedAt: doc(z.number().int(), 'Unix milliseconds.'),
  instances: Count,
  bytes: Count,
  patientName: optionalText,
  patientId: optionalText,
  patientBirthDate: optionalText,
  studyDate: optionalText,
  studyDescription: optionalText,
  accessionNumber: optionalText,
  modalities: z.array(z.string()),
})

const submissionResponses: Record<number, ApiResponse> = {
  200: { description: 'The same record was submitted before and is anchored.', json: UploadStatus },
  201: { description: 'Anchored while the request waited (`wait=anchored`).', json: UploadStatus },
  202: {
    description: 'Stored and queued for anchoring (the commit is the acknowledgement).',
    json: UploadStatus,
  },
}

// ------------------------------------------------------------------------------------------------------
// The routes
// ------------------------------------------------------------------------------------------------------

export const apiSpec: ApiSpec = {
  title: 'PCMIMS node API',
  description:
    'The REST API of a PCMIMS node: encrypted medical records on IPFS, consent on an EVM chain. ' +
    'Errors are RFC 9457 problems (application/problem+json) with a stable `code`. Sign in with ' +
    'Sign-In with Ethereum (EIP-4361): `POST /api/v1/auth/nonce`, then `POST /api/v1/auth/sign-in`; send ' +
    'the token as `Authorization: Bearer <token>` (browsers get the `pcmims_session` cookie). Requests ' +
    'are rate limited per signed-in account (per IP before sign-in): a 429 says when to retry.',
  commonProblems: [429],
  tags: [
    { name: 'meta', description: 'About the node.' },
    { name: 'auth', description: 'Sign-In with Ethereum sessions.' },
    { name: 'participants', description: 'Accounts registered on the chain.' },
    { name: 'blobs', description: 'Ciphertext and blocks, content-addressed.' },
    { name: 'records', description: 'Record submission, anchoring and listing.' },
    { name: 'custody', description: 'Records decrypted by their custodian node.' },
    { name: 'consent', description: 'Grants, emergencies and access requests (indexed from the chain).' },
    { name: 'chain', description: 'A JSON-RPC relay to the node’s chain.' },
    {
      name: 'dicomweb',
      description:
        'DICOMweb (PS3.18) QIDO-RS and WADO-RS over the DICOM studies this node is custodian of, for callers ' +
        'allowed their decrypted content (the patient, download grantees, medics in an emergency).',
    },
    {
      name: 'uploads',
      description: 'Resumable ciphertext uploads (tus 1.0: core, creation, termination, expiration).',
    },
    {
      name: 'unit',
      description:
        'The health unit’s ingest desk: studies received over C-STORE / STOW-RS held for an unknown patient, ' +
        'and the unit’s Patient ID (MRN) map, private to this node. For the unit’s operator and uploaders.',
    },
  ],
  routes: [
    // meta ------------------------------------------------------------------------------------------------
    {
      method: 'get',
      path: '/api/v1/version',
      operationId: 'getVersion',
      tag: 'meta',
      summary: 'Name and version of the node software',
      security: 'none',
      responses: {
        200: {
          description: 'The version.',
          json: z.strictObject({
            name: z.literal('pcmims-node'),
            version: z.string().min(1),
            api: z.literal('v1'),
          }),
        },
      },
      problems: [],
    },
    {
      method: 'get',
      path: '/api/v1/config',
      operationId: 'getConfig',
      tag: 'meta',
      summary: 'What a client needs to talk to the chain and wrap keys for this node’s unit',
      security: 'none',
      responses: {
        200: {
          description: 'The chain, contract and custodian unit of this node, and its size limits.',
          json: z.strictObject({
            chainId: z.number().int().positive(),
            contract: Address,
            rpcUrl: doc(z.url(), 'A JSON-RPC endpoint of the chain for clients.'),
            unit: doc(Address, 'The custodian unit this node acts for.'),
            limits: z.strictObject({
              maxBlobBytes: z.number().int().positive(),
              maxJsonBytes: z.number().int().positive(),
            }),
          }),
        },
      },
      problems: [],
    },
    {
      method: 'get',
      path: '/api/v1/health',
      operationId: 'getHealth',
      tag: 'meta',
      summary: 'States and counts of the chain, content store, anchoring queue and index',
      description: 'For load balancers and `pcmims status`: never a path, a URL or a key.',
      security: 'none',
      responses: {
        200: { description: 'The chain, the content store and the database work.', json: Health },
        503: { description: 'Degraded: the node cannot do its work.', json: Health },
      },
      problems: [],
    },
    {
      method: 'get',
      path: '/api/v1/openapi.json',
      operationId: 'getOpenApiDocument',
      tag: 'meta',
      summary: 'This document',
      security: 'none',
      responses: {
        200: {
          description: 'The OpenAPI 3.1 document of this API.',
          json: z.looseObject({
            openapi: z.string().regex(/^3\.1\.\d+$/),
            info: z.looseObject({ title: z.string(), version: z.string() }),
            paths: z.record(z.string(), z.unknown()),
          }),
        },
      },
      problems: [],
    },

    // auth ------------------------------------------------------------------------------------------------
    {
      method: 'post',
      path: '/api/v1/auth/nonce',
      operationId: 'createSignInNonce',
      tag: 'auth',
      summary: 'A single-use nonce and the fields of the EIP-4361 message to sign',
      security: 'none',
      responses: {
        200: {
          description: 'Sign a message with these fields, then send it to `POST /api/v1/auth/sign-in`.',
          json: z.strictObject({
            nonce: z.string().regex(/^[A-Za-z0-9]{8,}$/),
            expiresAt: doc(IsoTime, 'The nonce must be used before then.'),
            domain: doc(z.string().min(1), 'The host the message must name.'),
            uri: doc(z.url(), 'The URI the message must name: this node’s origin.'),
            chainId: z.number().int().positive(),
            version: z.literal('1'),
            statement: z.string(),
          }),
        },
      },
      problems: [],
    },
    {
      method: 'post',
      path: '/api/v1/auth/sign-in',
      operationId: 'signIn',
      tag: 'auth',
      summary: 'Open a session with a signed EIP-4361 message',
      security: 'none',
      body: {
        json: z.strictObject({
          message: z.string().min(1).max(4096),
          signature: z
            .string()
            .regex(/^0x[0-9a-fA-F]+$/)
            .max(20_000),
        }),
        description: 'The message as signed and its signature (EOA, ERC-1271 or ERC-6492).',
      },
      responses: {
        200: {
          description: 'A session: send `token` as a bearer token. Browsers also get the HttpOnly cookie.',
          json: z.strictObject({
            token: doc(z.string().regex(/^[A-Za-z0-9_-]{43}$/), 'The session’s bearer token.'),
            address: Address,
            expiresAt: Session.shape.expiresAt,
            idleExpiresAt: Session.shape.idleExpiresAt,
          }),
          headers: {
            'Set-Cookie': {
              description: 'The `pcmims_session` cookie (HttpOnly, SameSite=Strict, Secure on https).',
              schema: z.string(),
            },
          },
        },
      },
      problems: [400, 401, 413],
    },
    {
      method: 'get',
      path: '/api/v1/auth/session',
      operationId: 'getSession',
      tag: 'auth',
      summary: 'The current session',
      security: 'session',
      responses: { 200: { description: 'The session the request rides on.', json: Session } },
      problems: [401],
    },
    {
      method: 'post',
      path: '/api/v1/auth/sign-out',
      operationId: 'signOut',
      tag: 'auth',
      summary: 'End the session',
      security: 'session',
      responses: {
        204: {
          description: 'Signed out; the cookie is cleared.',
          headers: { 'Set-Cookie': { description: 'Clears `pcmims_session`.', schema: z.string() } },
        },
      },
      problems: [401, 403],
    },

    // participants ------------------------------------------------------------------------------------
    {
      method: 'post',
      path: '/api/v1/dev/fund',
      operationId: 'fundDevelopmentAccount',
      tag: 'participants',
      summary: 'Development chain only: give the caller 100 ETH to register with',
      security: 'session',
      responses: {
        200: {
          description: 'Funded.',
          json: z.strictObject({ address: Address, funded: z.literal(true) }),
        },
      },
      problems: [401, 403, 404, 413],
    },
    {
      method: 'get',
      path: '/api/v1/dev/accounts',
      operationId: 'listDevelopmentAccounts',
      tag: 'participants',
      summary: "Development chain only: anvil's well-known accounts, one per role, for one-click sign-in",
      security: 'none',
      responses: {
        200: {
          description: 'The development accounts (their keys are public knowledge and guard nothing).',
          json: z.strictObject({
            development: z.literal(true),
            accounts: z.array(
              z.strictObject({
                role: z.string(),
                name: z.string(),
                address: Address,
                privateKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
              }),
            ),
          }),
        },
      },
      problems: [404],
    },
    {
      method: 'get',
      path: '/api/v1/participants/{address}',
      operationId: 'getParticipant',
      tag: 'participants',
      summary: 'Public chain facts about one account',
      security: 'none',
      params: z.object({ address: AddressInput }),
      responses: { 200: { description: 'Role, status, unit and encryption key.', json: Participant } },
      problems: [400, 503],
    },
    {
      method: 'get',
      path: '/api/v1/units/{unit}/participants',
      operationId: 'listUnitParticipants',
      tag: 'participants',
      summary: 'Registrations at a unit, for the unit’s admin',
      security: 'session',
      params: z.object({ unit: AddressInput }),
      query: z.object({ status: doc(StatusName.optional(), 'Only registrations in this status.') }),
      responses: {
        200: {
          description: 'The registrations, oldest change first.',
          json: z.strictObject({
            unit: Address,
            participants: z.array(z.strictObject({ address: Address, role: RoleName, status: StatusName })),
          }),
        },
      },
      problems: [400, 401, 403, 503],
    },

    // blobs -----------------------------------------------------------------------------------------------
    {
      method: 'post',
      path: '/api/v1/blobs',
      operationId: 'uploadBlob',
      tag: 'blobs',
      summary: 'Store client-encrypted ciphertext (streamed)',
      description: 'Uploaders, patients (rotated copies) and units. At most `limits.maxBlobBytes`.',
      security: 'session',
      body: { contentType: 'application/octet-stream', description: 'The ciphertext, streamed.' },
      responses: { 201: { description: 'Stored; the CID is the node’s own.', json: StoredBlob } },
      problems: [400, 401, 403, 413, 503],
    },
    {
      method: 'put',
      path: '/api/v1/blocks/{cid}',
      operationId: 'putBlock',
      tag: 'blobs',
      summary: 'Store a small DAG-CBOR block under the CID the client computed (grant key bundles)',
      security: 'session',
      params: z.object({ cid: cidParam }),
      body: {
        contentType: 'application/vnd.ipld.dag-cbor',
        description: 'The block’s bytes (at most 4 MiB); they must hash to the CID.',
      },
      responses: { 201: { description: 'Stored.', json: StoredBlob } },
      problems: [400, 401, 403, 413, 503],
    },
    {
      method: 'get',
      path: '/api/v1/records/{id}/blobs/{cid}',
      operationId: 'getRecordBlob',
      tag: 'blobs',
      summary: 'Ciphertext of one blob of a record the caller may read',
      security: 'session',
      params: z.object({ id: RecordIdInput, cid: cidParam }),
      responses: {
        200: {
          description: 'The ciphertext, streamed.',
          content: 'application/octet-stream',
          headers: { 'Content-Length': { description: 'Its size.', schema: z.string().regex(/^\d+$/) } },
        },
      },
      problems: READ_PROBLEMS,
    },

    // records ---------------------------------------------------------------------------------------------
    {
      method: 'post',
      path: '/api/v1/records',
      operationId: 'submitRecord',
      tag: 'records',
      summary: 'Submit a record: its envelope and the blobs already uploaded',
      description:
        'The custodian checks the submission whole (the manifest opens with its key and lists exactly the ' +
        'blobs) before acknowledging it; then it is anchored on chain.',
      security: 'session',
      query: waitQuery,
      body: { json: RecordSubmission },
      responses: submissionResponses,
      problems: [400, 401, 403, 409, 413, 503],
    },
    {
      method: 'post',
      path: '/api/v1/records/{id}/rotate',
      operationId: 'rotateRecord',
      tag: 'records',
      summary: 'Key rotation by the patient: a re-encrypted copy that replaces the record',
      security: 'session',
      params: recordIdParams,
      query: waitQuery,
      body: { json: RecordSubmission },
      responses: submissionResponses,
      problems: [400, 401, 403, 404, 409, 413, 503],
    },
    {
      method: 'post',
      path: '/api/v1/records/{id}/deidentified-copies',
      operationId: 'submitDeidentifiedCopy',
      tag: 'records',
      summary: 'A de-identified copy of a DICOM study, by its patient, for one requestor',
      description:
        'A new record (same patient, kind and custodian) keyed for the patient, this unit and the audience only, ' +
        'with no identifying field in its manifest; the chain lets only those three read it, the audience only ' +
        'while the patient grants it anything. Anchored by the outbox (`anchorDeidentifiedCopy`).',
      security: 'session',
      params: recordIdParams,
      query: waitQuery,
      body: { json: DeidentifiedCopySubmission },
      responses: submissionResponses,
      problems: [400, 401, 403, 404, 409, 413, 503],
    },
    {
      method: 'get',
      path: '/api/v1/records/{id}/anchoring',
      operationId: 'getAnchoringStatus',
      tag: 'records',
      summary: 'Anchoring status of a record the caller submitted',
      description: 'For the uploader, who may not read the record itself.',
      security: 'session',
      params: recordIdParams,
      responses: { 200: { description: 'Where the record stands.', json: UploadStatus } },
      problems: [400, 401, 404],
    },
    {
      method: 'get',
      path: '/api/v1/records',
      operationId: 'listRecords',
      tag: 'records',
      summary: 'Current records of a patient the caller may read',
      security: 'session',
      query: z.object({
        patient: doc(AddressInput.optional(), 'The patient (default: the caller).'),
        kind: doc(KindName.optional(), 'Only records of this kind.'),
      }),
      responses: {
        200: {
          description: 'Newest first; superseded records and those the caller may not read are left out.',
          json: z.strictObject({ patient: Address, records: z.array(RecordSummary) }),
        },
      },
      problems: [400, 401, 403, 503],
    },
    {
      method: 'get',
      path: '/api/v1/records/{id}',
      operationId: 'getRecord',
      tag: 'records',
      summary: 'A record’s chain entry and its envelope',
      security: 'session',
      params: recordIdParams,
      responses: {
        200: {
          description: 'The record and the caller’s access to it.',
          json: z.strictObject({
            id: RecordId,
            patient: Address,
            kind: KindName,
            createdAt: UnixSeconds,
            unitIndex: Count,
            envelopeCid: Cid,
            envelope: doc(z.base64(), 'The envelope block (DAG-CBOR), base64.'),
            access: Access,
          }),
        },
      },
      problems: READ_PROBLEMS,
    },

    // custody ---------------------------------------------------------------------------------------------
    {
      method: 'get',
      path: '/api/v1/records/{id}/decrypted',
      operationId: 'getDecryptedRecord',
      tag: 'custody',
      summary: 'The decrypted manifest of a record this node is custodian of (PHI)',
      description: 'For the patient, a grantee allowed to download, and a medic in a declared emergency.',
      security: 'session',
      params: recordIdParams,
      responses: { 200: { description: 'The manifest.', json: DecryptedRecord } },
      problems: READ_PROBLEMS,
    },
    {
      method: 'get',
      path: '/api/v1/records/{id}/decrypted/files/{index}',
      operationId: 'getDecryptedFile',
      tag: 'custody',
      summary: 'One file of such a record, decrypted and streamed (PHI)',
      security: 'session',
      params: z.object({
        id: RecordIdInput,
        index: doc(z.string().regex(/^\d{1,6}$/), 'The file’s index in the manifest.'),
      }),
      responses: {
        200: {
          description: 'The plaintext, of the file’s media type (application/octet-stream when odd).',
          content: '*/*',
          headers: {
            'Content-Length': { description: 'Its size.', schema: z.string().regex(/^\d+$/) },
            'Content-Disposition': { description: 'attachment, with the file’s name.', schema: z.string() },
            'X-Content-SHA256': {
              description: 'SHA-256 of the plaintext, hex; checked as the file streams.',
              schema: z.string().regex(/^[0-9a-f]{64}$/),
            },
          },
        },
      },
      problems: READ_PROBLEMS,
    },

    // dicomweb --------------------------------------------------------------------------------------------
    {
      method: 'get',
      path: '/api/v1/dicomweb/studies',
      operationId: 'searchDicomStudies',
      tag: 'dicomweb',
      summary: 'QIDO-RS: search the studies the caller may read decrypted (PHI)',
      description:
        'Matching: `*`/`?` wildcards; PatientName case-insensitive, by word prefixes with fuzzymatching=true; ' +
        'StudyDate a date or a range a-b, -b, a-; UID and modality lists comma-separated.',
      security: 'session',
      query: qidoStudyQuery,
      responses: {
        200: { description: 'Study-level attributes (DICOM JSON).', content: 'application/dicom+json' },
      },
      problems: READ_PROBLEMS,
    },
    {
      method: 'get',
      path: '/api/v1/dicomweb/studies/{study}/series',
      operationId: 'searchDicomSeries',
      tag: 'dicomweb',
      summary: 'QIDO-RS: the series of a study (PHI)',
      security: 'session',
      params: studyParams,
      query: z.object({ ...qidoSeriesKeys, limit: qidoLimit, offset: qidoOffset }),
      responses: {
        200: { description: 'Series-level attributes (DICOM JSON).', content: 'application/dicom+json' },
      },
      problems: READ_PROBLEMS,
    },
    {
      method: 'get',
      path: '/api/v1/dicomweb/series',
      operationId: 'searchAllDicomSeries',
      tag: 'dicomweb',
      summary: 'QIDO-RS: series across the studies the caller may read decrypted (PHI)',
      description: 'Study-level keys narrow the studies (as for /studies), series-level keys the series.',
      security: 'session',
      query: qidoStudyQuery.extend(qidoSeriesKeys),
      responses: {
        200: { description: 'Series-level attributes (DICOM JSON).', content: 'application/dicom+json' },
      },
      problems: READ_PROBLEMS,
    },
    {
      method: 'get',
      path: '/api/v1/dicomweb/instances',
      operationId: 'searchAllDicomInstances',
      tag: 'dicomweb',
      summary: 'QIDO-RS: instances across the studies the caller may read decrypted (PHI)',
      security: 'session',
      query: qidoStudyQuery.extend({ ...qidoSeriesKeys, ...qidoInstanceKeys }),
      responses: {
        200: { description: 'Instance-level attributes (DICOM JSON).', content: 'application/dicom+json' },
      },
      problems: READ_PROBLEMS,
    },
    {
      method: 'get',
      path: '/api/v1/dicomweb/studies/{study}/instances',
      operationId: 'searchDicomStudyInstances',
      tag: 'dicomweb',
      summary: 'QIDO-RS: the instances of a study, across its series (PHI)',
      security: 'session',
      params: studyParams,
      query: z.object({ ...qidoSeriesKeys, ...qidoInstanceKeys, limit: qidoLimit, offset: qidoOffset }),
      responses: {
        200: { description: 'Instance-level attributes (DICOM JSON).', content: 'application/dicom+json' },
      },
      problems: READ_PROBLEMS,
    },
    {
      method: 'get',
      path: '/api/v1/dicomweb/studies/{study}/series/{series}/instances',
      operationId: 'searchDicomInstances',
      tag: 'dicomweb',
      summary: 'QIDO-RS: the instances of a series (PHI)',
      security: 'session',
      params: seriesParams,
      query: z.object({ ...qidoInstanceKeys, limit: qidoLimit, offset: qidoOffset }),
      responses: {
        200: { description: 'Instance-level attributes (DICOM JSON).', content: 'application/dicom+json' },
      },
      problems: READ_PROBLEMS,
    },
    {
      method: 'get',
      path: '/api/v1/dicomweb/studies/{study}/metadata',
      operationId: 'getDicomStudyMetadata',
      tag: 'dicomweb',
      summary: 'WADO-RS: metadata of every instance of a study (PHI)',
      security: 'session',
      params: studyParams,
      responses: { 200: dicomMetadataAnswer },
      problems: READ_PROBLEMS,
    },
    {
      method: 'get',
      path: '/api/v1/dicomweb/studies/{study}/series/{series}/metadata',
      operationId: 'getDicomSeriesMetadata',
      tag: 'dicomweb',
      summary: 'WADO-RS: metadata of every instance of a series (PHI)',
      security: 'session',
      params: seriesParams,
      responses: { 200: dicomMetadataAnswer },
      problems: READ_PROBLEMS,
    },
    {
      method: 'get',
      path: '/api/v1/dicomweb/studies/{study}/series/{series}/instances/{instance}/metadata',
      operationId: 'getDicomInstanceMetadata',
      tag: 'dicomweb',
      summary: 'WADO-RS: metadata of one instance (PHI)',
      security: 'session',
      params: instanceParams,
      responses: { 200: dicomMetadataAnswer },
      problems: READ_PROBLEMS,
    },
    ...(
      [
        ['/api/v1/dicomweb/studies/{study}', 'getDicomStudy', 'every instance of a study', studyParams],
        [
          '/api/v1/dicomweb/studies/{study}/series/{series}',
          'getDicomSeries',
          'every instance of a series',
          seriesParams,
        ],
        [
          '/api/v1/dicomweb/studies/{study}/series/{series}/instances/{instance}',
          'getDicomInstance',
          'one instance',
          instanceParams,
        ],
      ] as const
    ).map(
      ([path, operationId, what, params]): ApiRoute => ({
        method: 'get',
        path,
        operationId,
        tag: 'dicomweb',
        summary: `WADO-RS: ${what}, Part 10 bytes (PHI)`,
        description:
          'Accept (PS3.18 8.7.3): `multipart/related; type="application/dicom"` with `transfer-syntax=*` or none ' +
          '(as stored, the default) or `transfer-syntax=1.2.840.10008.1.2.1` (compressed instances are decoded and ' +
          'rewritten as Explicit VR Little Endian); any other syntax than the stored one is 406. Study and series ' +
          'answers stream one instance after another.',
        security: 'session',
        params,
        responses: {
          200: {
            description:
              'multipart/related; type="application/dicom": one part per instance, `application/dicom; ' +
              'transfer-syntax=<uid>` with its Content-Location.',
            content: 'multipart/related',
          },
        },
        problems: [...READ_PROBLEMS, 406],
      }),
    ),
    {
      method: 'get',
      path: '/api/v1/dicomweb/studies/{study}/series/{series}/instances/{instance}/frames/{frames}',
      operationId: 'getDicomFrames',
      tag: 'dicomweb',
      summary: 'WADO-RS: frames, decoded to uncompressed pixel bytes or as stored (PHI)',
      description:
        'Decoded unless the caller asks for the stored bitstream: `type="image/jpeg"`, `image/jls`, `image/jp2`, ' +
        '`image/jpx`, `image/dicom-rle` or `type="application/octet-stream"; transfer-syntax=<stored uid>` give the ' +
        'encapsulated frames untouched; `transfer-syntax=*` is answered decoded.',
      security: 'session',
      params: z.object({
        study: dicomUid,
        series: dicomUid,
        instance: dicomUid,
        frames: doc(z.string().regex(/^\d{1,6}(,\d{1,6}){0,255}$/), 'Frame numbers from 1, comma-separated.'),
      }),
      responses: {
        200: {
          description:
            'multipart/related; type="application/octet-stream": one part per frame, Explicit VR Little Endian ' +
            '(1.2.840.10008.1.2.1) sample bytes, interleaved by pixel (JPEG YBR decodes to RGB).',
          content: 'multipart/related',
        },
      },
      problems: [...READ_PROBLEMS, 406],
    },
    {
      method: 'get',
      path: '/api/v1/dicomweb/studies/{study}/series/{series}/instances/{instance}/rendered',
      operationId: 'getDicomRendered',
      tag: 'dicomweb',
      summary: 'WADO-RS: the first frame rendered (PHI)',
      security: 'session',
      params: instanceParams,
      query: renderedQuery,
      responses: { 200: renderedAnswer },
      problems: [...READ_PROBLEMS, 406],
    },
    {
      method: 'get',
      path: '/api/v1/dicomweb/studies/{study}/series/{series}/instances/{instance}/thumbnail',
      operationId: 'getDicomThumbnail',
      tag: 'dicomweb',
      summary: 'WADO-RS: a thumbnail of the first frame (PHI)',
      security: 'session',
      params: instanceParams,
      query: renderedQuery,
      responses: { 200: renderedAnswer },
      problems: [...READ_PROBLEMS, 406],
    },

    // chain -----------------------------------------------------------------------------------------------
    {
      method: 'post',
      path: '/api/v1/chain/rpc',
      operationId: 'relayChainRpc',
      tag: 'chain',
      summary: 'JSON-RPC to the node’s chain: reads, and transactions to the PCMIMS contract',
      description:
        'The caller signs its own transactions: only ones signed by the session’s account, for this chain ' +
        'and to the PCMIMS contract, are relayed. Per-call errors are JSON-RPC errors in a 200.',
      security: 'session',
      body: { json: z.union([RpcRequest, z.array(RpcRequest).min(1).max(20)]) },
      responses: {
        200: {
          description: 'The JSON-RPC answer (an array for a batch).',
          json: z.union([RpcResponse, z.array(RpcResponse).min(1).max(20)]),
        },
      },
      problems: [400, 401, 403, 413],
    },

    // consent ---------------------------------------------------------------------------------------------
    {
      method: 'get',
      path: '/api/v1/grants',
      operationId: 'listGrants',
      tag: 'consent',
      summary: 'Active grants of a patient',
      description:
        'For the patient, a grantee (its own grant), and uploaders and units (to wrap new records for ' +
        'standing grantees).',
      security: 'session',
      query: z.object({
        patient: doc(AddressInput.optional(), 'The patient (default: the caller).'),
        grantee: doc(AddressInput.optional(), 'Only the grant to this grantee.'),
      }),
      responses: {
        200: {
          description: 'Unexpired grants, by grantee.',
          json: z.strictObject({ patient: Address, grants: z.array(Grant) }),
        },
      },
      problems: [400, 401, 403, 503],
    },
    {
      method: 'get',
      path: '/api/v1/grants/received',
      operationId: 'listReceivedGrants',
      tag: 'consent',
      summary: 'Active grants the caller holds: the patients who let it read their records',
      security: 'session',
      responses: {
        200: {
          description: 'Unexpired grants to the caller, by patient.',
          json: z.strictObject({ grantee: Address, grants: z.array(Grant) }),
        },
      },
      problems: [401, 503],
    },
    {
      method: 'get',
      path: '/api/v1/emergencies',
      operationId: 'listEmergencies',
      tag: 'consent',
      summary: 'Emergency accesses declared for the caller (as patient) or by the caller (as medic)',
      security: 'session',
      responses: {
        200: { description: 'Newest first.', json: z.strictObject({ emergencies: z.array(Emergency) }) },
      },
      problems: [401, 503],
    },
    {
      method: 'get',
      path: '/api/v1/grants/{patient}/{grantee}/bundle',
      operationId: 'getGrantKeyBundle',
      tag: 'consent',
      summary: 'The key bundle of the current grant, for its patient and grantee',
      security: 'session',
      params: z.object({ patient: AddressInput, grantee: AddressInput }),
      responses: {
        200: { description: 'The key bundle block.', content: 'application/vnd.ipld.dag-cbor' },
      },
      problems: READ_PROBLEMS,
    },
    {
      method: 'get',
      path: '/api/v1/requests',
      operationId: 'listAccessRequests',
      tag: 'consent',
      summary: 'Access requests addressed to the caller (as patient) or made by the caller',
      security: 'session',
      responses: {
        200: { description: 'Newest first.', json: z.strictObject({ requests: z.array(AccessRequest) }) },
      },
      problems: [401, 503],
    },

    // audit -------------------------------------------------------------------------------------------------
    {
      method: 'get',
      path: '/api/v1/audit',
      operationId: 'listAuditEntries',
      tag: 'audit',
      summary: 'Audit entries with inclusion proofs against the latest anchored root',
      description:
        'scope patient: the entries about the caller; actor: the caller’s own actions; all: the whole log, ' +
        'for the unit’s operator only.',
      security: 'session',
      query: z.object({
        scope: doc(z.enum(['patient', 'actor', 'all']).optional(), 'Whose entries (default: patient).'),
        fromSeq: doc(
          z
            .string()
            .regex(/^\d{1,15}$/)
            .optional(),
          'The first seq to return (pagination).',
        ),
        limit: doc(
          z
            .string()
            .regex(/^\d{1,15}$/)
            .optional(),
          'At most this many entries (≤ 10 000).',
        ),
      }),
      responses: {
        200: {
          description: 'One page of entries.',
          json: z.strictObject({
            unit: Address,
            contract: Address,
            chainId: z.number().int().positive(),
            scope: z.enum(['patient', 'actor', 'all']),
            size: doc(Count, 'Entries in the log.'),
            anchor: doc(AuditAnchor.nullable(), 'The latest anchor: the proofs are against its size.'),
            nextSeq: doc(Count.nullable(), 'Pass as `fromSeq` for the next page; null on the last.'),
            problem: doc(
              z.string().optional(),
              'The node found its stored log inconsistent with its anchor.',
            ),
            entries: z.array(
              z.strictObject({
                entry: AuditEntry,
                hash: doc(Bytes32, 'The hash the node stored for the entry.'),
                proof: doc(
                  z.strictObject({ size: Count, path: HashPath }).nullable(),
                  'Inclusion proof (null for an entry after the latest anchor).',
                ),
              }),
            ),
          }),
        },
      },
      problems: [400, 401, 403],
    },
    {
      method: 'get',
      path: '/api/v1/audit/anchors',
      operationId: 'listAuditAnchors',
      tag: 'audit',
      summary: 'The anchors this node recorded, and consistency proofs between sizes',
      security: 'session',
      query: z.object({
        consistency: doc(
          z
            .string()
            .regex(/^\d{1,15}(,\d{1,15})*$/)
            .optional(),
          'Log sizes, comma-separated (at most 1000): a proof between each consecutive pair.',
        ),
      }),
      responses: {
        200: {
          description: 'Oldest anchor first.',
          json: z.strictObject({
            unit: Address,
            anchors: z.array(AuditAnchor),
            consistency: z.array(z.strictObject({ fromSize: Count, toSize: Count, path: HashPath })),
          }),
        },
      },
      problems: [400, 401],
    },
    {
      method: 'post',
      path: '/api/v1/audit/anchor',
      operationId: 'anchorAuditLog',
      tag: 'audit',
      summary: 'Anchor the log’s root now (the unit’s operator); otherwise the node anchors periodically',
      security: 'session',
      responses: {
        200: {
          description: 'Anchored, or nothing was pending (then the latest anchor).',
          json: z.strictObject({ anchored: z.boolean(), anchor: AuditAnchor.nullable() }),
        },
      },
      problems: [401, 403, 503],
    },

    // STOW-RS and the unit's ingest desk ---------------------------------------------------------------
    ...(['/api/v1/dicomweb/studies', '/api/v1/dicomweb/studies/{study}'] as const).map(
      (path): ApiRoute => ({
        method: 'post',
        path,
        operationId: path.endsWith('{study}') ? 'storeDicomStudyInstances' : 'storeDicomInstances',
        tag: 'dicomweb',
        summary: 'STOW-RS: store DICOM instances; the node encrypts them and seals each study into a record',
        description:
          'For this unit’s approved uploaders (the record names the caller as uploader). The patient is ' +
          '`patient` when given, else the one the unit’s Patient ID map names; otherwise the study is held ' +
          'for the unit (see /unit/held-studies). A study is sealed once no instance came for ' +
          '`ingest.quietPeriodMs`. 200 all stored, 202 some failed, 409 none (FailedSOPSequence says why). ' +
          'A request cut half way stores nothing.',
        security: 'session',
        ...(path.endsWith('{study}') ? { params: studyParams } : {}),
        query: z.object({
          patient: doc(AddressInput.optional(), 'The patient’s account (an approved patient).'),
        }),
        body: {
          contentType: 'multipart/related',
          description: 'multipart/related; type="application/dicom": one DICOM Part 10 instance per part.',
        },
        responses: {
          200: {
            description: 'Every instance stored (ReferencedSOPSequence).',
            content: 'application/dicom+json',
          },
          202: {
            description: 'Some instances failed (FailedSOPSequence).',
            content: 'application/dicom+json',
          },
          409: { description: 'No instance stored (FailedSOPSequence).', content: 'application/dicom+json' },
        },
        problems: [400, 401, 403, 413, 415, 503],
      }),
    ),
    {
      method: 'get',
      path: '/api/v1/unit/held-studies',
      operationId: 'listHeldStudies',
      tag: 'unit',
      summary: 'Studies received for a Patient ID no account is mapped to (PHI, for the unit’s staff)',
      security: 'session',
      responses: {
        200: { description: 'The held studies.', json: z.strictObject({ studies: z.array(HeldStudy) }) },
      },
      problems: [401, 403, 503],
    },
    {
      method: 'post',
      path: '/api/v1/unit/held-studies/{id}/resolve',
      operationId: 'resolveHeldStudy',
      tag: 'unit',
      summary: 'Name the patient of a held study; it is sealed into a record for them',
      security: 'session',
      params: heldParams,
      body: {
        json: z.strictObject({
          patient: AddressInput,
          remember: doc(z.boolean().optional(), 'Also map the study’s Patient ID to this patient.'),
        }),
      },
      responses: { 200: { description: 'Its state now.', json: IngestBatch } },
      problems: [400, 401, 403, 404, 413, 503],
    },
    {
      method: 'delete',
      path: '/api/v1/unit/held-studies/{id}',
      operationId: 'discardHeldStudy',
      tag: 'unit',
      summary: 'Discard a held study (its ciphertext is released)',
      security: 'session',
      params: heldParams,
      responses: { 200: { description: 'Its state now.', json: IngestBatch } },
      problems: [401, 403, 404, 503],
    },
    {
      method: 'put',
      path: '/api/v1/unit/patient-ids',
      operationId: 'mapPatientId',
      tag: 'unit',
      summary: 'Map a Patient ID (MRN) of this unit to a patient account, or remove it (patient null)',
      description: 'Held studies of that Patient ID are sealed for the patient at once.',
      security: 'session',
      body: {
        json: z.strictObject({ patientId: z.string().min(1).max(64), patient: AddressInput.nullable() }),
      },
      responses: {
        200: {
          description: 'The mapping now.',
          json: z.strictObject({
            patientId: z.string(),
            patient: Address.nullable(),
            released: Count,
            removed: z.boolean(),
          }),
        },
      },
      problems: [400, 401, 403, 413, 503],
    },
    {
      method: 'post',
      path: '/api/v1/unit/patient-ids/lookup',
      operationId: 'lookupPatientId',
      tag: 'unit',
      summary: 'The patient account a Patient ID is mapped to (in a body: MRNs stay out of URLs)',
      security: 'session',
      body: { json: z.strictObject({ patientId: z.string().min(1).max(64) }) },
      responses: {
        200: {
          description: 'The mapping, or null.',
          json: z.strictObject({ patientId: z.string(), patient: Address.nullable() }),
        },
      },
      problems: [400, 401, 403, 413, 503],
    },

    // uploads (tus 1.0) -------------------------------------------------------------------------------
    {
      method: 'options',
      path: '/api/v1/uploads',
      operationId: 'discoverUploads',
      tag: 'uploads',
      summary: 'tus discovery: version, extensions and largest upload',
      security: 'none',
      responses: {
        204: { description: 'What this node’s tus server speaks.', headers: tusDiscoveryHeaders },
      },
      problems: [],
    },
    {
      method: 'post',
      path: '/api/v1/uploads',
      operationId: 'createUpload',
      tag: 'uploads',
      summary: 'Create a resumable upload of `Upload-Length` bytes',
      description:
        'Upload-Defer-Length is not supported; Upload-Metadata is ignored (nothing of it is kept).',
      security: 'session',
      headers: z.object({
        'Tus-Resumable': TUS_RESUMABLE,
        'Upload-Length': doc(
          z.string().regex(/^\d{1,16}$/),
          'The upload’s size, at most `limits.maxBlobBytes`.',
        ),
      }),
      responses: {
        201: {
          description: 'Created: PATCH the bytes to `Location`.',
          headers: {
            Location: { description: 'The upload’s URL path.', schema: z.string() },
            'Upload-Offset': uploadOffsetHeader,
            'Upload-Expires': uploadExpiresHeader,
            'Tus-Resumable': tusVersionHeader,
          },
        },
      },
      problems: [400, 401, 403, 412, 413, 503],
    },
    {
      method: 'options',
      path: '/api/v1/uploads/{id}',
      operationId: 'discoverUpload',
      tag: 'uploads',
      summary: 'tus discovery',
      security: 'none',
      params: uploadIdParams,
      responses: {
        204: { description: 'What this node’s tus server speaks.', headers: tusDiscoveryHeaders },
      },
      problems: [],
    },
    {
      method: 'head',
      path: '/api/v1/uploads/{id}',
      operationId: 'getUploadOffset',
      tag: 'uploads',
      summary: 'Where an upload stands: resume from `Upload-Offset`',
      security: 'session',
      params: uploadIdParams,
      headers: z.object({ 'Tus-Resumable': TUS_RESUMABLE }),
      responses: {
        200: {
          description: 'The upload’s length and offset; the blob it became once complete.',
          headers: uploadStatusHeaders,
        },
      },
      problems: [401, 403, 404, 410, 412],
    },
    {
      method: 'get',
      path: '/api/v1/uploads/{id}',
      operationId: 'getUploadOffsetByGet',
      tag: 'uploads',
      summary: 'The same as HEAD, which tus clients use (Hono answers HEAD with this route)',
      security: 'session',
      params: uploadIdParams,
      headers: z.object({ 'Tus-Resumable': TUS_RESUMABLE }),
      responses: {
        200: {
          description: 'As HEAD: the answer is in the headers, the body is empty.',
          headers: uploadStatusHeaders,
        },
      },
      problems: [401, 403, 404, 410, 412],
    },
    {
      method: 'patch',
      path: '/api/v1/uploads/{id}',
      operationId: 'appendUpload',
      tag: 'uploads',
      summary: 'Append bytes at `Upload-Offset`; the chunk that completes the upload stores the blob',
      security: 'session',
      params: uploadIdParams,
      headers: z.object({
        'Tus-Resumable': TUS_RESUMABLE,
        'Upload-Offset': doc(z.string().regex(/^\d{1,16}$/), 'Where this chunk starts.'),
      }),
      body: { contentType: 'application/offset+octet-stream', description: 'The chunk, streamed.' },
      responses: {
        204: {
          description: 'The chunk is stored whole and fsynced.',
          headers: {
            'Upload-Offset': uploadOffsetHeader,
            'Upload-Expires': uploadExpiresHeader,
            'PCMIMS-Blob-CID': blobCidHeader,
            'PCMIMS-Blob-Size': blobSizeHeader,
            'Tus-Resumable': tusVersionHeader,
          },
        },
      },
      problems: [400, 401, 403, 404, 409, 410, 412, 413, 415, 503],
    },
    {
      method: 'delete',
      path: '/api/v1/uploads/{id}',
      operationId: 'deleteUpload',
      tag: 'uploads',
      summary: 'Terminate an upload',
      security: 'session',
      params: uploadIdParams,
      headers: z.object({ 'Tus-Resumable': TUS_RESUMABLE }),
      responses: {
        204: { description: 'Gone.', headers: { 'Tus-Resumable': tusVersionHeader } },
      },
      problems: [401, 403, 404, 412],
    },
  ],
}
