/*
 * dcmjs (https://github.com/dcmjs-org/dcmjs) is the DICOM library here: it reads and writes Part 10 in
 * every uncompressed and encapsulated transfer syntax, keeps datasets in the DICOM JSON model shape
 * (tag-keyed `{ vr, Value }`), ships the full data dictionary, runs in browsers and Node without
 * native code, and is what OHIF / Cornerstone3D use, so what we produce is what those viewers read.
 *
 * It ships no type declarations. Rather than a global `declare module 'dcmjs'` (which would collide with
 * any other package in the tree declaring it), the few parts we use are typed here, at one place.
 */
// biome-ignore lint/suspicious/noTsIgnore: dcmjs has no types; ts-ignore (not expect-error) stays valid if someone adds them.
// @ts-ignore
import dcmjsUntyped from 'dcmjs'

/** One element of a dcmjs (denaturalized) dataset: the DICOM JSON model shape plus dcmjs's raw values. */
export type DcmjsElement = {
  vr: string
  Value?: unknown[]
  /** Values as they were in the file (strings unparsed), when dcmjs kept them. */
  _rawValue?: unknown
  InlineBinary?: string
  BulkDataURI?: string
}

/** A dataset keyed by 8-digit upper-case hex tag (`00100010`). */
export type DcmjsDataset = Record<string, DcmjsElement>

type DcmjsDicomDict = {
  meta: DcmjsDataset
  dict: DcmjsDataset
  write(options?: { allowInvalidVRLength?: boolean }): ArrayBuffer
}

type DcmjsApi = {
  data: {
    DicomMessage: {
      readFile(
        buffer: ArrayBuffer,
        options?: {
          ignoreErrors?: boolean
          untilTag?: string | null
          noCopy?: boolean
          forceStoreRaw?: boolean
        },
      ): DcmjsDicomDict
    }
    DicomDict: new (meta: DcmjsDataset) => DcmjsDicomDict
    DicomMetaDictionary: {
      /** Keyed `(GGGG,EEEE)`; private tags `(gggg,"CREATOR",ee)`. */
      dictionary: Record<string, { tag: string; vr: string; vm: string; name: string } | undefined>
      nameMap: Record<string, { tag: string; vr: string; vm: string; name: string } | undefined>
    }
  }
}

export const dcmjs = dcmjsUntyped as DcmjsApi

type Loglevel = {
  setLevel(level: 'silent'): void
  getLogger(name: string): { setLevel(level: 'silent'): void }
}
// dcmjs prints to the console (a "validation" logger among others) while reading: lines that would break a
// node's JSON logs and may quote values. Our hardened reader reports what matters as typed errors instead.
{
  const log = (dcmjsUntyped as { log?: Loglevel }).log
  log?.setLevel('silent')
  log?.getLogger('validation.dcmjs').setLevel('silent')
}
