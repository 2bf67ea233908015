import { sha256 } from '@noble/hashes/sha2.js'
import fc from 'fast-check'
import { bytesToHex } from 'viem'
import { describe, expect, it } from 'vitest'
import {
  AUDIT_ACTIONS,
  AUDIT_ZERO_HASH,
  type AuditEntry,
  auditEntryHash,
  auditLeafHash,
  canonicalAuditEntryJson,
  encodeAuditEntry,
  InvalidAuditEntryError,
  parseAuditEntry,
} from './audit-entry.js'
import { merkleLeafHash } from './merkle.js'

const base: AuditEntry = {
  seq: 0,
  time: '2025-01-31T12:00:00.000Z',
  actor: null,
  actorRole: null,
  action: 'session.sign-in',
  recordId: null,
  patient: null,
  source: '127.0.0.1',
  outcome: 'denied',
  detail: 'bad-signature',
  prevHash: AUDIT_ZERO_HASH,
}

describe('canonical encoding', () => {
  it('is the fixed-order JSON of the fields (known answer)', () => {
    const entry: AuditEntry = {
      ...base,
      seq: 7,
      actor: '0xAbCdEf0123456789aBcDeF0123456789AbCdEf01' as AuditEntry['actor'],
      actorRole: 'medic',
      action: 'record.read',
      recordId: `0x${'AB'.repeat(32)}`,
      patient: '0x1111111111111111111111111111111111111111',
      source: '::ffff:10.0.0.1',
      outcome: 'success',
      detail: null,
      prevHash: `0x${'12'.repeat(32)}`,
    }
    const json =
      '{"seq":7,"time":"2025-01-31T12:00:00.000Z","actor":"0xabcdef0123456789abcdef0123456789abcdef01",' +
      '"actorRole":"medic","action":"record.read","recordId":"0x' +
      'ab'.repeat(32) +
      '","patient":"0x1111111111111111111111111111111111111111","source":"::ffff:10.0.0.1",' +
      '"outcome":"success","detail":null,"prevHash":"0x' +
      '12'.repeat(32) +
      '"}'
    expect(canonicalAuditEntryJson(entry)).toBe(json)
    expect(new TextDecoder().decode(encodeAuditEntry(entry))).toBe(json)
    const hash = bytesToHex(sha256(new TextEncoder().encode(json)))
    expect(auditEntryHash(entry)).toBe(hash)
    // Frozen: changing the encoding would invalidate every anchored log.
    expect(auditEntryHash(base)).toBe('0x3b3848bbed327f37aae7049c60e2b482404d912fd041a5067a56aa941e9e832b')
    expect(bytesToHex(auditLeafHash(hash))).toBe(
      bytesToHex(merkleLeafHash(sha256(new TextEncoder().encode(json)))),
    )
  })

  it('does not depend on key order or letter case of the input', () => {
    const shuffled = Object.fromEntries(
      Object.entries({ ...base, seq: 3, prevHash: `0x${'AA'.repeat(32)}` }).reverse(),
    )
    expect(canonicalAuditEntryJson(shuffled as AuditEntry)).toBe(
      canonicalAuditEntryJson({ ...base, seq: 3, prevHash: `0x${'aa'.repeat(32)}` }),
    )
  })

  it('any change of any field changes the hash', () => {
    const entryArb = fc.record({
      seq: fc.integer({ min: 1, max: 1_000_000 }),
      time: fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString()),
      actor: fc.option(fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => bytesToHex(b))),
      actorRole: fc.option(fc.constantFrom('patient', 'medic', 'unit', 'requestor')),
      action: fc.constantFrom(...AUDIT_ACTIONS),
      recordId: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b))),
      patient: fc.option(fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => bytesToHex(b))),
      source: fc.oneof(fc.constant('chain'), fc.ipV4(), fc.ipV6()),
      outcome: fc.constantFrom('success', 'denied', 'error'),
      detail: fc.option(fc.stringMatching(/^[a-z0-9-]{1,20}$/)),
      prevHash: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b)),
    })
    fc.assert(
      fc.property(entryArb, entryArb, fc.nat(10), (a, b, i) => {
        const entry = parseAuditEntry(a)
        const field = Object.keys(a)[i] as keyof AuditEntry
        const changed = parseAuditEntry({ ...entry, [field]: b[field] })
        const same = canonicalAuditEntryJson(changed) === canonicalAuditEntryJson(entry)
        expect(auditEntryHash(changed) === auditEntryHash(entry)).toBe(same)
        // Round trip through the canonical JSON.
        expect(parseAuditEntry(JSON.parse(canonicalAuditEntryJson(entry)))).toEqual(entry)
      }),
    )
  })
})

describe('schema', () => {
  it('refuses bad entries with a typed error naming the field', () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ ...base, extra: 1 }, ''],
      [{ ...base, seq: -1 }, 'seq'],
      [{ ...base, seq: 1.5 }, 'seq'],
      [{ ...base, time: '2025-01-31T12:00:00Z' }, 'time'],
      [{ ...base, time: '2025-02-30T12:00:00.000Z' }, 'time'],
      [{ ...base, time: '2025-01-31T12:00:00.000+01:00' }, 'time'],
      [{ ...base, actor: '0x123' }, 'actor'],
      [{ ...base, action: 'record.delete' }, 'action'],
      [{ ...base, recordId: '0x12' }, 'recordId'],
      [{ ...base, source: 'somewhere' }, 'source'],
      [{ ...base, outcome: 'maybe' }, 'outcome'],
      [{ ...base, detail: 'John Smith' }, 'detail'],
      [{ ...base, detail: 'x'.repeat(65) }, 'detail'],
      [{ ...base, actorRole: 'a role' }, 'actorRole'],
      [{ ...base, prevHash: `0x${'11'.repeat(32)}` }, 'prevHash'],
      [{ ...base, seq: 1 }, 'prevHash'],
    ]
    for (const [value, field] of bad) {
      const error = (() => {
        try {
          parseAuditEntry(value)
        } catch (e) {
          return e
        }
        return undefined
      })()
      expect(error, JSON.stringify(value)).toBeInstanceOf(InvalidAuditEntryError)
      expect((error as InvalidAuditEntryError).code).toBe('INVALID_AUDIT_ENTRY')
      if (field) expect((error as InvalidAuditEntryError).details).toContain(field)
    }
  })

  it('accepts the sources a node sees', () => {
    for (const source of ['chain', 'unknown', '127.0.0.1', '::1', '::ffff:127.0.0.1', '2001:db8::1']) {
      expect(parseAuditEntry({ ...base, source }).source).toBe(source)
    }
  })
})
