import type { ReportResult } from '@pcmims/core'

const FLAG_WORDS: Record<string, string> = {
  H: 'High',
  L: 'Low',
  HH: 'Critically high',
  LL: 'Critically low',
  HU: 'Very high',
  LU: 'Very low',
  A: 'Abnormal',
  AA: 'Critically abnormal',
  N: 'Normal',
  POS: 'Positive',
  NEG: 'Negative',
}

/** Out of range when the flag says anything but normal (or negative). */
export function isFlagged(result: ReportResult): boolean {
  return result.flag !== undefined && !['N', 'NEG'].includes(result.flag.toUpperCase())
}

export function flagText(flag: string | undefined): string {
  if (!flag) return ''
  return FLAG_WORDS[flag.toUpperCase()] ?? flag
}

export function rangeText(result: ReportResult): string {
  if (result.range) return result.range
  const { low, high } = result
  if (low !== undefined && high !== undefined) return `${low} – ${high}`
  if (low !== undefined) return `≥ ${low}`
  if (high !== undefined) return `≤ ${high}`
  return ''
}

function rangeWithUnit(result: ReportResult): string {
  const range = rangeText(result)
  return range && result.unit && !range.includes(result.unit) ? `${range} ${result.unit}` : range
}

/** Lab results with reference ranges; out-of-range rows are marked in words, not by colour alone. */
export function LabTable(props: { results: ReportResult[]; truncated?: number | undefined }) {
  const flagged = props.results.filter(isFlagged).length
  const computed = props.results.some((r) => r.flagSource === 'computed')
  return (
    <section className="lab-results" aria-labelledby="lab-results-title">
      <h3 id="lab-results-title">Results</h3>
      <p className="hint">
        {props.results.length} {props.results.length === 1 ? 'result' : 'results'},{' '}
        {flagged === 0 ? 'none out of range' : `${flagged} out of range`}.
      </p>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Test</th>
              <th scope="col">Result</th>
              <th scope="col">Flag</th>
              <th scope="col">Reference range</th>
            </tr>
          </thead>
          <tbody>
            {props.results.map((result, index) => {
              const out = isFlagged(result)
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: results have no id and never reorder
                <tr key={index} className={out ? 'lab-flagged' : undefined}>
                  <th
                    scope="row"
                    style={result.level ? { paddingLeft: `${0.75 + result.level}rem` } : undefined}
                  >
                    {result.name}
                  </th>
                  <td className="lab-value">
                    {result.value ?? result.numericValue ?? ''}
                    {result.unit ? <span className="lab-unit"> {result.unit}</span> : null}
                  </td>
                  <td>
                    {result.flag ? (
                      <span className={`badge ${out ? 'badge-danger' : 'badge-ok'}`}>
                        {out ? '⚠ ' : ''}
                        {flagText(result.flag)} ({result.flag}){result.flagSource === 'computed' ? '*' : ''}
                      </span>
                    ) : (
                      ''
                    )}
                  </td>
                  <td>{rangeWithUnit(result)}</td>
                </tr>
              )
            })}
          </tbody>
        </table>
      </div>
      {computed ? (
        <p className="hint">
          * Flag computed by PCMIMS from the value and the reference range; the lab sent none.
        </p>
      ) : null}
      {props.truncated ? (
        <p className="hint">{props.truncated} more results are in the original file.</p>
      ) : null}
    </section>
  )
}
