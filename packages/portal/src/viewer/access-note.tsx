import type { RecordAccess } from '@pcmims/core'

export type DownloadAction = { label: string; run: () => void | Promise<void> }

/**
 * Download controls for those the patient allowed to download (the patient, the custodian unit,
 * download grantees); for everyone else, what the limit is and what it is not.
 */
export function DownloadNote(props: {
  access: RecordAccess
  actions: DownloadAction[]
  busy?: string | undefined
  note?: string | undefined
}) {
  if (!props.access.download) {
    return (
      <div className="notice view-only" role="note">
        <strong>View only: the patient did not allow downloads.</strong>{' '}
        <span className="hint">
          This limit is kept by the portal, not by cryptography: the record&apos;s key is in your browser
          while you view it.
        </span>
      </div>
    )
  }
  return (
    <div className="viewer-downloads">
      <div className="actions">
        {props.actions.map((action) => (
          <button key={action.label} type="button" disabled={!!props.busy} onClick={() => void action.run()}>
            {action.label}
          </button>
        ))}
      </div>
      <p className="hint" aria-live="polite">
        {props.busy ?? props.note ?? 'Downloads are decrypted in your browser and saved to this device.'}
      </p>
    </div>
  )
}
