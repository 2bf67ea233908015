import type { RecordManifest } from '@pcmims/core'
import type { ViewerInstance, ViewerSeries } from './series.js'

/**
 * What the sealed manifest says about the patient, study, series and image on screen. Shown here only:
 * this is PHI, never logged and never put in a URL.
 */
export function MetadataPanel(props: {
  manifest: RecordManifest
  series: ViewerSeries | undefined
  instance: ViewerInstance | undefined
  frame: number | undefined
}) {
  const study = props.manifest.study
  const meta = props.instance?.meta
  const groups: Array<[string, Array<[string, string | number | undefined]>]> = [
    [
      'Patient',
      [
        ['Name', dicomName(study?.patient.name ?? props.manifest.patient.name)],
        ['Patient ID', study?.patient.id ?? props.manifest.patient.mrn],
        ['Birth date', dicomDate(study?.patient.birthDate ?? props.manifest.patient.birthDate)],
        ['Sex', study?.patient.sex],
      ],
    ],
    [
      'Study',
      [
        ['Description', study?.studyDescription ?? props.manifest.description],
        ['Date', dicomDate(study?.studyDate) ?? props.manifest.date.slice(0, 10)],
        ['Accession', study?.accessionNumber],
        ['Referring physician', dicomName(study?.referringPhysicianName)],
        ['Modalities', study?.modalities.join(', ')],
        ['Series / images', study ? `${study.numberOfSeries} / ${study.numberOfInstances}` : undefined],
        ['Appointment', props.manifest.appointment],
      ],
    ],
    [
      'Series',
      [
        ['Number', props.series?.number],
        ['Modality', props.series?.modality],
        ['Description', props.series?.description],
        ['Images', props.series?.images.length],
      ],
    ],
    [
      'Image',
      [
        ['Instance number', meta?.instanceNumber],
        ['Frame', props.frame !== undefined ? `${props.frame} of ${props.instance?.frames}` : undefined],
        ['Size', meta?.rows && meta.columns ? `${meta.columns} × ${meta.rows}` : undefined],
        ['Bits stored', meta?.bitsStored],
        ['Photometric', meta?.photometricInterpretation],
        [
          'Window (file)',
          meta?.windowWidth?.length ? `W ${meta.windowWidth[0]} / L ${meta.windowCenter?.[0]}` : undefined,
        ],
        ['Transfer syntax', meta?.transferSyntaxUid],
        ['SOP instance UID', meta?.sopInstanceUid],
        ['File', props.instance?.file.path],
      ],
    ],
  ]
  return (
    <aside className="viewer-details" aria-labelledby="viewer-details-title">
      <h3 id="viewer-details-title">Image details</h3>
      {groups.map(([title, rows]) => {
        const shown = rows.filter(([, value]) => value !== undefined && value !== '')
        if (shown.length === 0) return null
        return (
          <section key={title}>
            <h4>{title}</h4>
            <dl className="facts">
              {shown.map(([label, value]) => (
                <div key={label} className="fact">
                  <dt>{label}</dt>
                  <dd>{value}</dd>
                </div>
              ))}
            </dl>
          </section>
        )
      })}
    </aside>
  )
}

/** `Doe^Jane^^Dr` → `Doe, Jane, Dr` (a DICOM person name for reading). */
export function dicomName(name: string | undefined): string | undefined {
  if (!name) return undefined
  return name
    .split('=')[0]!
    .split('^')
    .filter((part) => part.trim() !== '')
    .join(', ')
}

/** `20250301` → `2025-03-01`; anything else as it is. */
export function dicomDate(date: string | undefined): string | undefined {
  if (!date) return undefined
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(date)
  return m ? `${m[1]}-${m[2]}-${m[3]}` : date
}
