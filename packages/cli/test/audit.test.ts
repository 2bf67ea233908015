import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCli, startTestNode, type TestNode } from '@pcmims/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const FIXTURE = fileURLToPath(new URL('../../../fixtures/dicom/valid/MR_small.dcm', import.meta.url))

/** The report a failed verification still prints on stdout (the error goes to stderr). */
const reportOf = (run: { stdout: string }) => JSON.parse(run.stdout) as Verified

type Verified = {
  ok: boolean
  counts: { verified: number; unanchored: number; failed: number }
  problems: string[]
  firstBroken?: { seq: number; kind: string; message: string }
  entries: Array<{ seq: number; action: string; status: string }>
}

/** `pcmims audit --verify` on a real node and chain: passes untouched, fails naming the entry when tampered. */
describe('pcmims audit', () => {
  let t: TestNode
  const account = (role: string) => t.node.devAccounts.find((a) => a.role === role)!
  const as = (role: string, args: string[]) =>
    runCli([...args, '--json', '--node', t.node.url, '--keystore', account(role).keystore], {
      PCMIMS_PASSPHRASE: account(role).passphrase,
    })
  let recordId: string

  async function anchor(): Promise<void> {
    const anchored = await as('unit', ['audit', '--anchor'])
    expect(anchored.code, anchored.stderr).toBe(0)
    expect(anchored.json.anchored).toBe(true)
  }

  beforeAll(async () => {
    t = await startTestNode({ config: { audit: { anchorIntervalS: 0 } } })
    const upload = await as('uploader', [
      'upload',
      '--patient',
      account('patient').address,
      '--kind',
      'MRI',
      FIXTURE,
    ])
    expect(upload.code, upload.stderr).toBe(0)
    recordId = upload.json.recordId as string
    expect((await as('patient', ['get', recordId, '--out', join(t.dataDir, 'p-out')])).code).toBe(0)
    // Someone the patient never allowed asks the node anyway: refused, and the patient's trail shows it.
    const requestor = await t.clientFor(t.dev.requestor!)
    const refused = await requestor.node
      .raw('GET', `/api/v1/records/${recordId}`)
      .catch((e: { status: number }) => e)
    expect((refused as { status: number }).status).toBe(403)
    expect(
      (await as('patient', ['grant', '--to', account('medic').address, '--kind', 'MRI', '--expires', '1d']))
        .code,
    ).toBe(0)
    expect((await as('medic', ['get', recordId, '--out', join(t.dataDir, 'm-out')])).code).toBe(0)
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('nothing anchored is not a pass; the operator anchors on demand, nobody else', async () => {
    const early = await as('patient', ['audit', '--verify'])
    expect(early.code).toBe(1)
    expect(JSON.parse(early.stderr).error.code).toBe('AUDIT_NOT_ANCHORED')
    expect(JSON.parse(early.stdout)).toMatchObject({ ok: false, verifiable: false })
    const refused = await as('patient', ['audit', '--anchor'])
    expect(refused.code).toBe(1)
    await anchor()
  })

  it('lists who did what to the patient’s records, and verifies it against the chain', async () => {
    const listed = await as('patient', ['audit'])
    expect(listed.code, listed.stderr).toBe(0)
    const entries = listed.json.entries as Array<{
      action: string
      actor: string
      outcome: string
      recordId: string
    }>
    const medic = account('medic').address.toLowerCase()
    const requestor = account('requestor').address.toLowerCase()
    expect(
      entries.some((e) => e.action === 'record.read' && e.actor === medic && e.outcome === 'success'),
    ).toBe(true)
    expect(
      entries.some(
        (e) =>
          String(e.actor).toLowerCase() === requestor && e.outcome === 'denied' && e.recordId === recordId,
      ),
    ).toBe(true)
    expect(entries.some((e) => e.action === 'grant.set')).toBe(true)
    expect(
      entries.some((e) => e.action === 'key-bundle.release' && String(e.actor).toLowerCase() === medic),
    ).toBe(true)
    expect(entries.some((e) => e.action === 'record.anchor')).toBe(true)

    const verified = await as('patient', ['audit', '--verify'])
    expect(verified.code, verified.stderr).toBe(0)
    const report = verified.json as unknown as Verified
    expect(report.ok).toBe(true)
    expect(report.counts.failed).toBe(0)
    expect(report.counts.verified).toBeGreaterThanOrEqual(entries.length - 1)
    const whole = await as('unit', ['audit', '--verify', '--all'])
    expect(whole.code, whole.stderr).toBe(0)
    // Only the unit's operator reads the whole log.
    expect((await as('patient', ['audit', '--all'])).code).toBe(1)
  })

  it('fails naming the entry after an edit, a deletion and a reordering of the stored log', async () => {
    const db = t.node.context.db
    const rows = db.prepare('SELECT * FROM audit_entries ORDER BY seq').all() as Array<
      Record<string, string | number>
    >
    const patient = account('patient').address.toLowerCase()
    const medic = account('medic').address.toLowerCase()
    const target = rows.find((r) => r.patient === patient && r.action === 'record.read' && r.actor === medic)!
    const seq = Number(target.seq)
    const restore = () => {
      db.exec('DELETE FROM audit_entries')
      const insert = db.prepare(
        'INSERT INTO audit_entries (seq, patient, actor, record_id, action, entry, hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      for (const r of rows)
        insert.run(r.seq!, r.patient!, r.actor!, r.record_id!, r.action!, r.entry!, r.hash!)
    }

    // Edit: who read the record is rewritten to look like the patient.
    const edited = JSON.parse(String(target.entry)) as Record<string, unknown>
    edited.actor = patient
    db.prepare('UPDATE audit_entries SET entry = ? WHERE seq = ?').run(JSON.stringify(edited), seq)
    const afterEdit = await as('patient', ['audit', '--verify'])
    expect(afterEdit.code).toBe(1)
    expect(JSON.parse(afterEdit.stderr).error.code).toBe('AUDIT_VERIFICATION_FAILED')
    const editReport = reportOf(afterEdit)
    expect(editReport.entries.find((e) => e.seq === seq)?.status).toBe('failed')
    expect(editReport.problems.join('\n')).toContain(`${seq}`)
    const editAll = await as('unit', ['audit', '--verify', '--all'])
    expect(editAll.code).toBe(1)
    expect(reportOf(editAll).firstBroken).toMatchObject({ seq, kind: 'edited' })
    restore()
    expect((await as('patient', ['audit', '--verify'])).code).toBe(0)

    // Delete: the entry disappears from the stored log.
    db.prepare('DELETE FROM audit_entries WHERE seq = ?').run(seq)
    const afterDelete = await as('patient', ['audit', '--verify'])
    expect(afterDelete.code).toBe(1)
    const deleteAll = await as('unit', ['audit', '--verify', '--all'])
    expect(deleteAll.code).toBe(1)
    expect(reportOf(deleteAll).firstBroken).toMatchObject({ seq, kind: 'missing' })
    expect(reportOf(deleteAll).firstBroken?.message).toMatch(new RegExp(`entry ${seq} is missing`))
    restore()

    // Reorder: two entries swap places.
    const other = rows.find((r) => Number(r.seq) === seq + 1)!
    const swap = db.prepare(
      'UPDATE audit_entries SET patient = ?, actor = ?, record_id = ?, action = ?, entry = ?, hash = ? WHERE seq = ?',
    )
    swap.run(other.patient!, other.actor!, other.record_id!, other.action!, other.entry!, other.hash!, seq)
    swap.run(
      target.patient!,
      target.actor!,
      target.record_id!,
      target.action!,
      target.entry!,
      target.hash!,
      seq + 1,
    )
    const afterSwap = await as('patient', ['audit', '--verify'])
    expect(afterSwap.code).toBe(1)
    const swapAll = await as('unit', ['audit', '--verify', '--all'])
    expect(swapAll.code).toBe(1)
    expect(reportOf(swapAll).firstBroken).toMatchObject({ seq, kind: 'out-of-order' })
    restore()
    expect((await as('unit', ['audit', '--verify', '--all'])).code).toBe(0)
  })
})
