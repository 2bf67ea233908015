/**
 * The receiver's implementation identity in the file meta it writes (PS3.7 D.3.3.2): a UUID-derived UID
 * (PS3.5 B.2) so no registered root is needed.
 */
export const IMPLEMENTATION_CLASS_UID = '2.25.300515181851732110397856918014341862992'
export const IMPLEMENTATION_VERSION_NAME = 'PCMIMS_DIMSE_1'

export type FileMetaParameters = {
  sopClassUid: string
  sopInstanceUid: string
  transferSyntaxUid: string
  /** The AE that sent the instance: (0002,0016) Source Application Entity Title. */
  sourceAeTitle?: string | undefined
}

/**
 * The 128-byte preamble (zeros), "DICM" and the File Meta Information group (explicit VR little endian,
 * PS3.10 7.1) for a data set received over the network, so preamble + meta + the received bytes is a
 * Part 10 file. The values must already be valid UIDs and an AE title (the caller checks them).
 */
export function fileMetaHeader({
  sopClassUid,
  sopInstanceUid,
  transferSyntaxUid,
  sourceAeTitle,
}: FileMetaParameters): Buffer {
  const elements = [
    element(0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 'UI', uidValue(sopClassUid)),
    element(0x0003, 'UI', uidValue(sopInstanceUid)),
    element(0x0010, 'UI', uidValue(transferSyntaxUid)),
    element(0x0012, 'UI', uidValue(IMPLEMENTATION_CLASS_UID)),
    element(0x0013, 'SH', textValue(IMPLEMENTATION_VERSION_NAME)),
    ...(sourceAeTitle ? [element(0x0016, 'AE', textValue(sourceAeTitle))] : []),
  ]
  const groupLength = elements.reduce((n, e) => n + e.length, 0)
  const lengthElement = element(0x0000, 'UL', Buffer.alloc(4))
  lengthElement.writeUInt32LE(groupLength, 8)
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), lengthElement, ...elements])
}

// UIDs are padded with a NUL, text with a space, to an even length (PS3.5 6.2).
function uidValue(uid: string): Buffer {
  return Buffer.from(uid.length % 2 ? `${uid}\0` : uid, 'latin1')
}

function textValue(text: string): Buffer {
  return Buffer.from(text.length % 2 ? `${text} ` : text, 'latin1')
}

function element(elementNumber: number, vr: string, value: Buffer): Buffer {
  const longForm = vr === 'OB'
  const header = Buffer.alloc(longForm ? 12 : 8)
  header.writeUInt16LE(0x0002, 0)
  header.writeUInt16LE(elementNumber, 2)
  header.write(vr, 4, 'latin1')
  if (longForm) header.writeUInt32LE(value.length, 8)
  else header.writeUInt16LE(value.length, 6)
  return Buffer.concat([header, value])
}
