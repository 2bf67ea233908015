/**
 * A tiny tag scan, enough to pull identifying strings out of explicit-VR little-endian test fixtures:
 * finds the first `(gggg,eeee) VR len16` element of a tag and returns its trimmed text. Not a parser.
 */
export function readDicomString(bytes: Uint8Array, group: number, element: number): string | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const tag = Buffer.from([group & 0xff, group >> 8, element & 0xff, element >> 8])
  // Skip the 128-byte preamble and "DICM"; file meta (group 0002) cannot match the groups we ask for.
  for (let at = b.indexOf(tag, 132); at >= 0 && at + 8 <= b.length; at = b.indexOf(tag, at + 1)) {
    const vr = b.toString('latin1', at + 4, at + 6)
    if (!/^[A-Z]{2}$/.test(vr)) continue
    const length = b.readUInt16LE(at + 6)
    if (at + 8 + length > b.length) return undefined
    return b
      .toString('latin1', at + 8, at + 8 + length)
      .replace(/[\0 ]+$/, '')
      .trim()
  }
  return undefined
}

export const DICOM_TAGS = {
  patientName: [0x0010, 0x0010],
  patientId: [0x0010, 0x0020],
  patientBirthDate: [0x0010, 0x0030],
  accessionNumber: [0x0008, 0x0050],
  studyDescription: [0x0008, 0x1030],
  studyInstanceUid: [0x0020, 0x000d],
  seriesInstanceUid: [0x0020, 0x000e],
  sopInstanceUid: [0x0008, 0x0018],
} as const

export type DicomIdentifiers = Partial<Record<keyof typeof DICOM_TAGS, string>>

export function readDicomIdentifiers(bytes: Uint8Array): DicomIdentifiers {
  const out: DicomIdentifiers = {}
  for (const [name, [group, element]] of Object.entries(DICOM_TAGS)) {
    const value = readDicomString(bytes, group, element)
    if (value) out[name as keyof typeof DICOM_TAGS] = value
  }
  return out
}
