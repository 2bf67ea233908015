/**
 * A copy of a Part 10 file with its 128-byte preamble zeroed. The preamble is free for applications
 * (PS3.10 7.1) and has been used to make files that are both DICOM and an executable (PS3.10 7.5,
 * "DICOM polyglots"); nothing of ours needs it, so it is cleared before a file is stored or served.
 * Bytes without a `DICM` prefix at offset 128 are returned copied, unchanged.
 */
export function zeroPreamble(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice()
  if (hasPreamble(copy)) copy.fill(0, 0, 128)
  return copy
}

/** True when `bytes` start with a 128-byte preamble followed by `DICM`. */
export function hasPreamble(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  )
}
