import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from './logger.js'

describe('logger', () => {
  it('never writes PHI-bearing fields', () => {
    const lines: string[] = []
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk))
        done()
      },
    })
    const log = createLogger({ destination })
    log.info(
      { patientName: 'Zebulon Quark', upload: { mrn: 'MRN-1', files: { path: 'Quark^Zebulon.dcm' } }, ok: 1 },
      'upload',
    )
    const text = lines.join('')
    expect(text).toContain('"ok":1')
    expect(text).not.toMatch(/Zebulon|MRN-1|Quark/)
  })
})
