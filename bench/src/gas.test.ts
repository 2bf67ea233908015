import { describe, expect, it } from 'vitest'
import { formatGasTable, runGasBench } from './gas.js'

describe('runGasBench (small run)', () => {
  it('measures both contracts side by side and keeps our gas where it was', {
    timeout: 120_000,
  }, async () => {
    const result = await runGasBench({ samples: 2, studyInstances: 3 })
    const row = (prefix: string) => {
      const found = result.rows.find((r) => r.operation.startsWith(prefix))
      if (!found) throw new Error(`no row ${prefix}`)
      return found
    }
    const anchor = row('anchor one record: steady')
    expect(anchor.seedPaper).toBeGreaterThan(300_000) // the paper writes ~18 fresh slots per image
    expect(anchor.ours).toBeLessThan(56_000)
    expect(anchor.ratio).toBeCloseTo(anchor.ours / anchor.seedPaper!, 3)
    expect(row('anchorRecords batch of 20').ours).toBeLessThan(29_000)
    expect(row('grant scope All').ours).toBeLessThanOrEqual(50_000)
    expect(row('revoke').ours).toBeLessThanOrEqual(30_000)
    const study = row('one 3-instance CT study (ours')
    expect(study.seedPaper).toBeGreaterThan(3 * 300_000)
    expect(result.targets.find((t) => t.what === 'revoke')?.met).toBe(true)
    expect(result.targets.find((t) => t.what.startsWith('grant'))?.met).toBe(true)
    // A de-identified copy: two fresh slots (the record and its audience) and one event.
    expect(row('anchorDeidentifiedCopy (relayed').ours).toBeLessThan(90_000)
    // The copy rule must not make the access views of ordinary records dearer (measured 31.6k in session 3).
    expect(row('accessOf view, grantee with a Kinds grant').ours).toBeLessThan(33_000)
    expect(formatGasTable(result)).toContain('seed paper')
  })
})
