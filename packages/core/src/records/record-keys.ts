import { type Address, getAddress, type Hex } from 'viem'
import { unwrapKey } from '../crypto/unwrap-key.js'
import type { DekWrapContext } from '../crypto/wrap-context.js'
import { wrapKey } from '../crypto/wrap-key.js'
import { BaseError } from '../errors/base-error.js'
import type { RecipientRole, RecordEnvelope, WrappedKey } from './envelope.js'
import type { KeyBundle } from './key-bundle.js'

export class NoKeyForRecipientError extends BaseError {
  override name = 'NoKeyForRecipientError'
  constructor(address: Address) {
    super('No key for this account in the record or its grant', { code: 'NO_KEY', details: address })
  }
}

/** The HPKE context a record's DEK is wrapped under for `recipient`. */
export function recordWrapContext(
  envelope: Pick<RecordEnvelope, 'chainId' | 'contract' | 'manifest'>,
  recipient: Address,
): DekWrapContext {
  return {
    chainId: envelope.chainId,
    contract: envelope.contract,
    subject: envelope.manifest.multihash.digest,
    recipient,
  }
}

export type WrapForRecipientsParameters = {
  dek: Uint8Array
  envelope: Pick<RecordEnvelope, 'chainId' | 'contract' | 'manifest'>
  recipients: Array<{ address: Address; role: RecipientRole; publicKey: Uint8Array }>
}

export async function wrapForRecipients({
  dek,
  envelope,
  recipients,
}: WrapForRecipientsParameters): Promise<WrappedKey[]> {
  const seen = new Set<string>()
  const out: WrappedKey[] = []
  for (const recipient of recipients) {
    const address = getAddress(recipient.address)
    if (seen.has(address)) continue
    seen.add(address)
    const { enc, ct } = await wrapKey({
      key: dek,
      recipientPublicKey: recipient.publicKey,
      context: recordWrapContext(envelope, address),
    })
    out.push({ address, role: recipient.role, enc, ct })
  }
  return out
}

export type OpenRecordKeyParameters = {
  envelope: RecordEnvelope
  recordId: Hex
  address: Address
  privateKey: Uint8Array
  /** A grant key bundle to look in when the envelope has no entry for `address`. */
  bundle?: KeyBundle | undefined
}

/** Finds and unwraps the record's DEK for `address`, from the envelope or a grant key bundle. */
export async function openRecordKey(params: OpenRecordKeyParameters): Promise<Uint8Array> {
  const address = getAddress(params.address)
  const context = recordWrapContext(params.envelope, address)
  const own = params.envelope.recipients.find((r) => r.address === address)
  if (own) return unwrapKey({ enc: own.enc, ct: own.ct, recipientPrivateKey: params.privateKey, context })
  const entry = params.bundle?.entries.find((e) => e.record.toLowerCase() === params.recordId.toLowerCase())
  if (entry && params.bundle?.grantee === address) {
    return unwrapKey({ enc: entry.enc, ct: entry.ct, recipientPrivateKey: params.privateKey, context })
  }
  throw new NoKeyForRecipientError(address)
}
