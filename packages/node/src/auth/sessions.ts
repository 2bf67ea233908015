import { createHash, randomBytes } from 'node:crypto'
import type { DatabaseSync } from 'node:sqlite'
import { type Address, getAddress } from 'viem'
import { generateSiweNonce } from 'viem/siwe'
import { UnauthenticatedError } from '../http/errors.js'

export type Session = {
  address: Address
  createdAt: number
  /** Absolute end (ms since epoch), whatever the activity. */
  expiresAt: number
  /** When the session ends if unused (ms since epoch). */
  idleExpiresAt: number
}

export type SessionTimes = { idleMs: number; absoluteMs: number; nonceTtlMs: number }

export type SessionStore = {
  issueNonce(): { nonce: string; expiresAt: number }
  /** True once per issued, unexpired nonce; false for unknown, expired or already used ones. */
  consumeNonce(nonce: string): boolean
  create(address: Address, notAfter?: number): { token: string; session: Session }
  /** The live session a token names; throws UnauthenticatedError (SESSION_EXPIRED when it timed out). */
  resolve(token: string): Session
  revoke(token: string): void
  /** Drops expired nonces and sessions. */
  sweep(): void
}

// A session's last use is written at most this often: a write per request would fsync per request.
const TOUCH_EVERY_MS = 15_000

export function createSessionStore(params: {
  db: DatabaseSync
  times: SessionTimes
  now?: () => number
}): SessionStore {
  const { db, times } = params
  const now = params.now ?? Date.now
  const hash = (token: string) => createHash('sha256').update(token).digest('hex')
  const insertNonce = db.prepare('INSERT INTO siwe_nonces (nonce, expires_at) VALUES (?, ?)')
  const deleteNonce = db.prepare('DELETE FROM siwe_nonces WHERE nonce = ? AND expires_at > ? RETURNING nonce')
  const insertSession = db.prepare(
    'INSERT INTO sessions (token_hash, address, created_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?)',
  )
  const selectSession = db.prepare('SELECT * FROM sessions WHERE token_hash = ?')
  const touchSession = db.prepare('UPDATE sessions SET last_seen = ? WHERE token_hash = ?')
  const deleteSession = db.prepare('DELETE FROM sessions WHERE token_hash = ?')

  return {
    issueNonce() {
      const nonce = generateSiweNonce()
      const expiresAt = now() + times.nonceTtlMs
      insertNonce.run(nonce, expiresAt)
      return { nonce, expiresAt }
    },
    consumeNonce(nonce) {
      // One statement, so two concurrent sign-ins with the same nonce cannot both succeed.
      return deleteNonce.get(nonce, now()) !== undefined
    },
    create(address, notAfter) {
      const token = randomBytes(32).toString('base64url')
      const createdAt = now()
      const expiresAt = Math.min(createdAt + times.absoluteMs, notAfter ?? Number.POSITIVE_INFINITY)
      insertSession.run(hash(token), address.toLowerCase(), createdAt, createdAt, expiresAt)
      return {
        token,
        session: {
          address: getAddress(address),
          createdAt,
          expiresAt,
          idleExpiresAt: Math.min(expiresAt, createdAt + times.idleMs),
        },
      }
    },
    resolve(token) {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw new UnauthenticatedError('Invalid session token')
      const key = hash(token)
      const row = selectSession.get(key) as
        | { address: string; created_at: number; last_seen: number; expires_at: number }
        | undefined
      if (!row) throw new UnauthenticatedError('Unknown or ended session')
      const at = now()
      if (at >= row.expires_at || at >= row.last_seen + times.idleMs) {
        deleteSession.run(key)
        throw new UnauthenticatedError('Session expired; sign in again', undefined, 'SESSION_EXPIRED')
      }
      let lastSeen = row.last_seen
      if (at - row.last_seen >= Math.min(TOUCH_EVERY_MS, times.idleMs / 4)) {
        touchSession.run(at, key)
        lastSeen = at
      }
      return {
        address: getAddress(row.address),
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        idleExpiresAt: Math.min(row.expires_at, lastSeen + times.idleMs),
      }
    },
    revoke(token) {
      deleteSession.run(hash(token))
    },
    sweep() {
      const at = now()
      db.prepare('DELETE FROM siwe_nonces WHERE expires_at <= ?').run(at)
      db.prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_seen + ? <= ?').run(at, times.idleMs, at)
    },
  }
}
