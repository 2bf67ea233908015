import type { OpenedRecord } from '@pcmims/core'
import { useState } from 'react'
import { useSession } from '../session/session-context.js'
import { describeError } from '../ui/errors.js'
import { formatBytes } from '../ui/format.js'
import { DownloadNote } from './access-note.js'
import { readFileBytes, saveBytes } from './read-file.js'

/** A record the portal cannot display (no images, no report summary): its files, to download if allowed. */
export function FileList(props: { record: OpenedRecord }) {
  const { client } = useSession()
  const { record } = props
  const [busy, setBusy] = useState<string | undefined>()
  const [note, setNote] = useState<string | undefined>()
  const download = async (index: number) => {
    const file = record.manifest.files[index]!
    setBusy(`Decrypting ${file.path}…`)
    try {
      const bytes = await readFileBytes(client, record, file)
      saveBytes(bytes, file.path.split('/').pop() ?? 'file', file.mediaType)
      setNote(`${file.path} downloaded.`)
    } catch (error) {
      setNote(`Download failed: ${describeError(error).title}`)
    } finally {
      setBusy(undefined)
    }
  }
  return (
    <div className="record-files">
      <p>The portal has no view for this record&apos;s files.</p>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Type</th>
              <th scope="col">Size</th>
            </tr>
          </thead>
          <tbody>
            {record.manifest.files.map((file) => (
              <tr key={file.path}>
                <td>
                  <code>{file.path}</code>
                </td>
                <td>{file.mediaType}</td>
                <td>{formatBytes(file.size)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <DownloadNote
        access={record.access}
        busy={busy}
        note={note}
        actions={record.manifest.files.map((file, index) => ({
          label: `Download ${file.path}`,
          run: () => download(index),
        }))}
      />
    </div>
  )
}
