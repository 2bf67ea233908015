import { useId } from 'react'

export type DateRange = { from: string; to: string }

/** "From" and "To" date fields of a list's filters (ISO dates; empty means open-ended). */
export function DateRangeFields(props: { value: DateRange; onChange: (change: Partial<DateRange>) => void }) {
  const id = useId()
  return (
    <>
      <div className="filter-date">
        <label htmlFor={`${id}-from`}>From</label>
        <input
          id={`${id}-from`}
          type="date"
          value={props.value.from}
          onChange={(e) => props.onChange({ from: e.target.value })}
        />
      </div>
      <div className="filter-date">
        <label htmlFor={`${id}-to`}>To</label>
        <input
          id={`${id}-to`}
          type="date"
          value={props.value.to}
          onChange={(e) => props.onChange({ to: e.target.value })}
        />
      </div>
    </>
  )
}
