import type { DatabaseSync } from 'node:sqlite'
import type { pcmimsAbi } from '@pcmims/core'
import type { Address, ParseEventLogsReturnType } from 'viem'
import type { AuditEntryInput, AuditLog } from './audit-log.js'

export type PcmimsEvent = ParseEventLogsReturnType<typeof pcmimsAbi, undefined, true>[number]

/**
 * What the audit trail says about a chain event the indexer saw: grant changes, requests, emergencies
 * and registration decisions (the node did not serve these, but a patient's trail must show them).
 */
export function auditEntryForEvent(event: PcmimsEvent): AuditEntryInput | undefined {
  const chain = { source: 'chain', outcome: 'success' } as const
  switch (event.eventName) {
    case 'GrantSet':
      return {
        ...chain,
        action: 'grant.set',
        actor: event.args.patient,
        actorRole: 'patient',
        patient: event.args.patient,
        detail: `to:${event.args.grantee.toLowerCase()}`,
      }
    case 'GrantRevoked':
      return {
        ...chain,
        action: 'grant.revoke',
        actor: event.args.patient,
        actorRole: 'patient',
        patient: event.args.patient,
        detail: `to:${event.args.grantee.toLowerCase()}`,
      }
    case 'AccessRequested':
      return {
        ...chain,
        action: 'request.create',
        actor: event.args.requestor,
        actorRole: 'requestor',
        patient: event.args.patient,
        detail: `request:${event.args.id}`,
      }
    case 'EmergencyDeclared':
      return {
        ...chain,
        action: 'emergency.declare',
        actor: event.args.medic,
        actorRole: 'medic',
        patient: event.args.patient,
        detail: `reason:${event.args.reasonCode}:until:${event.args.until}`,
      }
    case 'EmergencyEnded':
      return {
        ...chain,
        action: 'emergency.end',
        actor: event.args.medic,
        actorRole: 'medic',
        patient: event.args.patient,
      }
    case 'RecordAnchored':
      return {
        ...chain,
        action: 'record.anchor',
        actor: event.args.uploader,
        actorRole: 'uploader',
        recordId: event.args.id,
        patient: event.args.patient,
      }
    default:
      return undefined
  }
}

/**
 * Appends the audit entries of indexed events, once each: a rebuilt index (after a rollback) replays
 * events, and the trail must not say twice that something happened once. Runs inside the indexer's
 * transaction, so an event is indexed and audited together or not at all.
 */
export function auditChainEvents(
  db: DatabaseSync,
  audit: AuditLog,
  events: readonly PcmimsEvent[],
  lookups: {
    patientOfRequest: (id: bigint) => Address | undefined
    patientOfRecord: (id: `0x${string}`) => Address | undefined
  },
): void {
  const seen = db.prepare('INSERT OR IGNORE INTO audit_chain_events (key) VALUES (?)')
  for (const event of events) {
    let input = auditEntryForEvent(event)
    if (!input && (event.eventName === 'RequestApproved' || event.eventName === 'RequestDenied')) {
      const patient = lookups.patientOfRequest(event.args.id)
      input = {
        source: 'chain',
        outcome: 'success',
        action: event.eventName === 'RequestApproved' ? 'request.approve' : 'request.deny',
        actor: patient ?? null,
        actorRole: 'patient',
        patient: patient ?? null,
        detail: `request:${event.args.id}`,
      }
    }
    if (!input && event.eventName === 'DeidentifiedCopyAnchored') {
      const patient = lookups.patientOfRecord(event.args.id) ?? null
      input = {
        source: 'chain',
        outcome: 'success',
        action: 'record.anchor',
        actor: patient,
        actorRole: 'patient',
        recordId: event.args.id,
        patient,
        detail: 'deidentified-copy',
      }
    }
    if (!input && event.eventName === 'RecordRotated') {
      // Indexed before this runs (same transaction), so the new record's patient is known.
      const patient = lookups.patientOfRecord(event.args.newId) ?? null
      input = {
        source: 'chain',
        outcome: 'success',
        action: 'record.anchor',
        actor: patient,
        actorRole: 'patient',
        recordId: event.args.newId,
        patient,
        detail: 'rotation',
      }
    }
    if (!input) continue
    if (seen.run(`${event.transactionHash}:${event.logIndex}`).changes === 0) continue
    audit.append(input)
  }
}
