/**
 * Performance marks of one opening, in order: the click, the record view's code, the chain check and
 * manifest, the image viewer's code, Cornerstone ready, the first file decrypted, the first image
 * loaded and drawn, every image loaded. The benchmark (bench/src/portal-viewer.ts) and the viewer test
 * read them; they carry no ids and no data.
 */
export const OPEN_MARKS = [
  'pcmims:open-record',
  'pcmims:record-view',
  'pcmims:record-opened',
  'pcmims:image-viewer',
  'pcmims:cornerstone-ready',
  'pcmims:first-file-decrypted',
  'pcmims:first-image-loaded',
  'pcmims:first-image',
  'pcmims:all-images',
] as const

export type OpenMark = (typeof OPEN_MARKS)[number]

/** Starts the marks of a new opening (a click on "Open …", or "Try again"). */
export function markOpening(): void {
  for (const name of OPEN_MARKS) performance.clearMarks(name)
  performance.clearMeasures('pcmims:open-to-first-image')
  performance.clearMeasures('pcmims:open-to-all-images')
  performance.mark('pcmims:open-record')
}

/** Marks a phase of the current opening, once (a second viewer of the same opening does not move it). */
export function markPhase(name: Exclude<OpenMark, 'pcmims:open-record'>): void {
  if (performance.getEntriesByName(name, 'mark').length === 0) performance.mark(name)
}

/** `pcmims:open-to-<what>`: the time from the click, for the browser's performance panel. */
export function measureFromOpen(name: string, end: OpenMark): void {
  try {
    performance.measure(name, 'pcmims:open-record', end)
  } catch {
    // The open mark is gone (cleared by another opening); the marks themselves are what tests read.
  }
}
