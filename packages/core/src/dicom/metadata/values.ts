import type { DcmjsDataset, DcmjsElement } from '../dcmjs.js'

/*
 * Typed reads from a dcmjs dataset. dcmjs parses IS/DS leniently ("1A" becomes 1); these read the raw
 * text it keeps and accept only what PS3.5 6.2 allows, so a bad value is absent rather than wrong.
 */

const IS = /^[+-]?\d{1,12}$/
const DS = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/

function rawValues(element: DcmjsElement | undefined): unknown[] {
  if (!element) return []
  const raw = element._rawValue
  if (Array.isArray(raw) && raw.length > 0) return raw
  if (typeof raw === 'string' || typeof raw === 'number') return [raw]
  return element.Value ?? []
}

function personName(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (value && typeof value === 'object') {
    const pn = value as { Alphabetic?: unknown; Ideographic?: unknown; Phonetic?: unknown }
    const groups = [pn.Alphabetic, pn.Ideographic, pn.Phonetic].map((g) => (typeof g === 'string' ? g : ''))
    return groups.join('=').replace(/=+$/, '')
  }
  return undefined
}

/** All values as trimmed strings (PN in its `Alphabetic=Ideographic=Phonetic` form). */
export function readStrings(dataset: DcmjsDataset, key: string): string[] {
  const element = dataset[key]
  if (!element?.Value) return []
  const out: string[] = []
  for (const value of element.Value) {
    const text =
      element.vr === 'PN'
        ? personName(value)
        : typeof value === 'string'
          ? value
          : typeof value === 'number'
            ? String(value)
            : undefined
    if (text !== undefined) out.push(text.replace(/[\0\s]+$/, '').replace(/^\s+/, ''))
  }
  return out
}

/** Multi-valued strings joined with `\` as in the file; undefined when empty. */
export function readString(dataset: DcmjsDataset, key: string): string | undefined {
  const values = readStrings(dataset, key)
  const joined = values.join('\\')
  return joined.replace(/\\+$/, '') === '' ? undefined : joined
}

/** A UID with NUL padding and any whitespace removed (as dcmtk does). */
export function readUid(dataset: DcmjsDataset, key: string): string | undefined {
  const value = dataset[key]?.Value?.[0]
  if (typeof value !== 'string') return undefined
  const uid = value.replace(/[\0\s]+/g, '')
  return uid === '' ? undefined : uid
}

/** Numbers of an IS, DS or binary numeric element; undefined if any value is not valid. */
export function readNumbers(dataset: DcmjsDataset, key: string): number[] | undefined {
  const element = dataset[key]
  if (!element) return undefined
  const values = element.vr === 'IS' || element.vr === 'DS' ? rawValues(element) : (element.Value ?? [])
  const out: number[] = []
  for (const value of values) {
    if (typeof value === 'number') {
      out.push(value)
      continue
    }
    if (typeof value === 'bigint') {
      out.push(Number(value))
      continue
    }
    if (typeof value !== 'string') return undefined
    const text = value.replace(/\0/g, '').trim()
    if (text === '') continue
    const pattern = element.vr === 'IS' ? IS : DS
    if (!pattern.test(text)) return undefined
    out.push(Number(text))
  }
  return out.length > 0 ? out : undefined
}

export function readNumber(dataset: DcmjsDataset, key: string): number | undefined {
  return readNumbers(dataset, key)?.[0]
}
