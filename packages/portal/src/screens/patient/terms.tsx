import { getChainTime, type PcmimsClient } from '@pcmims/core'
import { useId } from 'react'

// The contract judges expiry by the block that includes the grant (core's MIN_GRANT_SECONDS).
const MIN_GRANT_SECONDS = 60

export const DURATIONS = [
  { id: '1h', label: '1 hour', seconds: 3600 },
  { id: '1d', label: '1 day', seconds: 86_400 },
  { id: '7d', label: '7 days', seconds: 7 * 86_400 },
  { id: '30d', label: '30 days', seconds: 30 * 86_400 },
  { id: 'custom', label: 'Until a date…', seconds: 0 },
] as const

export type DurationChoice = { preset: (typeof DURATIONS)[number]['id']; until: string }

/** How long a grant lasts: presets, or a chosen date and time. */
export function DurationPicker(props: { value: DurationChoice; onChange: (value: DurationChoice) => void }) {
  const id = useId()
  return (
    <fieldset>
      <legend>How long</legend>
      <div className="choice-row">
        {DURATIONS.map((d) => (
          <label key={d.id} className="choice">
            <input
              type="radio"
              name={`${id}-duration`}
              value={d.id}
              checked={props.value.preset === d.id}
              onChange={() => props.onChange({ ...props.value, preset: d.id })}
            />
            {d.label}
          </label>
        ))}
      </div>
      {props.value.preset === 'custom' ? (
        <>
          <label htmlFor={`${id}-until`}>Until</label>
          <input
            id={`${id}-until`}
            type="datetime-local"
            value={props.value.until}
            onChange={(event) => props.onChange({ ...props.value, until: event.target.value })}
          />
        </>
      ) : null}
    </fieldset>
  )
}

/** The expiry (unix seconds) for a choice, counted from the chain's clock, which judges it. */
export async function expiryOf(client: PcmimsClient, choice: DurationChoice): Promise<number> {
  // The chain compares with its next block's time: the wall clock, unless the chain runs ahead of it (a
  // test chain moved forward). The latest block may be old on a quiet chain, so it alone would cut grants short.
  const now = Math.max(await getChainTime(client.publicClient), Math.floor(Date.now() / 1000))
  if (choice.preset !== 'custom') {
    const preset = DURATIONS.find((d) => d.id === choice.preset)
    return now + (preset?.seconds ?? 86_400)
  }
  const at = Math.floor(new Date(choice.until).getTime() / 1000)
  if (!Number.isFinite(at)) throw new Error('Choose the date and time the access ends')
  if (at < now + MIN_GRANT_SECONDS) throw new Error('The end must be at least a minute from now')
  return at
}

/** A duration choice for a grant that ends at `expiresAt` (custom, pre-filled with that moment). */
export function choiceUntil(expiresAt: number): DurationChoice {
  const date = new Date(expiresAt * 1000)
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16)
  return { preset: 'custom', until: local }
}

export const DEFAULT_DURATION: DurationChoice = { preset: '1d', until: '' }
