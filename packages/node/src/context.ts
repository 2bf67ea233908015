import type { DatabaseSync } from 'node:sqlite'
import type { Address, Hex, LocalAccount } from 'viem'
import type { AuditLog } from './audit/audit-log.js'
import type { SessionStore } from './auth/sessions.js'
import type { NodeConfig } from './config.js'
import type { Indexer } from './indexer/indexer.js'
import type { Ingest } from './ingest/create-ingest.js'
import type { Logger } from './logger.js'
import type { Outbox } from './outbox/outbox.js'
import type { BlobStore } from './storage/index.js'

export type ParticipantView = {
  address: Address
  unit: Address
  role: 'None' | 'Unit' | 'Patient' | 'Uploader' | 'Medic' | 'Requestor'
  status: 'None' | 'Pending' | 'Approved' | 'Rejected' | 'Suspended'
  unitIndex: number
  encryptionKey: Hex
}

export type AccessView = {
  allowed: boolean
  download: boolean
  deidentifiedOnly: boolean
  until: number
  basis: 'None' | 'Patient' | 'Custodian' | 'Grant' | 'Emergency'
}

export type RecordView = {
  id: Hex
  patient: Address
  kind: string
  createdAt: number
  unitIndex: number
  superseded: boolean
}

export type GrantView = {
  patient: Address
  grantee: Address
  scope: 'None' | 'All' | 'Kinds' | 'Records'
  kindMask: number
  expiresAt: number
  flags: number
  epoch: number
}

/**
 * What the node asks the chain. Every method throws `ChainUnavailableError` when the chain cannot be
 * read, so callers fail closed.
 */
export type ChainReader = {
  participant(address: Address): Promise<ParticipantView>
  record(id: Hex): Promise<RecordView | undefined>
  access(grantee: Address, id: Hex): Promise<AccessView>
  canAccessBatch(grantee: Address, ids: Hex[]): Promise<boolean[]>
  grant(patient: Address, grantee: Address): Promise<GrantView>
  emergencyUntil(medic: Address, patient: Address): Promise<number>
  /** EIP-191 signature check that also accepts contract wallets (ERC-1271) and ERC-6492 wrappers. */
  verifyMessage(address: Address, message: string, signature: Hex): Promise<boolean>
  blockNumber(): Promise<bigint>
  /** The chain's clock (latest block timestamp, seconds): grants expire by it, not by this machine's. */
  now(): Promise<number>
}

export type UnitIdentity = {
  account: LocalAccount
  address: Address
  encryptionKeyPair: { publicKey: Uint8Array; privateKey: Uint8Array }
}

export type NodeContext = {
  config: NodeConfig
  logger: Logger
  db: DatabaseSync
  store: BlobStore
  chain: {
    reader: ChainReader
    chainId: number
    contract: Address
    /** RPC URL handed to clients. */
    rpcUrl: string
    /** A raw JSON-RPC call to the node's own chain endpoint (for the relay clients may use). */
    request(method: string, params: unknown[]): Promise<unknown>
  }
  unit: UnitIdentity
  outbox: Outbox
  indexer: Indexer
  sessions: SessionStore
  /** The hash-chained, chain-anchored log of every access this node serves. */
  audit: AuditLog
  /** Studies received over C-STORE and STOW-RS, encrypted here and sealed into records. */
  ingest: Ingest
  version: string
  /**
   * The origin clients sign their requests for (the public URL, or the address the node listens on).
   * Never taken from the request's Host header: a request signed for another node must not pass here.
   */
  origin: string
  /** Development-only helpers of the embedded chain; absent on a real network. */
  /** Development chain only: its well-known accounts (the portal's one-click sign-in) and a faucet. */
  dev?:
    | {
        accounts: Array<{ role: string; name: string; address: Address; privateKey: Hex }>
        fund(address: Address): Promise<void>
      }
    | undefined
}
