import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync } from 'node:sqlite'

/**
 * The node's private SQLite database: the index of chain events (rebuildable from the chain) and the
 * node's own durable state (outbox, blob ownership), which is not. `synchronous = FULL` because an
 * upload is acknowledged only after its outbox row is committed.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  -- chain index (derived; wiped and rebuilt when the chain rolls back)
  CREATE TABLE participants (
    address TEXT PRIMARY KEY, unit TEXT NOT NULL, role TEXT NOT NULL, status TEXT NOT NULL,
    unit_index INTEGER, encryption_key TEXT, updated_block INTEGER NOT NULL
  );
  CREATE INDEX participants_unit ON participants (unit, status);
  CREATE TABLE records (
    id TEXT PRIMARY KEY, patient TEXT NOT NULL, uploader TEXT NOT NULL, kind TEXT NOT NULL,
    unit_index INTEGER NOT NULL, created_at INTEGER NOT NULL, block_number INTEGER NOT NULL,
    tx_hash TEXT NOT NULL, superseded_by TEXT
  );
  CREATE INDEX records_patient ON records (patient, created_at);
  CREATE TABLE grants (
    patient TEXT NOT NULL, grantee TEXT NOT NULL, scope TEXT NOT NULL, kind_mask INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, flags INTEGER NOT NULL, epoch INTEGER NOT NULL, key_bundle TEXT,
    block_number INTEGER NOT NULL, PRIMARY KEY (patient, grantee)
  );
  CREATE TABLE grant_records (
    patient TEXT NOT NULL, grantee TEXT NOT NULL, epoch INTEGER NOT NULL, record_id TEXT NOT NULL,
    PRIMARY KEY (patient, grantee, epoch, record_id)
  );
  CREATE TABLE requests (
    id TEXT PRIMARY KEY, requestor TEXT NOT NULL, patient TEXT NOT NULL, scope TEXT NOT NULL,
    kind_mask INTEGER NOT NULL, purpose INTEGER NOT NULL, details TEXT, status TEXT NOT NULL,
    created_block INTEGER NOT NULL
  );
  CREATE INDEX requests_patient ON requests (patient);
  CREATE INDEX requests_requestor ON requests (requestor);
  CREATE TABLE emergencies (
    medic TEXT NOT NULL, patient TEXT NOT NULL, unit_index INTEGER NOT NULL, reason INTEGER NOT NULL,
    until INTEGER NOT NULL, block_number INTEGER NOT NULL, ended INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (medic, patient, block_number)
  );

  -- node state (durable; never derived)
  CREATE TABLE blobs (
    cid TEXT PRIMARY KEY, uploader TEXT NOT NULL, size INTEGER NOT NULL, created_at INTEGER NOT NULL
  );
  CREATE TABLE record_blobs (record_id TEXT NOT NULL, cid TEXT NOT NULL, PRIMARY KEY (record_id, cid));
  CREATE INDEX record_blobs_cid ON record_blobs (cid);
  CREATE TABLE outbox (
    record_id TEXT PRIMARY KEY, envelope_cid TEXT NOT NULL, patient TEXT NOT NULL, uploader TEXT NOT NULL,
    kind TEXT NOT NULL, previous TEXT, state TEXT NOT NULL, tx_hash TEXT, gas_used TEXT,
    block_number INTEGER, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
  );
  CREATE INDEX outbox_state ON outbox (state, created_at);
  `,
  // Small DAG-CBOR blocks (grant key bundles) are kept apart from file ciphertext: only the latter is
  // swept when it never becomes part of a record.
  `ALTER TABLE blobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'blob';`,
  // Sign-in with Ethereum: single-use nonces and sessions. Only SHA-256 digests of the secrets are kept,
  // so a copy of the database cannot be used to sign in.
  `
  CREATE TABLE siwe_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY, address TEXT NOT NULL, created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL, expires_at INTEGER NOT NULL
  );
  CREATE INDEX sessions_address ON sessions (address);
  `,
  // Audit trail (node state, never derived from the chain: clearChainIndex keeps it). `entry` is the
  // canonical JSON the hash covers; patient/actor/record_id/action are copies for lookups only.
  `
  CREATE TABLE audit_entries (
    seq INTEGER PRIMARY KEY, patient TEXT, actor TEXT, record_id TEXT, action TEXT NOT NULL,
    entry TEXT NOT NULL, hash TEXT NOT NULL
  );
  CREATE INDEX audit_entries_patient ON audit_entries (patient, seq) WHERE patient IS NOT NULL;
  CREATE INDEX audit_entries_actor ON audit_entries (actor, seq) WHERE actor IS NOT NULL;
  CREATE TABLE audit_anchors (
    size INTEGER PRIMARY KEY, root TEXT NOT NULL, tx_hash TEXT NOT NULL, anchored_at TEXT NOT NULL
  );
  `,
  // Chain events already written to the audit trail (tx hash : log index): a rebuilt index replays
  // events, the trail must not repeat them.
  `CREATE TABLE audit_chain_events (key TEXT PRIMARY KEY);`,
  // Node-side DICOM ingest (C-STORE, STOW-RS): studies received instance by instance, each instance
  // encrypted under its study's data key as it arrives, until the study is sealed into a record or held
  // for the unit to name its patient. No PHI in clear: UIDs and MRNs are keyed hashes (lookup columns),
  // data keys and metadata are sealed with a key derived from the unit's (see ingest/at-rest-keys.ts).
  `
  CREATE TABLE ingest_batches (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, study_key TEXT NOT NULL, patient_key TEXT NOT NULL,
    uploader TEXT NOT NULL, patient TEXT, sealed_dek BLOB NOT NULL, sealed_meta BLOB NOT NULL,
    state TEXT NOT NULL, hold_reason TEXT, record_id TEXT, instances INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
  );
  CREATE INDEX ingest_batches_open ON ingest_batches (state, source, study_key);
  CREATE INDEX ingest_batches_patient ON ingest_batches (patient_key, state);
  CREATE TABLE ingest_instances (
    batch_id TEXT NOT NULL, sop_key TEXT NOT NULL, seq INTEGER NOT NULL, cid TEXT NOT NULL,
    size INTEGER NOT NULL, ciphertext_size INTEGER NOT NULL, sha256 BLOB NOT NULL, sealed_meta BLOB NOT NULL,
    PRIMARY KEY (batch_id, sop_key)
  );
  CREATE INDEX ingest_instances_cid ON ingest_instances (cid);
  CREATE TABLE patient_identities (
    key TEXT PRIMARY KEY, address TEXT NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL
  );
  `,
  // De-identified copies (anchorDeidentifiedCopy): the record they were made from and their one audience,
  // in the outbox (to anchor them) and in the chain index (to list them).
  `
  ALTER TABLE outbox ADD COLUMN source TEXT;
  ALTER TABLE outbox ADD COLUMN audience TEXT;
  ALTER TABLE records ADD COLUMN source TEXT;
  ALTER TABLE records ADD COLUMN audience TEXT;
  `,
]

export function openDatabase(path: string): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new DatabaseSync(path)
  db.exec(
    'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;',
  )
  migrate(db)
  return db
}

function migrate(db: DatabaseSync): void {
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version
  for (let i = version; i < MIGRATIONS.length; i++) {
    transaction(db, () => {
      db.exec(MIGRATIONS[i] as string)
      db.exec(`PRAGMA user_version = ${i + 1}`)
    })
  }
}

/** Runs `fn` in one SQLite transaction (BEGIN IMMEDIATE, so writers queue instead of failing). */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE')
  try {
    const result = fn()
    db.exec('COMMIT')
    return result
  } catch (error) {
    db.exec('ROLLBACK')
    throw error
  }
}

export function getMeta(db: DatabaseSync, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined
  return row?.value
}

export function setMeta(db: DatabaseSync, key: string, value: string): void {
  db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run(key, value)
}

export function deleteMeta(db: DatabaseSync, key: string): void {
  db.prepare('DELETE FROM meta WHERE key = ?').run(key)
}

/** Drops everything derived from the chain, keeping the node's own state (outbox, blobs). */
export function clearChainIndex(db: DatabaseSync, options: { inTransaction?: boolean } = {}): void {
  const clear = () => {
    for (const table of ['participants', 'records', 'grants', 'grant_records', 'requests', 'emergencies']) {
      db.exec(`DELETE FROM ${table}`)
    }
    db.exec(`DELETE FROM meta WHERE key LIKE 'indexer.%'`)
  }
  if (options.inTransaction) clear()
  else transaction(db, clear)
}
