/*
 * DICOMweb (PS3.18) on the node, over the DICOM study records this node is custodian of, for a
 * signed-in caller the chain lets read them decrypted (the patient, a download grantee, a medic in a
 * declared emergency: the rule of custody.ts). Every answer that carries PHI is audited. The routes
 * themselves live in dicomweb/dicomweb-app.ts, shared with `pcmims serve`; STOW-RS is stow.ts.
 */
import type { Hono } from 'hono'
import type { NodeContext } from '../../context.js'
import { custodialStudySource } from '../../dicomweb/custodial-source.js'
import { createDicomwebApp } from '../../dicomweb/dicomweb-app.js'

export const DICOMWEB_BASE = '/api/v1/dicomweb'

export function dicomwebRoutes(app: Hono, ctx: NodeContext): void {
  const source = custodialStudySource(ctx, { instanceBytes: ctx.config.dicomweb.cacheBytes })
  app.route('/', createDicomwebApp({ source, basePath: DICOMWEB_BASE }))
}
