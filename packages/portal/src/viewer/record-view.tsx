import type { Hex } from 'viem'

export type RecordViewProps = { recordId: Hex; title?: string | undefined; onClose: () => void }

export default function RecordView(props: RecordViewProps) {
  return (
    <div role="dialog" aria-modal="true" aria-label="Record">
      <p>Record {props.title ?? props.recordId}: viewer to be built.</p>
      <button type="button" onClick={props.onClose}>
        Close
      </button>
    </div>
  )
}
