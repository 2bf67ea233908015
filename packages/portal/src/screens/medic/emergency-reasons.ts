/**
 * Emergency reason codes. The chain stores any code 0-255 and leaves its meaning to the application; this
 * is the same table the CLI uses (packages/cli/src/vocabulary.ts), so a patient sees the same words.
 */
export const EMERGENCY_REASONS = [
  { code: 1, name: 'unconscious', label: 'Patient unconscious' },
  { code: 2, name: 'trauma', label: 'Trauma' },
  { code: 3, name: 'cardiac', label: 'Cardiac emergency' },
  { code: 4, name: 'stroke', label: 'Stroke' },
  { code: 5, name: 'other', label: 'Other emergency' },
] as const

export function emergencyReasonLabel(code: number): string {
  if (code === 0) return 'Unspecified'
  return EMERGENCY_REASONS.find((r) => r.code === code)?.label ?? `Code ${code}`
}

export type EmergencyRow = {
  medic: `0x${string}`
  patient: `0x${string}`
  unitIndex: number
  reasonCode: number
  until: number
  active: boolean
  ended: boolean
  blockNumber: number
}
