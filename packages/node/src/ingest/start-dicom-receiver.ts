import { readFile, rm, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { type Address, getAddress } from 'viem'
import { ConfigError } from '../config.js'
import type { NodeContext } from '../context.js'
import { DimseStoreError } from '../dimse/errors.js'
import { type DimseReceiver, startDimseReceiver } from '../dimse/start-dimse-receiver.js'
import type { IngestSession } from './create-ingest.js'
import { IngestError } from './errors.js'

/**
 * The node's C-STORE receiver: what peers send goes to the ingest, named after the uploader account the
 * unit configured for the calling AE title; success is answered only once the instance is encrypted and
 * durably held. `devUploader` is the default on the development chain.
 */
export async function startDicomReceiver(
  ctx: NodeContext,
  devUploader: Address | undefined,
): Promise<DimseReceiver> {
  const { dimse } = ctx.config
  const fallback = dimse.uploader ?? (ctx.config.dev ? devUploader : undefined)
  if (!fallback && Object.keys(dimse.uploaders).length === 0) {
    throw new ConfigError(
      'The DICOM receiver needs an uploader account',
      'set dimse.uploader (or dimse.uploaders per calling AE title) to an approved Uploader of this unit',
    )
  }
  const uploaderFor = (callingAeTitle: string): Address | undefined => {
    const specific = dimse.uploaders[callingAeTitle.trim()]
    return specific ? getAddress(specific) : fallback ? getAddress(fallback) : undefined
  }
  const spoolDir = join(ctx.config.dataDir, 'dimse-spool')
  // Left by a crash: instances in clear that were never acknowledged, or already held encrypted by the
  // ingest. Either way they go (PHI in clear must not outlive the instance's hand-over).
  await rm(spoolDir, { recursive: true, force: true })
  // One ingest session per association: its studies are not sealed while it is open, however slowly the
  // peer sends; every instance it acknowledged is kept when it ends, released or aborted.
  const sessions = new Map<string, IngestSession>()
  const receiver = await startDimseReceiver({
    host: dimse.host,
    port: dimse.port,
    aeTitle: dimse.aeTitle,
    allowedCallingAeTitles: dimse.allowedCallingAeTitles,
    maxInstanceBytes: dimse.maxInstanceBytes,
    maxAssociations: dimse.maxAssociations,
    spoolDir,
    // The ingest stores each instance durably (encrypted) before it resolves: the clear spool copy is a buffer.
    durableSpool: false,
    logger: ctx.logger,
    async onInstance(instance, { signal }) {
      const uploader = uploaderFor(instance.callingAeTitle)
      if (!uploader) {
        throw new DimseStoreError(0x0124, 'No uploader account is configured for this calling AE title')
      }
      try {
        const bytes = new Uint8Array(await readFile(instance.path))
        let session = sessions.get(instance.associationId)
        if (!session) {
          session = ctx.ingest.openSession()
          sessions.set(instance.associationId, session)
        }
        await ctx.ingest.addInstance({
          session,
          source: { kind: 'dimse', callingAeTitle: instance.callingAeTitle.trim(), uploader },
          bytes,
          expectedSopInstanceUid: instance.sopInstanceUid,
          label: `C-STORE from ${instance.callingAeTitle.trim()}`,
          signal,
        })
      } catch (error) {
        if (error instanceof IngestError)
          throw new DimseStoreError(error.dimseStatus, error.shortMessage, error.details)
        throw error
      }
      // Encrypted and held by the ingest now: the clear spool copy goes.
      await unlink(instance.path).catch(() => {})
    },
    onAssociationEnd(end) {
      sessions.get(end.associationId)?.commit()
      sessions.delete(end.associationId)
    },
  })
  return receiver
}
