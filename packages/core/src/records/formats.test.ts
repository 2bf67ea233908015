import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { decodeEnvelope, encodeEnvelope, type RecordEnvelope } from './envelope.js'
import { InvalidFormatError } from './errors.js'
import { decodeKeyBundle, encodeKeyBundle } from './key-bundle.js'
import { assertSafeRelativePath, decodeManifest, encodeManifest, type RecordManifest } from './manifest.js'
import { dagCborCidFromDigest, recordIdFromCid, verifyBlock } from './record-id.js'

const A = '0x1111111111111111111111111111111111111111'
const B = '0x2222222222222222222222222222222222222222'
const C = '0x3333333333333333333333333333333333333333'

async function someCid(seed: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(seed)))
}

async function manifest(): Promise<RecordManifest> {
  return {
    v: 1,
    type: 'pcmims/record-manifest',
    nonce: new Uint8Array(16).fill(7),
    kind: 'CT',
    patient: { address: A, name: 'Zebulon Quark', mrn: 'MRN-000991' },
    appointment: 'APT-77',
    description: 'Chest CT with contrast',
    date: '2026-11-20',
    createdAt: '2026-11-21T10:00:00.000Z',
    uploader: B,
    unit: C,
    files: [
      {
        path: 'series-1/IM0001.dcm',
        mediaType: 'application/dicom',
        size: 10,
        sha256: new Uint8Array(32).fill(1),
        cid: await someCid('a'),
        ciphertextSize: 90,
      },
    ],
  }
}

async function envelope(): Promise<RecordEnvelope> {
  return {
    v: 1,
    type: 'pcmims/record-envelope',
    chainId: 31337n,
    contract: C,
    kind: 'CT',
    patient: A,
    uploader: B,
    unit: C,
    manifest: await someCid('m'),
    manifestSize: 400,
    recipients: [
      { address: A, role: 'patient', enc: new Uint8Array(32).fill(2), ct: new Uint8Array(48).fill(3) },
    ],
  }
}

describe('manifest', () => {
  it('round-trips', async () => {
    const m = await manifest()
    const decoded = decodeManifest(encodeManifest(m))
    expect(decoded.patient.name).toBe('Zebulon Quark')
    expect(decoded.files[0]?.cid.equals(m.files[0]!.cid)).toBe(true)
    expect(decoded.uploader).toBe(B)
  })

  it('rejects unsafe paths on both ends', async () => {
    for (const path of ['/etc/passwd', '../x', 'a/../b', 'a//b', 'C:x', 'a\\b', 'a/./b', '']) {
      expect(() => assertSafeRelativePath(path)).toThrow(InvalidFormatError)
    }
    const m = await manifest()
    const bad = dagCbor.encode({
      ...dagCbor.decode<Record<string, unknown>>(encodeManifest(m)),
      files: [
        { ...(dagCbor.decode<{ files: object[] }>(encodeManifest(m)).files[0] as object), path: '../../x' },
      ],
    })
    expect(() => decodeManifest(bad)).toThrow(/Unsafe file path/)
  })

  it('rejects garbage with a typed error, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        try {
          decodeManifest(bytes)
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidFormatError)
        }
      }),
    )
  })
})

describe('envelope', () => {
  it('round-trips and its record id is the digest of its CID', async () => {
    const e = await envelope()
    const { bytes, cid, recordId } = await encodeEnvelope(e)
    expect(await verifyBlock(cid, bytes)).toBe(true)
    expect(recordIdFromCid(cid)).toBe(recordId)
    expect(dagCborCidFromDigest(recordId).equals(cid)).toBe(true)
    const decoded = decodeEnvelope(bytes)
    expect(decoded.chainId).toBe(31337n)
    expect(decoded.recipients[0]?.address).toBe(A)
  })

  it('carries no identifying text', async () => {
    const { bytes } = await encodeEnvelope(await envelope())
    expect(new TextDecoder('latin1').decode(bytes)).not.toMatch(/Zebulon|MRN|APT-77/)
  })

  it('rejects wrong key sizes and mutated fields', async () => {
    const e = await envelope()
    const bad = { ...e, recipients: [{ ...e.recipients[0]!, ct: new Uint8Array(10) }] }
    const { bytes } = await encodeEnvelope(bad)
    expect(() => decodeEnvelope(bytes)).toThrow(/schema/)
  })
})

describe('key bundle', () => {
  it('round-trips', async () => {
    const { bytes } = await encodeKeyBundle({
      v: 1,
      type: 'pcmims/key-bundle',
      chainId: 1n,
      contract: C,
      patient: A,
      grantee: B,
      entries: [{ record: `0x${'ab'.repeat(32)}`, enc: new Uint8Array(32), ct: new Uint8Array(48) }],
    })
    const bundle = decodeKeyBundle(bytes)
    expect(bundle.entries[0]?.record).toBe(`0x${'ab'.repeat(32)}`)
    expect(bundle.grantee).toBe(B)
  })
})
