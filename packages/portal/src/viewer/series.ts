import type { ManifestFile, RecordManifest, StudyManifestInstance } from '@pcmims/core'

export type ViewerInstance = {
  /** Index into the manifest's `files`. */
  fileIndex: number
  file: ManifestFile
  meta: StudyManifestInstance | undefined
  frames: number
}

export type ViewerSeries = {
  key: string
  number: number | undefined
  modality: string | undefined
  description: string | undefined
  instances: ViewerInstance[]
  /** One stack entry per frame: which instance, which frame (1-based, undefined for single-frame). */
  images: Array<{ instance: number; frame: number | undefined }>
}

/** Instances without pixels (structured reports, presentation states) have no rows. */
function hasPixels(meta: StudyManifestInstance | undefined): boolean {
  return meta === undefined || (meta.rows ?? 0) > 0
}

/**
 * The study's series as the viewer shows them, from the sealed manifest: images only, each series in
 * InstanceNumber order (the manifest does not carry positions; uploads number their slices).
 */
export function seriesOf(manifest: RecordManifest): ViewerSeries[] {
  const byPath = new Map(manifest.files.map((file, index) => [file.path, index]))
  const out: ViewerSeries[] = []
  const used = new Set<number>()
  for (const series of manifest.study?.series ?? []) {
    const instances: ViewerInstance[] = []
    for (const meta of series.instances) {
      const fileIndex = meta.path === undefined ? undefined : byPath.get(meta.path)
      if (fileIndex === undefined || !hasPixels(meta)) continue
      used.add(fileIndex)
      instances.push({
        fileIndex,
        file: manifest.files[fileIndex]!,
        meta,
        frames: Math.max(1, meta.numberOfFrames ?? 1),
      })
    }
    if (instances.length === 0) continue
    instances.sort(
      (a, b) =>
        (a.meta?.instanceNumber ?? Number.MAX_SAFE_INTEGER) -
          (b.meta?.instanceNumber ?? Number.MAX_SAFE_INTEGER) || a.file.path.localeCompare(b.file.path),
    )
    out.push({
      key: series.seriesInstanceUid,
      number: series.seriesNumber,
      modality: series.modality,
      description: series.seriesDescription,
      instances,
      images: imagesOf(instances),
    })
  }
  // A record of DICOM files without a study description (older uploads): one series in path order.
  const rest = manifest.files
    .map((file, fileIndex) => ({ file, fileIndex }))
    .filter(({ file, fileIndex }) => !used.has(fileIndex) && isDicom(file) && !manifest.study)
  if (rest.length > 0) {
    rest.sort((a, b) => a.file.path.localeCompare(b.file.path))
    const instances = rest.map(({ file, fileIndex }) => ({ fileIndex, file, meta: undefined, frames: 1 }))
    out.push({
      key: 'files',
      number: undefined,
      modality: undefined,
      description: undefined,
      instances,
      images: imagesOf(instances),
    })
  }
  return out.sort((a, b) => (a.number ?? Number.MAX_SAFE_INTEGER) - (b.number ?? Number.MAX_SAFE_INTEGER))
}

function imagesOf(instances: ViewerInstance[]): ViewerSeries['images'] {
  return instances.flatMap<ViewerSeries['images'][number]>((instance, index) =>
    instance.frames > 1
      ? Array.from({ length: instance.frames }, (_, f) => ({ instance: index, frame: f + 1 }))
      : [{ instance: index, frame: undefined }],
  )
}

export function isDicom(file: ManifestFile): boolean {
  return file.mediaType === 'application/dicom' || /\.dcm$/i.test(file.path)
}

export function seriesLabel(series: ViewerSeries, index: number): string {
  const parts = [
    series.number !== undefined ? `Series ${series.number}` : `Series ${index + 1}`,
    series.modality,
    series.description,
  ].filter(Boolean)
  return parts.join(' · ')
}
