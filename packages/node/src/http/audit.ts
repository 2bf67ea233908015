import type { AuditAction } from '@pcmims/core'
import type { Context } from 'hono'
import { type Address, getAddress, type Hex } from 'viem'
import type { NodeContext } from '../context.js'
import { HttpError } from './errors.js'
import { clientIp } from './rate-limit.js'

export type AuditFacts = {
  action: AuditAction
  actor: Address | null
  recordId?: Hex | null | undefined
  patient?: Address | null | undefined
  actorRole?: string | null | undefined
  detail?: string | null | undefined
}

/** The client's address in the form the audit log keeps (IPv4-mapped IPv6 shown as IPv4). */
export function auditSource(c: Context): string {
  const ip = clientIp(c)
  if (!ip) return 'unknown'
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip
}

/** Appends one entry about a request this node served (or refused). */
export function recordAudit(
  c: Context,
  ctx: NodeContext,
  facts: AuditFacts,
  outcome: 'success' | 'denied' | 'error' = 'success',
): void {
  try {
    ctx.audit.append({
      action: facts.action,
      actor: facts.actor,
      actorRole: facts.actorRole ?? null,
      recordId: facts.recordId ?? null,
      patient: facts.patient ?? null,
      source: auditSource(c),
      outcome,
      detail: facts.detail ?? null,
    })
  } catch (error) {
    // The trail must not silently miss a read: a failure to record it fails the request.
    ctx.logger.error(
      { err: { message: (error as Error).message }, action: facts.action },
      'audit append failed',
    )
    throw error
  }
}

/**
 * Runs `serve` and records its outcome: success, or denied (a 401/403/404 the caller earned) with the
 * error's code, or error. The entry is appended before the answer leaves, so no served read goes
 * unrecorded; `facts` may be completed by `serve` (the patient, once the record is known).
 */
export async function audited<T>(
  c: Context,
  ctx: NodeContext,
  facts: AuditFacts,
  serve: (facts: AuditFacts) => Promise<T>,
): Promise<T> {
  try {
    const result = await serve(facts)
    recordAudit(c, ctx, facts, 'success')
    return result
  } catch (error) {
    const status = error instanceof HttpError ? error.status : undefined
    const denied = status === 401 || status === 403 || status === 404
    // Chain outages (503) and server faults are logged, not audited as a decision about the caller.
    if (denied) recordAudit(c, ctx, { ...facts, detail: auditCode(error) }, 'denied')
    throw error
  }
}

function auditCode(error: unknown): string {
  const code = (error as { code?: string }).code ?? 'DENIED'
  return code.replace(/[^A-Za-z0-9._:-]/g, '').slice(0, 64) || 'DENIED'
}

/** The record's patient as indexed, so a refused read still shows in that patient's trail. */
export function patientOfRecord(ctx: NodeContext, recordId: Hex): Address | null {
  const row = ctx.db.prepare('SELECT patient FROM records WHERE id = ?').get(recordId.toLowerCase()) as
    | { patient: string }
    | undefined
  return row ? (getAddress(row.patient) as Address) : null
}
