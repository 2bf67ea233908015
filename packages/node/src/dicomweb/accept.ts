import { DicomTransferSyntax as TransferSyntax } from '@pcmims/core'
import { HttpError } from '../http/errors.js'

/** One media range of an Accept header: type, lower-cased parameters, quality. */
export type MediaRange = { type: string; params: Record<string, string>; q: number }

/** The media ranges of an Accept header, best first (stable for equal quality); absent means any. */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (header === undefined || header.trim() === '') return [{ type: '*/*', params: {}, q: 1 }]
  const ranges: MediaRange[] = []
  // Commas inside quoted parameter values do not split ranges.
  for (const text of header.match(/(?:[^,"]|"[^"]*")+/g) ?? []) {
    const [typePart, ...paramParts] = text.split(';')
    const type = typePart?.trim().toLowerCase() ?? ''
    if (type === '') continue
    const params: Record<string, string> = {}
    for (const part of paramParts) {
      const eq = part.indexOf('=')
      if (eq < 0) continue
      params[part.slice(0, eq).trim().toLowerCase()] = part
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1')
    }
    const q = params.q === undefined ? 1 : Number(params.q)
    if (!(q > 0)) continue
    ranges.push({ type, params, q: Math.min(q, 1) })
  }
  return ranges
    .map((r, i) => ({ r, i }))
    .sort((a, b) => b.r.q - a.r.q || a.i - b.i)
    .map(({ r }) => r)
}

export function notAcceptable(message: string, details?: string): HttpError {
  return new HttpError(406, message, { code: 'NOT_ACCEPTABLE', ...(details ? { details } : {}) })
}

/**
 * What a caller may take for a Part 10 instance, best first: `*` (as stored) or a transfer syntax UID.
 * PS3.18 8.7.3: `multipart/related; type="application/dicom"; transfer-syntax=…`; a missing
 * transfer-syntax is answered as stored (PS3.18 names Explicit VR Little Endian as the default, but
 * viewers and archives expect the stored one; an explicit `1.2.840.10008.1.2.1` gets it).
 * Throws 406 when no range can be a DICOM instance.
 */
export function instanceSyntaxChoices(header: string | undefined): string[] {
  const out: string[] = []
  for (const range of parseAccept(header)) {
    const innerType = range.params.type?.toLowerCase()
    const anyMultipart =
      (range.type === 'multipart/related' || range.type === 'multipart/*') &&
      (innerType === undefined || innerType === 'application/dicom')
    const dicom = range.type === 'application/dicom' || anyMultipart
    if (range.type === '*/*' || dicom) out.push(dicom ? (range.params['transfer-syntax'] ?? '*') : '*')
  }
  if (out.length === 0) {
    throw notAcceptable(
      'Instances are multipart/related; type="application/dicom"',
      'ask for transfer-syntax=* (as stored) or 1.2.840.10008.1.2.1',
    )
  }
  return out
}

/**
 * The transfer syntax to answer an instance stored in `stored` with, given the caller's choices:
 * the stored one, or Explicit VR Little Endian when `canTranscode`; undefined when none fits.
 */
export function pickInstanceSyntax(
  choices: string[],
  stored: string,
  canTranscode: boolean,
): string | undefined {
  for (const choice of choices) {
    if (choice === '*' || choice === stored) return stored
    if (choice === TransferSyntax.ExplicitVRLittleEndian && canTranscode) return choice
  }
  return undefined
}

/** Bitstream media types of compressed frames (PS3.18 Table 8.7.3-5): the default syntax first. */
const FRAME_MEDIA_TYPES: Record<string, string[]> = {
  'image/jpeg': [
    TransferSyntax.JpegBaseline,
    TransferSyntax.JpegExtended,
    TransferSyntax.JpegLossless,
    TransferSyntax.JpegLosslessSv1,
  ],
  'image/jls': [TransferSyntax.JpegLsLossless, TransferSyntax.JpegLsNearLossless],
  'image/jp2': [TransferSyntax.Jpeg2000Lossless, TransferSyntax.Jpeg2000],
  'image/jpx': ['1.2.840.10008.1.2.4.92', '1.2.840.10008.1.2.4.93'],
  'image/dicom-rle': [TransferSyntax.RleLossless],
}

/** The bitstream media type of frames stored in `syntax`, if it has one. */
export function frameMediaType(syntax: string): string | undefined {
  return Object.entries(FRAME_MEDIA_TYPES).find(([, syntaxes]) => syntaxes.includes(syntax))?.[0]
}

/** How to answer a frames request: decoded native bytes, or the stored bitstream as `mediaType`. */
export type FrameAnswer = { kind: 'decoded' } | { kind: 'stored'; mediaType: string }

/**
 * Frames negotiation: `application/octet-stream` with no transfer syntax (PS3.18's default) or Explicit VR
 * Little Endian is answered decoded; `transfer-syntax=*` (what Cornerstone and OHIF send) or the stored
 * syntax by name, or its bitstream type (`image/jls`, `image/jp2`, `image/jpeg`…), gets the stored
 * compressed frames untouched, the part's transfer-syntax saying which, so the viewer decodes them with
 * the instance's own colour metadata. Native frames are always answered decoded. Anything else is 406.
 */
export function pickFrameAnswer(
  header: string | undefined,
  stored: string,
  encapsulated: boolean,
): FrameAnswer {
  const storedType = encapsulated ? frameMediaType(stored) : undefined
  for (const range of parseAccept(header)) {
    const multipart = range.type === 'multipart/related' || range.type === 'multipart/*'
    const type = multipart ? (range.params.type?.toLowerCase() ?? 'application/octet-stream') : range.type
    const syntax = range.params['transfer-syntax']
    if (type === '*/*' || type === 'application/octet-stream') {
      if (encapsulated && (syntax === '*' || syntax === stored)) {
        return { kind: 'stored', mediaType: 'application/octet-stream' }
      }
      if (syntax === undefined || syntax === '*' || syntax === TransferSyntax.ExplicitVRLittleEndian) {
        return { kind: 'decoded' }
      }
      continue
    }
    const syntaxes = FRAME_MEDIA_TYPES[type]
    if (!syntaxes || !storedType || type !== storedType) continue
    if (syntax === '*' || syntax === stored || syntax === undefined) {
      return { kind: 'stored', mediaType: type }
    }
  }
  throw notAcceptable(
    'These frames cannot be answered in an accepted type',
    `stored as ${stored}; application/octet-stream (decoded) is always available`,
  )
}
