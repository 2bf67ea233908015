import type { Address } from 'viem'

export type RecordListProps = {
  /** Whose records: the signed-in patient's own when absent. */
  patient?: Address | undefined
  /** Shown when the list is empty. */
  emptyTitle?: string | undefined
}

/** A patient's records (images and reports) with filters; each opens in the viewer or report view. */
export function RecordList(props: RecordListProps) {
  return <p>Records of {props.patient ?? 'me'}: to be built.</p>
}
