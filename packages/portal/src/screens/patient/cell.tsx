import type { ReactNode } from 'react'

/** A table cell that, on a phone, shows as "label: value" (the value in one block beside its label). */
export function Cell(props: { label: string; children: ReactNode }) {
  return (
    <td data-label={props.label}>
      <div>{props.children}</div>
    </td>
  )
}
