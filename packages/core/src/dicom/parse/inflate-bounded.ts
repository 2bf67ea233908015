import { Inflate } from 'fflate'

/*
 * fflate: small, dependency-free, isomorphic DEFLATE with a streaming API, so output can be counted as
 * it is produced. (dcmjs inflates Deflated Explicit VR Little Endian with pako in one call, unbounded:
 * a few kilobytes can claim gigabytes; that path is never used here.)
 */

/** Input is fed in slices this small so that one push cannot produce more than ~4 MiB past the cap. */
const INPUT_SLICE = 4096

export class InflateLimitError extends Error {}

/**
 * Inflates a raw DEFLATE stream (RFC 1951, no zlib header: PS3.5 A.5), refusing to produce more than
 * `maxOutput` bytes. Throws {@link InflateLimitError} past the cap, the inflater's error on corrupt data.
 */
export function inflateRawBounded(input: Uint8Array, maxOutput: number): Uint8Array {
  const chunks: Uint8Array[] = []
  let total = 0
  const inflater = new Inflate((chunk) => {
    total += chunk.length
    if (total > maxOutput) throw new InflateLimitError(`inflated data exceeds ${maxOutput} bytes`)
    if (chunk.length > 0) chunks.push(chunk)
  })
  if (input.length === 0) return new Uint8Array(0)
  for (let offset = 0; offset < input.length; offset += INPUT_SLICE) {
    const end = Math.min(offset + INPUT_SLICE, input.length)
    inflater.push(input.subarray(offset, end), end === input.length)
  }
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(total)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}
