/** A window (width) and level (centre) in the image's output units (Hounsfield units for CT). */
export type WindowPreset = { id: string; label: string; width: number; center: number }

/** The usual CT windows; other modalities have no fixed scale and use the file's own window. */
export const CT_PRESETS: WindowPreset[] = [
  { id: 'soft-tissue', label: 'Soft tissue', width: 400, center: 40 },
  { id: 'lung', label: 'Lung', width: 1500, center: -600 },
  { id: 'bone', label: 'Bone', width: 2000, center: 300 },
  { id: 'brain', label: 'Brain', width: 80, center: 40 },
]

export function presetsFor(modality: string | undefined): WindowPreset[] {
  return modality?.toUpperCase() === 'CT' ? CT_PRESETS : []
}

export function voiRange(width: number, center: number): { lower: number; upper: number } {
  return { lower: center - width / 2, upper: center + width / 2 }
}
